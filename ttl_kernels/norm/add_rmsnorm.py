"""Fused residual add + RMSNorm for the pre-norm decoder: ``h = x + residual``, ``y = rmsnorm(h) * gamma``.

Shapes: x and residual are ``rows x H`` elements = ``RT x HT`` tiles; gamma has H elements (only row 0
of its tile storage is read); h and y are like x.  eps is a compile-time constant of the kernel.

Dataflow per tile row (32 rows x HT tiles), see :mod:`._common` for the plan and the constant tiles:

``reader``   E0 (1 tile) and, for H not a multiple of 32, MASK (1 x BC tiles) once per core; then the
             tile row of x and residual as NCH chunks of 1 x BC tiles each (twice when the plan is
             two-pass), then the NCH chunks of gamma.
``compute``  sweep 1, per chunk: ``h = x + residual`` to the writer and (resident plan) to a kept copy in
             L1, ``sq = h*h`` (times MASK on the last chunk), ``acc += sq @ ONES`` (1 x 1 tile; every
             column = the row sum).  Then ``r = rsqrt(acc / H + eps)`` and ``A = r * E0`` (1 tile each: the
             factor in column 0; two stores, because fusing the multiply with the two fills miscompiles).
             Sweep 2, per chunk: ``F = A @ gamma_chunk`` (1 x BC: ``inv[r] * gamma[c]``), ``y = h * F``
             with h from the kept copy (resident) or recomputed from the second stream (two-pass).
``writer``   per tile row the NCH chunks of h (during sweep 1), then the NCH chunks of y.

DRAM traffic per tile row: x and residual read once (resident) or twice (two-pass), gamma HT tiles, h and
y written once; per core E0 (+ MASK) once.  15 dataflow buffers (WH allows 32); L1 per core
(:func:`._common.l1_tiles`): HT + 15 BC + 5 tiles, 762 KiB at H = 8192 in bf16, 1012 KiB at H = 4096
in fp32 (wider fp32 rows take the two-pass plan, 532 KiB).  Every matmul is stored on its own,
``fill`` is used on single tiles or alone, and every waited block feeds a store (the 1.1.1 dialect
rules).
"""

from __future__ import annotations

from functools import cache

from .. import runtime
from .._api import as_tile, check_2d, result, same, tensor_info, wants_torch
from ..host import empty
from ..runtime import ttl
from ._common import NORM_DTYPES, NormPlan, check_eps, const_key, e0_tile, mask_block, plan_norm, weight_tile

CHUNK_BUFFERS = 15  # x (2) + residual (2) + h (2) + ONES + 2 MASK + sq + gamma (2) + F + y (2), in BC tiles


