"""RMSNorm ``y = x * rsqrt(mean(x^2, -1) + eps) * gamma`` over the last dim of a 2-D tensor, and the
kernel it shares with the fused residual add + RMSNorm (:mod:`.add_rmsnorm`, ``ADD = 1``).

Shapes: x is ``rows x H`` elements = ``RT x HT`` tiles (``RT = ceil(rows/32)``, ``HT = ceil(H/32)``);
gamma has H elements (one tile row of storage, only its row 0 is read); y is like x.  eps is a
compile-time constant of the kernel.  With ``ADD = 1`` a residual like x comes in too, the kernel
normalises ``h = x + residual`` instead of x and writes h as a second output.

Dataflow per tile row (32 rows x HT tiles), see :mod:`._common` for the plan and the constant tiles:

``reader``   E0 (1 tile) and, for H not a multiple of 32, MASK (1 x BC tiles) once per core; then the
             tile row of x (and residual) as NCH chunks of 1 x BC tiles; then, per chunk, the chunk of x
             (and residual) again when the plan is two-pass, and the chunk of gamma.
``compute``  sweep 1, per chunk: (``h = x + residual`` to the writer; below, x stands for h) keep a copy
             of the chunk in L1 (resident plan), ``sq = x*x`` (times MASK on the last chunk),
             ``acc += sq @ ONES`` (1 x 1 tile; every column = the row sum).
             Then ``r = rsqrt(acc / H + eps)`` and ``A = r * E0`` (1 tile each, the per-row factor in
             column 0; two stores, because fusing the multiply with the two fills miscompiles).
             Sweep 2, per chunk: ``F = A @ gamma_chunk`` (1 x BC: ``inv[r] * gamma[c]``), ``y = x * F``
             with x from the kept copy (resident) or the second stream (two-pass).
``writer``   per tile row (the NCH chunks of h, then) the NCH chunks of y.

Decode-sized inputs (too few tile rows to fill the grid) take the *split* plan instead: two operations with
the row cut into slices over cores (:mod:`._split`; :func:`._common.split_slices` decides).

DRAM traffic per tile row: x read once (resident) or twice (two-pass), gamma HT tiles, y written once;
per core E0 (+ MASK) once; with ``ADD`` the residual read like x and h written like y.  13 dataflow
buffers (15 with ``ADD``; WH allows 32); L1 per core (:func:`._common.l1_tiles`): HT + 11 BC + 5 tiles,
698 KiB at H = 8192 in bf16, 884 KiB at H = 4096 in fp32 (wider fp32 rows take the two-pass plan,
404 KiB); with ``ADD`` HT + 15 BC + 5.  Every matmul is stored on its own, ``fill`` is used on single tiles
or alone, and every waited block feeds a store (the 1.1.1 dialect rules).
"""

from __future__ import annotations

from functools import cache

from .. import runtime
from .._api import as_tile, check_2d, const_key, result, tensor_info, wants_torch
from ..host import TILE, empty
from ..runtime import ttl
from ._common import NORM_DTYPES, NormPlan, check_eps, e0_tile, mask_block, plan_norm, weight_tile
from ._split import make_split_ops

CHUNK_BUFFERS = 11  # x (2) + ONES + 2 MASK + sq + gamma (2) + F + y (2), in BC-tile units


