"""Per-head RMSNorm (Qwen3's ``q_norm`` / ``k_norm``): every head of every row normalised over head_dim
with one weight vector shared by all heads.

Shapes: x is ``rows x (n_heads * head_dim)`` elements; head_dim is a multiple of 32, so a head is
``DT = head_dim / 32`` whole tiles of a tile row (64 -> 2, 128 -> 4) and a tile row holds ``NH`` heads.
weight has head_dim elements (only row 0 of its tile storage is read).  y is like x.

Work split: an *item* is a tile row (32 rows) times a group of consecutive heads; the heads of a tile row
are split into ``G`` groups (:func:`head_norm_plan`) and the ``RT * G`` items dealt round-robin over the
flattened grid.  Per core the reader fetches the weight (DT tiles) and a constant tile P (``P[0,0] = 1``,
zeros elsewhere) once; the compute thread forms ``W0 = P @ weight`` (the weight in row 0, zeros below),
so that for any row-constant tile ``r`` the matmul ``r @ W0`` is ``r[row] * weight[col]``.

Per head (1 x DT tiles), compute: ``sq = x*x``, ``ss = sq @ ONES`` (1 tile, every column = the head's sum
of squares), ``r = rsqrt(ss / head_dim + eps)``, ``F = r @ W0`` (1 x DT), ``y = x * F``.  Each x tile is
read once and each y tile written once; the per-core weight and P reads are the only extra traffic.  ``G``
minimises the modelled time (:func:`head_norm_plan`): a head costs far more compute (an rsqrt, hand-offs) than
its 2 DT tiles of traffic, so decode-sized inputs take one head per core (Qwen3-8B q_norm: 32 cores) even
though the per-core constants then add up to ~60% of the minimum traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import torch

from .. import runtime
from .._api import as_tile, check_2d, const_key, result, tensor_info, wants_torch
from ..host import TILE, TILE_BYTES, TileTensor, empty, tiles, to_device
from ..runtime import ttl
from ..tiling import HeadGroupsOnGrid, fit_grid
from ._common import NORM_DTYPES, check_eps, weight_tile

# Planner figures, n150 cycles (from the cycle model's counts of this kernel): one head (x*x, its row sum, rsqrt,
# the scale, y, and their hand-offs), and once per core (W0 = P @ weight, ONES); DRAM 288 B per cycle.
_HEAD_CYCLES = 3_400
_CORE_CYCLES = 1_200
_DRAM_B_PER_CYCLE = 288.0


@dataclass(frozen=True)
class HeadNormPlan(HeadGroupsOnGrid):
    tile_rows: int  # RT
    n_heads: int  # NH per row
    head_dim: int
    groups: int  # G head groups per tile row
    gx: int
    gy: int

    @property
    def dt(self) -> int:
        return self.head_dim // TILE


def head_norm_plan(rows: int, n_heads: int, head_dim: int, grid: tuple[int, int]) -> HeadNormPlan:
    """The number of head groups (items per tile row) with the smallest modelled time: the busiest core's
    heads against all traffic (x in, y out, the weight and P once per busy core) at the DRAM bandwidth; no more
    items than cores, no empty group, and the fewest groups among equal times."""
    rt, dt = tiles(rows), head_dim // TILE
    nc = grid[0] * grid[1]
    best = None
    for g in range(1, max(1, min(n_heads, nc // rt)) + 1):
        hpg = -(-n_heads // g)
        groups = -(-n_heads // hpg)
        items = rt * groups
        compute = -(-items // nc) * hpg * _HEAD_CYCLES + _CORE_CYCLES
        traffic = (2 * rt * n_heads * dt + min(items, nc) * (dt + 1)) * TILE_BYTES["bf16"] / _DRAM_B_PER_CYCLE
        key = (max(compute, traffic), groups)
        if best is None or key < best[0]:
            best = (key, groups)
    groups = best[1]
    gx, gy = fit_grid(rt * groups, grid)
    return HeadNormPlan(rt, n_heads, head_dim, groups, gx, gy)


@cache
def p_block(dt: int, dtype: str, backend: str) -> TileTensor:
    """DT x 1 tiles: tile 0 is P (1 at [0, 0], zeros elsewhere), the others zero.  Also the shape donor of
    the (DT, 1) ONES buffer (the simulator needs a tensor with at least DT tile rows)."""
    p = torch.zeros(dt * TILE, TILE)
    p[0, 0] = 1.0
    return to_device(p, dtype)


@cache
def make_head_rmsnorm(plan: HeadNormPlan, eps: float, backend: str):
    """Compile-time constants: the plan and eps (``backend`` is part of the cache key only)."""
    GX, NC, NI = plan.gx, plan.n_cores, plan.n_items
    G, HPG, NH, DT = plan.groups, plan.heads_per_group, plan.n_heads, plan.dt
    INVD = 1.0 / plan.head_dim
    EPS = float(eps)

    @ttl.operation(grid=(plan.gx, plan.gy))
    def head_rmsnorm_op(x, weight, pconst, y):
        p_dfb = ttl.make_dataflow_buffer_like(pconst, shape=(1, 1), block_count=1)
        w_dfb = ttl.make_dataflow_buffer_like(weight, shape=(1, DT), block_count=1)
        w0_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, DT), block_count=1)
        ones_dfb = ttl.make_dataflow_buffer_like(pconst, shape=(DT, 1), block_count=1)
        x_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, DT), block_count=2)
        sq_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, DT), block_count=1)
        ss_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, 1), block_count=1)
        r_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, 1), block_count=1)
        f_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, DT), block_count=1)
        y_dfb = ttl.make_dataflow_buffer_like(y, shape=(1, DT), block_count=2)

        @ttl.compute()
        def compute():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            if core < NI:
                with ones_dfb.reserve() as o:
                    o.store(ttl.math.fill(o, 1.0))
                with p_dfb.wait() as pb, w_dfb.wait() as wb, w0_dfb.reserve() as w0:
                    w0.store(pb @ wb)  # the weight in row 0, zeros below
                with ones_dfb.wait() as jb, w0_dfb.wait() as w0b:
                    for item in range(core, NI, NC):  # items core, core + NC, ...
                        for h in range((item % G) * HPG, (item % G) * HPG + HPG):  # the item's group of heads
                            if h < NH:  # (the last group may be shorter)
                                with x_dfb.wait() as xb:
                                    with sq_dfb.reserve() as sb:
                                        sb.store(xb * xb)
                                    with sq_dfb.wait() as sb, ss_dfb.reserve() as ssb:
                                        ssb.store(sb @ jb)
                                    with ss_dfb.wait() as ssb, r_dfb.reserve() as rb:
                                        rb.store(ttl.math.rsqrt(ssb * ttl.math.fill(rb, INVD) + ttl.math.fill(rb, EPS)))
                                    with r_dfb.wait() as rb, f_dfb.reserve() as fb:
                                        fb.store(rb @ w0b)
                                    with f_dfb.wait() as fb, y_dfb.reserve() as yb:
                                        yb.store(xb * fb)

        @ttl.datamovement()
        def reader():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            if core < NI:
                with p_dfb.reserve() as pb, w_dfb.reserve() as wb:
                    tp = ttl.copy(pconst[0:1, 0:1], pb)
                    tw = ttl.copy(weight[0:1, 0:DT], wb)
                    tp.wait()
                    tw.wait()
                for item in range(core, NI, NC):  # items core, core + NC, ...
                    r = item // G  # tile row
                    for h in range((item % G) * HPG, (item % G) * HPG + HPG):  # the item's group of heads
                        if h < NH:
                            with x_dfb.reserve() as xb:
                                tx = ttl.copy(x[r:r + 1, h * DT:h * DT + DT], xb)
                                tx.wait()

        @ttl.datamovement()
        def writer():
            cx, cy = ttl.node(dims=2)
            for item in range(cy * GX + cx, NI, NC):
                r = item // G
                for h in range((item % G) * HPG, (item % G) * HPG + HPG):
                    if h < NH:
                        with y_dfb.wait() as yb:
                            ty = ttl.copy(yb, y[r:r + 1, h * DT:h * DT + DT])
                            ty.wait()

    return head_rmsnorm_op


def head_rms_norm(x, weight, eps: float = 1e-6):
    """Per-head RMSNorm: ``x`` is ``rows x (n_heads * head_dim)`` (bf16 or fp32; torch or TileTensor),
    ``weight`` has head_dim elements (torch [head_dim] / [1, head_dim] or a TileTensor (1, head_dim), same
    dtype as x) and sets head_dim, which must be a multiple of 32; each head is normalised over its
    head_dim values and scaled by the weight.  eps > 0 is a compile-time constant.  Returns y like x."""
    eps = check_eps(eps)
    shape, dtype = tensor_info(x, "x", NORM_DTYPES)
    rows, cols = check_2d(shape, "x")
    wshape, _ = tensor_info(weight, "weight", NORM_DTYPES)
    head_dim = int(wshape[-1])
    if head_dim % TILE:
        raise ValueError(f"weight: head_dim (its length) must be a multiple of {TILE}; got {head_dim}")
    if cols % head_dim:
        raise ValueError(f"x: width must be a multiple of head_dim {head_dim} (n_heads * head_dim); got {cols}")
    w = weight_tile(weight, head_dim, dtype, "weight")
    plan = head_norm_plan(rows, cols // head_dim, head_dim, runtime.grid())
    backend = runtime.backend_name()
    tx = as_tile(x, dtype)
    out = empty((rows, cols), dtype)
    make_head_rmsnorm(plan, eps, backend)(tx.tt, w.tt, p_block(plan.dt, dtype, const_key()).tt, out.tt)
    return result(out, wants_torch(x))
