"""Grouped select: ``out = b where cond > 0 else a``, one condition tile per group of tile rows.

The on-device choice ALSpec makes *inside* one device (the two-device exchange is :mod:`.swap`):

* verify-only ALSpec: per user, the speculative attention output on a hit, the exact one on a miss.  The
  condition is the speculative kernel's verdict (``[B * 32, 32]``, tile row ``b`` filled with user ``b``'s
  0 / 1), the data the decode O layout ``[B * n_kv * 32, D]`` (tile rows ``b * n_kv .. b * n_kv + n_kv - 1``
  are user ``b``'s), so ``group = n_kv``;
* the two-device protocol: the attention output a device continues with, its own exact output when it is
  the sender of the layer, the speculative output shipped by the sender when it is the receiver.  The
  condition is the device's role tile (one ``[32, 32]`` tile, 1 = sender), ``group`` = all tile rows.

Layouts (per call):

``cond``  ``[NC * 32, 32]``: tile row ``g`` is the condition tile of group ``g`` (NC groups).
``a, b``  ``[NC * group * 32, C]``, same shape and dtype as each other and as ``cond`` (the 1.1.1 compiler
          stores no mixed-dtype results).
``out``   like ``a``: tile ``(r, c)`` is ``W * b + (1 - W) * a`` with ``W = relu(sign(cond_g))``, ``g = r // group``,
          applied element by element inside the tile (a uniform condition tile, how the verdict and role
          tiles are written, selects whole tiles; a tile whose elements differ selects element-wise).

``W`` is exactly 0 or 1, so for finite data the result is bit-exact (``-0.0`` may come out ``+0.0``); an inf
or NaN in the *unselected* tensor still poisons the result (``0 * inf``), as in :mod:`.mesh_select`.

Dataflow: the ``group * Ct`` tiles of each group are cut into runs of ``TPB`` consecutive tiles (row-major
inside the group); a work unit is one run, units are dealt round-robin over the flattened launch grid
(:func:`ttl_kernels.tiling.fit_grid` of the unit count).  A unit reads its group's condition tile once,
computes ``W`` and ``1 - W`` once, then streams its run: two tile reads (a, b) and one tile write per output
tile.  ``TPB`` is at least ``MIN_TILES_PER_UNIT`` (4) when the group has that many tiles, so the condition
read costs at most 1 / 12 of the data traffic, and grows so that the units fit the grid.  Single tiles,
because the condition is one tile and 1.1.1 has no portable broadcast of a computed tile over a block.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from .. import runtime
from .._api import as_tile, check_2d, result, same, tensor_info, wants_torch
from ..host import TILE, empty, tiles
from ..runtime import ttl
from ..tiling import fit_grid

DTYPES = ("bf16", "fp32")
MIN_TILES_PER_UNIT = 4


@dataclass(frozen=True)
class GroupSelectPlan:
    """Compile-time constants: groups, tile rows per group, tile columns, tiles per unit, grid."""

    n_groups: int
    group: int
    cols_t: int
    tpb: int
    gx: int
    gy: int

    @property
    def group_tiles(self) -> int:
        return self.group * self.cols_t

    @property
    def runs_per_group(self) -> int:
        return -(-self.group_tiles // self.tpb)

    @property
    def n_units(self) -> int:
        return self.n_groups * self.runs_per_group

    @property
    def n_cores(self) -> int:
        return self.gx * self.gy


def plan_group_select(n_groups: int, group: int, cols_t: int, grid: tuple[int, int]) -> GroupSelectPlan:
    gt = group * cols_t
    cores = grid[0] * grid[1]
    per_unit = max(MIN_TILES_PER_UNIT, -(-n_groups * gt // cores))
    tpb = min(gt, per_unit)
    n_units = n_groups * -(-gt // tpb)
    gx, gy = fit_grid(n_units, grid)
    return GroupSelectPlan(n_groups, group, cols_t, tpb, gx, gy)


@cache
def make_group_select(plan: GroupSelectPlan, backend: str):
    """The op for one plan.  ``backend`` is part of the cache key only."""
    GX, NC, NU = plan.gx, plan.n_cores, plan.n_units
    G, CT, TPB, RPG, GT = plan.group, plan.cols_t, plan.tpb, plan.runs_per_group, plan.group_tiles
    ITERS = -(-NU // NC)
    ONE = 1.0

    @ttl.operation(grid=(plan.gx, plan.gy))
    def group_select_op(cond, a, b, out):
        c_dfb = ttl.make_dataflow_buffer_like(cond, shape=(1, 1), block_count=2)
        d_dfb = ttl.make_dataflow_buffer_like(cond, shape=(1, 1), block_count=1)
        w1_dfb = ttl.make_dataflow_buffer_like(a, shape=(1, 1), block_count=1)
        w0_dfb = ttl.make_dataflow_buffer_like(a, shape=(1, 1), block_count=1)
        xa_dfb = ttl.make_dataflow_buffer_like(a, shape=(1, 1), block_count=2)
        xb_dfb = ttl.make_dataflow_buffer_like(b, shape=(1, 1), block_count=2)
        out_dfb = ttl.make_dataflow_buffer_like(out, shape=(1, 1), block_count=2)

        @ttl.datamovement()
        def reader():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            for it in range(ITERS):
                u = it * NC + core
                if u < NU:
                    g = u // RPG
                    j = u % RPG
                    with c_dfb.reserve() as cb:
                        tc = ttl.copy(cond[g:g + 1, 0:1], cb)
                        tc.wait()
                    for i in range(TPB):
                        k = j * TPB + i
                        if k < GT:
                            r = g * G + k // CT
                            c = k % CT
                            with xa_dfb.reserve() as xa, xb_dfb.reserve() as xb:
                                ta = ttl.copy(a[r:r + 1, c:c + 1], xa)
                                tb = ttl.copy(b[r:r + 1, c:c + 1], xb)
                                ta.wait()
                                tb.wait()

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            for it in range(ITERS):
                u = it * NC + core
                if u < NU:
                    j = u % RPG
                    with c_dfb.wait() as cb, d_dfb.reserve() as d:
                        d.store(ttl.math.sign(cb))
                    with d_dfb.wait() as d, w1_dfb.reserve() as w1:
                        w1.store(ttl.math.relu(d))
                    with w1_dfb.wait() as w1:
                        with w0_dfb.reserve() as w0:
                            w0.store(ttl.math.fill(w0, ONE) - w1)
                        with w0_dfb.wait() as w0:
                            for i in range(TPB):
                                if j * TPB + i < GT:
                                    with xa_dfb.wait() as xa, xb_dfb.wait() as xb, out_dfb.reserve() as o:
                                        o.store(w0 * xa + w1 * xb)

        @ttl.datamovement()
        def writer():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            for it in range(ITERS):
                u = it * NC + core
                if u < NU:
                    g = u // RPG
                    j = u % RPG
                    for i in range(TPB):
                        k = j * TPB + i
                        if k < GT:
                            r = g * G + k // CT
                            c = k % CT
                            with out_dfb.wait() as o:
                                tw = ttl.copy(o, out[r:r + 1, c:c + 1])
                                tw.wait()

    return group_select_op


def group_select(cond, a, b, *, group: int | None = None):
    """``out`` = ``b`` where the group's condition tile is > 0, else ``a`` (see the module docstring).

    ``cond``: ``[NC * 32, 32]`` (NC condition tiles stacked); ``a``, ``b``: same shape ``[R, C]`` with ``R`` a
    multiple of 32, same dtype as ``cond`` (bf16 or fp32).  ``group``: tile rows of ``a`` per condition tile
    (default: all of them, one condition tile); ``NC * group`` must equal ``R / 32``.
    Torch in, torch out; TileTensors in, TileTensor out."""
    sc, dc = tensor_info(cond, "cond", DTYPES)
    sa, da = tensor_info(a, "a", DTYPES)
    sb, db = tensor_info(b, "b", DTYPES)
    check_2d(sc, "cond")
    check_2d(sa, "a")
    check_2d(sb, "b")
    same({"a": tuple(sa), "b": tuple(sb)}, "shape")
    same({"cond": dc, "a": da, "b": db}, "dtype")
    if sc[0] % TILE or sc[1] != TILE:
        raise ValueError(f"cond: expected [n_groups * 32, 32] (one condition tile per group); got {tuple(sc)}")
    if sa[0] % TILE:
        raise ValueError(f"a: rows must be whole tile rows (a multiple of 32); got {sa[0]}")
    n_groups, rows_t = sc[0] // TILE, sa[0] // TILE
    if group is None:
        group = rows_t // n_groups if rows_t % n_groups == 0 else 0
    if isinstance(group, bool) or not isinstance(group, int) or group < 1 or n_groups * group != rows_t:
        raise ValueError(f"group: expected a positive int with n_groups ({n_groups}) x group = tile rows of a ({rows_t}); got {group!r}")
    tc, ta, tb = as_tile(cond, dc), as_tile(a, da), as_tile(b, db)
    out = empty(tuple(sa), da)
    plan = plan_group_select(n_groups, group, tiles(sa[1]), runtime.grid())
    make_group_select(plan, runtime.backend_name())(tc.tt, ta.tt, tb.tt, out.tt)
    return result(out, wants_torch(cond))
