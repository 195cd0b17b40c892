"""RMSNorm ``y = x * rsqrt(mean(x^2, -1) + eps) * gamma`` over the last dim of a 2-D tensor.

Shapes: x is ``rows x H`` elements = ``RT x HT`` tiles (``RT = ceil(rows/32)``, ``HT = ceil(H/32)``);
gamma has H elements (one tile row of storage, only its row 0 is read); y is like x.  eps is a
compile-time constant of the kernel.

Dataflow per tile row (32 rows x HT tiles), see :mod:`._common` for the plan and the constant tiles:

``reader``   E0 (1 tile) and, for H not a multiple of 32, MASK (1 x BC tiles) once per core; then the
             tile row of x as NCH chunks of 1 x BC tiles (twice when the plan is two-pass), then the NCH
             chunks of gamma.
``compute``  sweep 1, per chunk: keep a copy of the chunk in L1 (resident plan), ``sq = x*x`` (times
             MASK on the last chunk), ``acc += sq @ ONES`` (1 x 1 tile; every column = the row sum).
             Then ``r = rsqrt(acc / H + eps)`` and ``A = r * E0`` (1 tile each, the per-row factor in
             column 0; two stores, because fusing the multiply with the two fills miscompiles).
             Sweep 2, per chunk: ``F = A @ gamma_chunk`` (1 x BC: ``inv[r] * gamma[c]``), ``y = x * F``
             with x from the kept copy (resident) or the second stream (two-pass).
``writer``   the NCH chunks of y.

DRAM traffic per tile row: x read once (resident) or twice (two-pass), gamma HT tiles, y written once;
per core E0 (+ MASK) once.  13 dataflow buffers (WH allows 32); L1 per core
(:func:`._common.l1_tiles`): HT + 11 BC + 5 tiles, 698 KiB at H = 8192 in bf16, 884 KiB at H = 4096 in
fp32 (wider fp32 rows take the two-pass plan, 404 KiB).  Every matmul is stored on its own, ``fill`` is
used on single tiles or alone, and every waited block feeds a store (the 1.1.1 dialect rules).
"""

from __future__ import annotations

from functools import cache

from .. import runtime
from .._api import as_tile, check_2d, result, tensor_info, wants_torch
from ..host import empty
from ..runtime import ttl
from ._common import NORM_DTYPES, NormPlan, check_eps, const_key, e0_tile, mask_block, plan_norm, weight_tile

CHUNK_BUFFERS = 11  # x (2) + ONES + 2 MASK + sq + gamma (2) + F + y (2), in BC-tile units


@cache
def make_rmsnorm(plan: NormPlan, eps: float, backend: str):
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
    def rmsnorm_op(x, gamma, e0, mask, y):
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
                                with x_dfb.wait() as xb:
                                    if TWO == 0:
                                        with keep_dfb.reserve() as kb:
                                            kb.store(xb)
                                    with sq_dfb.reserve() as sb:
                                        sb.store(xb * xb)
                                with sq_dfb.wait() as sb, acc_dfb.wait() as prev, acc_dfb.reserve() as acc:
                                    acc.store(prev + sb @ jb)
                            with x_dfb.wait() as xb:  # last chunk: padding columns masked out
                                if TWO == 0:
                                    with keep_dfb.reserve() as kb:
                                        kb.store(xb)
                                with sq_dfb.reserve() as sb:
                                    sb.store(xb * xb * mb)
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
                                        with f_dfb.wait() as fb, x_dfb.wait() as xb, y_dfb.reserve() as yb:
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
                for i in range(RPC):
                    r = i * NC + core
                    if r < RT:
                        for c in range(NCH):
                            with x_dfb.reserve() as xb:
                                tx = ttl.copy(x[r:r + 1, c * BC:c * BC + BC], xb)
                                tx.wait()
                        for c in range(NCH):
                            if TWO == 1:
                                with x_dfb.reserve() as xb:
                                    tx2 = ttl.copy(x[r:r + 1, c * BC:c * BC + BC], xb)
                                    tx2.wait()
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
                        with y_dfb.wait() as yb:
                            ty = ttl.copy(yb, y[r:r + 1, c * BC:c * BC + BC])
                            ty.wait()

    return rmsnorm_op


def rms_norm_plan(rows: int, cols: int, dtype: str) -> NormPlan:
    """The plan :func:`rms_norm` uses for a ``rows x cols`` input on the active target."""
    return plan_norm(rows, cols, dtype, runtime.grid(), CHUNK_BUFFERS)


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
    plan = rms_norm_plan(rows, cols, dtype)
    backend, ckey = runtime.backend_name(), const_key()
    tx = as_tile(x, dtype)
    out = empty((rows, cols), dtype)
    e0 = e0_tile(dtype, ckey)
    mask = mask_block(plan.bc, plan.last_valid_cols, dtype, ckey)
    make_rmsnorm(plan, eps, backend)(tx.tt, g.tt, e0.tt, mask.tt, out.tt)
    return result(out, wants_torch(x))