@cache
def make_rmsnorm(plan: NormPlan, eps: float, add: int, backend: str):
    """Compile-time constants: the plan (tensor size in tiles, chunking, grid, one/two pass), eps and
    ``add`` (1: the fused residual add, 0: plain RMSNorm).  ``backend`` is part of the cache key only."""
    GX, NC, RT = plan.gx, plan.n_cores, plan.rows_t
    BC, NCH = plan.bc, plan.nch
    LAST = 1 if plan.rem else 0  # the last chunk has padding columns: MASK comes from DRAM
    TWO = 0 if plan.resident else 1
    KEEP = NCH if plan.resident else 1
    INVH = 1.0 / plan.cols
    EPS = float(eps)
    ADD = int(add)

    def buffers_and_threads(x, res, gamma, e0, mask, h, y):
        """Runs while the operation is traced (plain Python): the dataflow buffers and the three threads.
        Without the residual add the op passes x as ``res`` and y as ``h``; their buffers are then x's and
        y's under another name, used only inside ``if ADD == 1:`` (a compile-time constant: the compiler
        drops those branches and the simulator never enters them)."""
        e_dfb = ttl.make_dataflow_buffer_like(e0, shape=(1, 1), block_count=1)
        ones_dfb = ttl.make_dataflow_buffer_like(mask, shape=(BC, 1), block_count=1)
        hm_dfb = ttl.make_dataflow_buffer_like(mask, shape=(1, BC), block_count=1)
        m_dfb = ttl.make_dataflow_buffer_like(mask, shape=(1, BC), block_count=1)
        x_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, BC), block_count=2)
        keep_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, BC), block_count=KEEP)
        sq_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, BC), block_count=1)
        acc_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, 1), block_count=2)
        r_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, 1), block_count=1)
        a_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, 1), block_count=1)
        g_dfb = ttl.make_dataflow_buffer_like(gamma, shape=(1, BC), block_count=2)
        f_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, BC), block_count=1)
        y_dfb = ttl.make_dataflow_buffer_like(y, shape=(1, BC), block_count=2)
        if ADD == 1:
            res_dfb = ttl.make_dataflow_buffer_like(res, shape=(1, BC), block_count=2)
            h_dfb = ttl.make_dataflow_buffer_like(h, shape=(1, BC), block_count=2)
        else:
            res_dfb, h_dfb = x_dfb, y_dfb

        @ttl.compute()
        def compute():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            if core < RT:
                with ones_dfb.reserve() as o:
                    o.store(ttl.math.fill(o, 1.0))
                if LAST == 0:
                    with m_dfb.reserve() as mk:
                        mk.store(ttl.math.fill(mk, 1.0))
                else:  # (a buffer has one producer thread: the reader's copy goes through hm_dfb)
                    with hm_dfb.wait() as hb, m_dfb.reserve() as mk:
                        mk.store(hb)
                with e_dfb.wait() as eb, ones_dfb.wait() as jb, m_dfb.wait() as mb:
                    for _row in range(core, RT, NC):  # tile rows core, core + NC, ...
                        with acc_dfb.reserve() as a0:
                            a0.store(ttl.math.fill(a0, 0.0))
                        # sweep 1: sum of squares, 1 x BC tiles at a time (MASK on the last chunk)
                        for c in range(NCH):
                            with x_dfb.wait() as xb, sq_dfb.reserve() as sb:
                                if ADD == 1:
                                    with res_dfb.wait() as rb:
                                        with h_dfb.reserve() as hb:
                                            hb.store(xb + rb)
                                        if TWO == 0:
                                            with keep_dfb.reserve() as kb:
                                                kb.store(xb + rb)
                                        if c == NCH - 1:
                                            sb.store((xb + rb) * (xb + rb) * mb)
                                        else:
                                            sb.store((xb + rb) * (xb + rb))
                                else:
                                    if TWO == 0:
                                        with keep_dfb.reserve() as kb:
                                            kb.store(xb)
                                    if c == NCH - 1:
                                        sb.store(xb * xb * mb)
                                    else:
                                        sb.store(xb * xb)
                            with sq_dfb.wait() as sb, acc_dfb.wait() as prev, acc_dfb.reserve() as acc:
                                acc.store(prev + sb @ jb)
                        # per-row factor in column 0 of one tile
                        with acc_dfb.wait() as ss, r_dfb.reserve() as rb:
                            rb.store(ttl.math.rsqrt(ss * ttl.math.fill(rb, INVH) + ttl.math.fill(rb, EPS)))
                        with r_dfb.wait() as rb, a_dfb.reserve() as ab:  # (a separate store: fused with the
                            ab.store(rb * eb)  # fills above it miscompiles)
                        # sweep 2: y = x * (A @ gamma), x kept in L1 or streamed again
                        with a_dfb.wait() as ab:
                            for _chunk in range(NCH):
                                with g_dfb.wait() as gb, f_dfb.reserve() as fb:
                                    fb.store(ab @ gb)
                                if TWO == 0:
                                    with f_dfb.wait() as fb, keep_dfb.wait() as kb, y_dfb.reserve() as yb:
                                        yb.store(kb * fb)
                                else:
                                    with f_dfb.wait() as fb, x_dfb.wait() as xb, y_dfb.reserve() as yb:
                                        if ADD == 1:
                                            with res_dfb.wait() as rb:
                                                yb.store((xb + rb) * fb)
                                        else:
                                            yb.store(xb * fb)

        @ttl.datamovement()
        def reader():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            if core < RT:
                with e_dfb.reserve() as eb:
                    te = ttl.copy(e0[0:1, 0:1], eb)
                    te.wait()
                if LAST == 1:
                    with hm_dfb.reserve() as hb:
                        tm = ttl.copy(mask[0:1, 0:BC], hb)
                        tm.wait()
                for r in range(core, RT, NC):  # tile rows core, core + NC, ...
                    # sweep 1 reads every chunk of x; sweep 2 reads x again (two-pass plan) and gamma
                    for sweep in range(2):
                        for c in range(NCH):
                            if (sweep == 0) or (TWO == 1):
                                with x_dfb.reserve() as xb:  # x and residual chunks in flight together
                                    tx = ttl.copy(x[r:r + 1, c * BC:c * BC + BC], xb)
                                    if ADD == 1:
                                        with res_dfb.reserve() as rb:
                                            tr = ttl.copy(res[r:r + 1, c * BC:c * BC + BC], rb)
                                            tr.wait()
                                    tx.wait()
                            if sweep == 1:
                                with g_dfb.reserve() as gb:
                                    tg = ttl.copy(gamma[0:1, c * BC:c * BC + BC], gb)
                                    tg.wait()

        @ttl.datamovement()
        def writer():
            cx, cy = ttl.node(dims=2)
            for r in range(cy * GX + cx, RT, NC):  # tile rows core, core + NC, ...
                if ADD == 1:  # h, chunk by chunk during sweep 1
                    for c in range(NCH):
                        with h_dfb.wait() as hb:
                            th = ttl.copy(hb, h[r:r + 1, c * BC:c * BC + BC])
                            th.wait()
                for c in range(NCH):
                    with y_dfb.wait() as yb:
                        ty = ttl.copy(yb, y[r:r + 1, c * BC:c * BC + BC])
                        ty.wait()

    if ADD == 1:
        @ttl.operation(grid=(plan.gx, plan.gy))
        def add_rmsnorm_op(x, res, gamma, e0, mask, h, y):
            buffers_and_threads(x, res, gamma, e0, mask, h, y)

        return add_rmsnorm_op

    @ttl.operation(grid=(plan.gx, plan.gy))
    def rmsnorm_op(x, gamma, e0, mask, y):
        buffers_and_threads(x, x, gamma, e0, mask, y, y)

    return rmsnorm_op


