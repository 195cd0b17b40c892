"""RMSNorm (and the fused residual add + RMSNorm) with the normalised dim split over cores: the plan for
decode-sized inputs, where a tensor has too few tile rows to keep the grid busy (32 rows x H is ONE tile row).

Two operations; each work item is a *slice* of a tile row: tile row ``r``, slice ``s`` of ``S``, the chunks
``[s NCH / S, (s + 1) NCH / S)`` of its ``NCH`` chunks of ``BC`` tiles (``RT * S`` items dealt round-robin over
the flattened grid, as the single-op kernel deals tile rows):

1. **sum of squares** (``sumsq_op``): per item, the slice of x (and of the residual, ``ADD = 1``: then
   ``h = x + residual`` goes to the writer and is what is squared), ``ss = (sum_chunks (x*x [* MASK]) @ ONES) * E0``
   (1 tile, column 0 = the slice's row sums, the rest 0), written to tile ``(r, s)`` of a partial-sums tensor
   (``S`` tile columns).  MASK (read by the item holding the last chunk, only when H is not a multiple of 32)
   zeroes the padding columns of that chunk.
2. **scale** (``scale_op``): per item, the ``S`` partial tiles of its row as one ``1 x S`` block,
   ``tot = part @ ONES (S x 1)``, ``r = rsqrt(tot / H + eps)``, ``A = r * E0`` (the per-row factor in column 0),
   then per chunk of the slice ``y = x * (A @ gamma_chunk)`` with x (or h) read again.

DRAM traffic over the plain one-op kernel: x (h) read a second time, the partial sums (``RT * S`` tiles
written, ``RT * S * S`` read), E0 once per core of each op and MASK once per tile row (H not a multiple of 32).
:func:`._common.plan_norm` takes this plan for few tile rows (:func:`._common.split_slices`).  Every matmul is
stored alone, ``fill`` only alone, every waited block feeds a store (the 1.1.1 dialect rules); with ``ADD = 0``
the residual buffer is x's under another name and the h buffer is never filled, both used only inside
``if ADD == 1:`` (a buffer has one producer and one consumer thread, so h cannot be an alias).
"""

from __future__ import annotations

from functools import cache

from ..runtime import ttl
from ._common import NormPlan