@cache
def make_add_rmsnorm(plan: NormPlan, eps: float, backend: str):
    """Compile-time constants: the plan (tensor size in tiles, chunking, grid, one/two pass) and eps.
    ``backend`` is part of the cache key only."""
    GX, NC, RPC, RT = plan.gx, plan.n_cores, plan.rows_per_core, plan.rows_t
    BC, NCH = plan.bc, plan.nch
    LAST = 1 if plan.rem else 0  # the last chunk has padding columns: MASK comes from DRAM
    TWO = 0 if plan.resident else 1
    KEEP = NCH if plan.resident else 1
    INVH = 1.0 / plan.cols
    EPS = float(eps)

    @ttl.operation(grid=(plan.gx, plan.gy))
    def add_rmsnorm_op(x, res, gamma, e0, mask, h, y):
        e_dfb = ttl.make_dataflow_buffer_like(e0, shape=(1, 1), block_count=1)
        ones_dfb = ttl.make_dataflow_buffer_like(mask, shape=(BC, 1), block_count=1)
        hm_dfb = ttl.make_dataflow_buffer_like(mask, shape=(1, BC), block_count=1)
        m_dfb = ttl.make_dataflow_buffer_like(mask, shape=(1, BC), block_count=1)
        x_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, BC), block_count=2)
        res_dfb = ttl.make_dataflow_buffer_like(res, shape=(1, BC), block_count=2)
        h_dfb = ttl.make_dataflow_buffer_like(h, shape=(1, BC), block_count=2)
        keep_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, BC), block_count=KEEP)
        sq_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, BC), block_count=1)
        acc_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, 1), block_count=2)
        r_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, 1), block_count=1)
        a_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, 1), block_count=1)
        g_dfb = ttl.make_dataflow_buffer_like(gamma, shape=(1, BC), block_count=2)
        f_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, BC), block_count=1)
        y_dfb = ttl.make_dataflow_buffer_like(y, shape=(1, BC), block_count=2)

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
                    for i in range(RPC):
                        if i * NC + core < RT:
                            with acc_dfb.reserve() as a0:
                                a0.store(ttl.math.fill(a0, 0.0))
                            # sweep 1: sum of squares, 1 x BC tiles at a time
                            for c in range(NCH - 1):
                                with x_dfb.wait() as xb, res_dfb.wait() as rb:
                                    with h_dfb.reserve() as hb:
                                        hb.store(xb + rb)
                                    if TWO == 0:
                                        with keep_dfb.reserve() as kb:
                                            kb.store(xb + rb)
                                    with sq_dfb.reserve() as sb:
                                        sb.store((xb + rb) * (xb + rb))
                                with sq_dfb.wait() as sb, acc_dfb.wait() as prev, acc_dfb.reserve() as acc:
                                    acc.store(prev + sb @ jb)
                            with x_dfb.wait() as xb, res_dfb.wait() as rb:  # last chunk: padding masked out
                                with h_dfb.reserve() as hb:
                                    hb.store(xb + rb)
                                if TWO == 0:
                                    with keep_dfb.reserve() as kb:
                                        kb.store(xb + rb)
                                with sq_dfb.reserve() as sb:
                                    sb.store((xb + rb) * (xb + rb) * mb)
                            with sq_dfb.wait() as sb, acc_dfb.wait() as prev, acc_dfb.reserve() as acc:
                                acc.store(prev + sb @ jb)
                            # per-row factor in column 0 of one tile
                            with acc_dfb.wait() as ss, r_dfb.reserve() as rb:
                                rb.store(ttl.math.rsqrt(ss * ttl.math.fill(rb, INVH) + ttl.math.fill(rb, EPS)))
                            with r_dfb.wait() as rb, a_dfb.reserve() as ab:  # (a separate store: fused with the
                                ab.store(rb * eb)                           # fills above it miscompiles)
                            # sweep 2: y = x * (A @ gamma)
                            with a_dfb.wait() as ab:
                                for c in range(NCH):
                                    with g_dfb.wait() as gb, f_dfb.reserve() as fb:
                                        fb.store(ab @ gb)
                                    if TWO == 0:
                                        with f_dfb.wait() as fb, keep_dfb.wait() as xb, y_dfb.reserve() as yb:
                                            yb.store(xb * fb)
                                    else:
                                        with f_dfb.wait() as fb, x_dfb.wait() as xb, res_dfb.wait() as rb:
                                            with y_dfb.reserve() as yb:
                                                yb.store((xb + rb) * fb)

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
                for i in range(RPC):
                    r = i * NC + core
                    if r < RT:
                        for c in range(NCH):
                            with x_dfb.reserve() as xb, res_dfb.reserve() as rb:
                                tx = ttl.copy(x[r:r + 1, c * BC:c * BC + BC], xb)
                                tr = ttl.copy(res[r:r + 1, c * BC:c * BC + BC], rb)
                                tx.wait()
                                tr.wait()
                        for c in range(NCH):
                            if TWO == 1:
                                with x_dfb.reserve() as xb, res_dfb.reserve() as rb:
                                    tx2 = ttl.copy(x[r:r + 1, c * BC:c * BC + BC], xb)
                                    tr2 = ttl.copy(res[r:r + 1, c * BC:c * BC + BC], rb)
                                    tx2.wait()
                                    tr2.wait()
                            with g_dfb.reserve() as gb:
                                tg = ttl.copy(gamma[0:1, c * BC:c * BC + BC], gb)
                                tg.wait()

        @ttl.datamovement()
        def writer():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            for i in range(RPC):
                r = i * NC + core
                if r < RT:
                    for c in range(NCH):
                        with h_dfb.wait() as hb:
                            th = ttl.copy(hb, h[r:r + 1, c * BC:c * BC + BC])
                            th.wait()
                    for c in range(NCH):
                        with y_dfb.wait() as yb:
                            ty = ttl.copy(yb, y[r:r + 1, c * BC:c * BC + BC])
                            ty.wait()

    return add_rmsnorm_op


def add_rms_norm_plan(rows: int, cols: int, dtype: str) -> NormPlan:
    """The plan :func:`add_rms_norm` uses for a ``rows x cols`` input on the active target."""
    return plan_norm(rows, cols, dtype, runtime.grid(), CHUNK_BUFFERS)


def add_rms_norm(x, residual, gamma, eps: float = 1e-6):
    """``h = x + residual`` and ``rmsnorm(h) * gamma`` in one pass; returns ``(h, y)``.

    x, residual: 2-D ``rows x H``, same shape and dtype (bf16 or fp32; torch tensors or TileTensors).
    gamma: H elements, same dtype (torch [H] / [1, H], or a TileTensor of shape (1, H)).
    eps: > 0, a compile-time constant.  h and y are like x (torch in, torch out; TileTensor in, TileTensor
    out)."""
    eps = check_eps(eps)
    shape, dtype = tensor_info(x, "x", NORM_DTYPES)
    rshape, rdtype = tensor_info(residual, "residual", NORM_DTYPES)
    rows, cols = check_2d(shape, "x")
    check_2d(rshape, "residual")
    same({"x": shape, "residual": rshape}, "shape")
    same({"x": dtype, "residual": rdtype}, "dtype")
    g = weight_tile(gamma, cols, dtype, "gamma")
    plan = add_rms_norm_plan(rows, cols, dtype)
    backend, ckey = runtime.backend_name(), const_key()
    tx, tr = as_tile(x, dtype), as_tile(residual, dtype)
    h, y = empty((rows, cols), dtype), empty((rows, cols), dtype)
    e0 = e0_tile(dtype, ckey)
    mask = mask_block(plan.bc, plan.last_valid_cols, dtype, ckey)
    make_add_rmsnorm(plan, eps, backend)(tx.tt, tr.tt, g.tt, e0.tt, mask.tt, h.tt, y.tt)
    as_torch = wants_torch(x)
    return result(h, as_torch), result(y, as_torch)