def rms_norm_plan(rows: int, cols: int, dtype: str) -> NormPlan:
    """The plan :func:`rms_norm` uses for a ``rows x cols`` input on the active target."""
    return plan_norm(rows, cols, dtype, runtime.grid(), CHUNK_BUFFERS)


@cache
def split_dummy(bc: int, dtype: str, key: str):
    """The tensor the split plan's sum-of-squares op names for the residual and h in its residual-add-only arms
    when there is no residual (never read or written; one per chunk width)."""
    return empty((TILE, bc * TILE), dtype)


def run_rmsnorm(plan: NormPlan, eps: float, ins: tuple, outs: tuple, dtype: str) -> None:
    """Launch the kernel for ``plan`` on TileTensors: ``ins`` = (x, gamma) or (x, residual, gamma),
    ``outs`` = (y,) or (h, y); the residual add is on when a residual is given.  A split plan
    (:mod:`._split`) runs two operations: the per-slice sums of squares, then the scale."""
    ckey = const_key()
    add = len(ins) - 2
    mask = mask_block(plan.bc, plan.last_valid_cols, dtype, ckey)
    if plan.split:
        sumsq, scale = make_split_ops(plan, eps, add, runtime.backend_name())
        part = empty((max(plan.rows_t, plan.slices) * TILE, plan.slices * TILE), dtype)
        e0 = e0_tile(dtype, ckey)
        if add:
            sumsq(ins[0].tt, ins[1].tt, e0.tt, mask.tt, outs[0].tt, part.tt)
        else:
            sumsq(ins[0].tt, e0.tt, mask.tt, split_dummy(plan.bc, dtype, ckey).tt, part.tt)
        scale(outs[0].tt if add else ins[0].tt, ins[-1].tt, e0.tt, part.tt, outs[-1].tt)
        return
    consts = (e0_tile(dtype, ckey), mask)
    op = make_rmsnorm(plan, eps, add, runtime.backend_name())
    op(*(t.tt for t in ins + consts + outs))


def rms_norm(x, gamma, eps: float = 1e-6):
    """RMSNorm over the last dim: ``x * rsqrt(mean(x^2) + eps) * gamma``.

    x: 2-D ``rows x H`` (bf16 or fp32; torch tensor or TileTensor), any rows >= 1 and H >= 1.
    gamma: H elements, same dtype as x (torch [H] / [1, H], or a TileTensor of shape (1, H)).
    eps: > 0, a compile-time constant (one compiled kernel per value).
    Returns y like x (torch in, torch out; TileTensor in, TileTensor out)."""
    eps = check_eps(eps)
    shape, dtype = tensor_info(x, "x", NORM_DTYPES)
    rows, cols = check_2d(shape, "x")
    g = weight_tile(gamma, cols, dtype, "gamma")
    out = empty((rows, cols), dtype)
    run_rmsnorm(rms_norm_plan(rows, cols, dtype), eps, (as_tile(x, dtype), g), (out,), dtype)
    return result(out, wants_torch(x))