@cache
def make_split_ops(plan: NormPlan, eps: float, add: int, backend: str):
    """``(sumsq_op, scale_op)`` for ``plan`` (``plan.slices > 1``), eps and ``add`` (``backend``: cache key only)."""
    GX, NC = plan.gx, plan.n_cores
    S, BC, NCH = plan.slices, plan.bc, plan.nch
    ITEMS = plan.rows_t * plan.slices
    LAST = 1 if plan.rem else 0  # the last chunk has padding columns: MASK comes from DRAM
    INVH = 1.0 / plan.cols
    EPS = float(eps)
    ADD = int(add)

    def sumsq_threads(x, res, e0, mask, h, part):
        """Trace-time builder of the sum-of-squares op (plain Python while the operation is traced)."""
        e_dfb = ttl.make_dataflow_buffer_like(e0, shape=(1, 1), block_count=1)
        ones_dfb = ttl.make_dataflow_buffer_like(mask, shape=(BC, 1), block_count=1)
        mk_dfb = ttl.make_dataflow_buffer_like(mask, shape=(1, BC), block_count=1)
        x_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, BC), block_count=2)
        sq_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, BC), block_count=1)
        acc_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, 1), block_count=2)
        ss_dfb = ttl.make_dataflow_buffer_like(part, shape=(1, 1), block_count=2)
        h_dfb = ttl.make_dataflow_buffer_like(h, shape=(1, BC), block_count=2)  # (ADD = 0: never used)
        if ADD == 1:
            res_dfb = ttl.make_dataflow_buffer_like(res, shape=(1, BC), block_count=2)
        else:
            res_dfb = x_dfb

        @ttl.compute()
        def compute():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            if core < ITEMS:
                with ones_dfb.reserve() as o:
                    o.store(ttl.math.fill(o, 1.0))
                with ones_dfb.wait() as jb, e_dfb.wait() as eb:
                    for item in range(core, ITEMS, NC):  # items core, core + NC, ...
                        s = item % S
                        with acc_dfb.reserve() as a0:
                            a0.store(ttl.math.fill(a0, 0.0))
                        for c in range((s * NCH) // S, ((s + 1) * NCH) // S):
                            # sq = x*x (h*h), times MASK on the last chunk when H has padding columns
                            with x_dfb.wait() as xb, sq_dfb.reserve() as sb:
                                if ADD == 1:
                                    with res_dfb.wait() as rb:
                                        with h_dfb.reserve() as hb:
                                            hb.store(xb + rb)
                                        if (c == NCH - 1) and (LAST == 1):
                                            with mk_dfb.wait() as mb:
                                                sb.store((xb + rb) * (xb + rb) * mb)
                                        else:
                                            sb.store((xb + rb) * (xb + rb))
                                else:
                                    if (c == NCH - 1) and (LAST == 1):
                                        with mk_dfb.wait() as mb:
                                            sb.store(xb * xb * mb)
                                    else:
                                        sb.store(xb * xb)
                            with sq_dfb.wait() as sb, acc_dfb.wait() as prev, acc_dfb.reserve() as acc:
                                acc.store(prev + sb @ jb)
                        # the row sums in column 0 only (times E0), so the scale op's sum over slices is exact
                        with acc_dfb.wait() as ab, ss_dfb.reserve() as ob:
                            ob.store(ab * eb)

        @ttl.datamovement()
        def reader():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            if core < ITEMS:
                with e_dfb.reserve() as eb:
                    te = ttl.copy(e0[0:1, 0:1], eb)
                    te.wait()
                for item in range(core, ITEMS, NC):
                    r = item // S
                    s = item % S
                    for c in range((s * NCH) // S, ((s + 1) * NCH) // S):
                        with x_dfb.reserve() as xb:  # x and residual chunks in flight together
                            tx = ttl.copy(x[r:r + 1, c * BC:c * BC + BC], xb)
                            if ADD == 1:
                                with res_dfb.reserve() as rb:
                                    tr = ttl.copy(res[r:r + 1, c * BC:c * BC + BC], rb)
                                    tr.wait()
                            tx.wait()
                        if (c == NCH - 1) and (LAST == 1):  # the last chunk's column mask
                            with mk_dfb.reserve() as mb:
                                tm = ttl.copy(mask[0:1, 0:BC], mb)
                                tm.wait()

        @ttl.datamovement()
        def writer():
            cx, cy = ttl.node(dims=2)
            for item in range(cy * GX + cx, ITEMS, NC):
                r = item // S
                s = item % S
                if ADD == 1:  # h, chunk by chunk
                    for c in range((s * NCH) // S, ((s + 1) * NCH) // S):
                        with h_dfb.wait() as hb:
                            th = ttl.copy(hb, h[r:r + 1, c * BC:c * BC + BC])
                            th.wait()
                with ss_dfb.wait() as ob:
                    tp = ttl.copy(ob, part[r:r + 1, s:s + 1])
                    tp.wait()

    if ADD == 1:
        @ttl.operation(grid=(plan.gx, plan.gy))
        def add_sumsq_op(x, res, e0, mask, h, part):
            sumsq_threads(x, res, e0, mask, h, part)

        sumsq_op = add_sumsq_op
    else:
        @ttl.operation(grid=(plan.gx, plan.gy))
        def sumsq_op(x, e0, mask, h, part):  # h: a never-touched (1 x BC tiles) tensor for the ADD-only arms
            sumsq_threads(x, h, e0, mask, h, part)

    @ttl.operation(grid=(plan.gx, plan.gy))
    def scale_op(x, gamma, e0, part, y):
        e_dfb = ttl.make_dataflow_buffer_like(e0, shape=(1, 1), block_count=1)
        pt_dfb = ttl.make_dataflow_buffer_like(part, shape=(1, S), block_count=2)
        onesp_dfb = ttl.make_dataflow_buffer_like(part, shape=(S, 1), block_count=1)
        tot_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, 1), block_count=1)
        r_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, 1), block_count=1)
        a_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, 1), block_count=1)
        x_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, BC), block_count=2)
        g_dfb = ttl.make_dataflow_buffer_like(gamma, shape=(1, BC), block_count=2)
        f_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, BC), block_count=1)
        y_dfb = ttl.make_dataflow_buffer_like(y, shape=(1, BC), block_count=2)

        @ttl.compute()
        def compute():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            if core < ITEMS:
                with onesp_dfb.reserve() as o:
                    o.store(ttl.math.fill(o, 1.0))
                with e_dfb.wait() as eb, onesp_dfb.wait() as jb:
                    for item in range(core, ITEMS, NC):
                        s = item % S
                        # the row's sum of squares from the S partial tiles, then the per-row factor in column 0
                        with pt_dfb.wait() as pb, tot_dfb.reserve() as tb:
                            tb.store(pb @ jb)
                        with tot_dfb.wait() as tb, r_dfb.reserve() as rb:
                            rb.store(ttl.math.rsqrt(tb * ttl.math.fill(rb, INVH) + ttl.math.fill(rb, EPS)))
                        with r_dfb.wait() as rb, a_dfb.reserve() as ab:  # (a separate store: fused with the
                            ab.store(rb * eb)  # fills above it miscompiles)
                        with a_dfb.wait() as ab:
                            for _c in range((s * NCH) // S, ((s + 1) * NCH) // S):
                                with g_dfb.wait() as gb, f_dfb.reserve() as fb:
                                    fb.store(ab @ gb)
                                with f_dfb.wait() as fb, x_dfb.wait() as xb, y_dfb.reserve() as yb:
                                    yb.store(xb * fb)

        @ttl.datamovement()
        def reader():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            if core < ITEMS:
                with e_dfb.reserve() as eb:
                    te = ttl.copy(e0[0:1, 0:1], eb)
                    te.wait()
                for item in range(core, ITEMS, NC):
                    r = item // S
                    s = item % S
                    with pt_dfb.reserve() as pb:
                        tp = ttl.copy(part[r:r + 1, 0:S], pb)
                        tp.wait()
                    for c in range((s * NCH) // S, ((s + 1) * NCH) // S):
                        with g_dfb.reserve() as gb, x_dfb.reserve() as xb:
                            tg = ttl.copy(gamma[0:1, c * BC:c * BC + BC], gb)
                            tx = ttl.copy(x[r:r + 1, c * BC:c * BC + BC], xb)
                            tg.wait()
                            tx.wait()

        @ttl.datamovement()
        def writer():
            cx, cy = ttl.node(dims=2)
            for item in range(cy * GX + cx, ITEMS, NC):
                r = item // S
                s = item % S
                for c in range((s * NCH) // S, ((s + 1) * NCH) // S):
                    with y_dfb.wait() as yb:
                        ty = ttl.copy(yb, y[r:r + 1, c * BC:c * BC + BC])
                        ty.wait()

    return sumsq_op, scale_op
