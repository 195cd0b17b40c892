"""The select kernel behind :func:`.mesh_select` and :func:`.group_select`: per group of tile rows, a 0 / 1
weight ``W`` from the group's condition tile(s), and ``out = W * b + (1 - W) * a`` tile by tile.

Tensors (one call), in tiles; ``G`` tile rows per group, ``Ct`` tile columns:

``cond``  per group ``g`` one condition tile (tile row ``g``; ``W = relu(sign(c))``) or, with ``PAIR = 1``,
          a priority pair (tile rows ``2 g`` and ``2 g + 1``; ``W = relu(sign(c1 - c0))``: 1 where the second
          priority is strictly higher).
``a, b``  group ``g``'s tile row ``t`` is tile row ``g * G + t`` of a and of b (two tensors); with
          ``PAIR = 1`` a and b are the same *stacked* tensor (a device view: device 0's ``G`` tile rows on top
          of device 1's), so a's rows are ``2 g G + t`` and b's ``2 g G + G + t``.
``out``   group ``g``'s tile row ``t`` is tile row ``g * G + t``.

``W`` is exactly 0 or 1, so for finite data the result is bit-exact (``-0.0`` may come out ``+0.0``); an inf
or NaN in the *unselected* tensor still poisons the result (``0 * inf``).  The 32 x 32 weight multiplies
every tile element by element, so a uniform condition tile selects whole tiles and a non-uniform one selects
element by element.

Dataflow: the ``G * Ct`` tiles of each group are cut into runs of ``TPB`` consecutive tiles (row-major inside
the group); a work unit is one run, units are dealt round-robin over the flattened launch grid
(:func:`ttl_kernels.tiling.fit_grid` of the unit count).  A unit reads its group's condition tile(s) once,
computes ``W`` and ``1 - W`` once, then streams its run: two tile reads (a, b) and one tile write per output
tile.  ``TPB`` is at least ``MIN_TILES_PER_UNIT`` (4) when the group has that many tiles, so the condition
reads cost at most 2 / 12 of the data traffic, and grows so that the units fit the grid.  Single tiles,
because the weight is one tile and 1.1.1 has no portable broadcast of a computed tile over a block.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from .. import runtime
from ..runtime import ttl
from ..tiling import ItemsOnGrid, buffers_like, buffers_of, fit_grid

DTYPES = ("bf16", "fp32")
MIN_TILES_PER_UNIT = 4


@dataclass(frozen=True)
class SelectPlan(ItemsOnGrid):
    """Compile-time constants: groups, tile rows per group, tile columns, tiles per unit, condition kind,
    grid.  The work items are the units (runs of ``tpb`` tiles)."""

    n_groups: int
    group: int
    cols_t: int
    tpb: int
    pair: int  # 1: priority pairs and stacked a/b (mesh_select), 0: one condition tile, separate a and b
    gx: int
    gy: int

    @property
    def group_tiles(self) -> int:
        return self.group * self.cols_t

    @property
    def runs_per_group(self) -> int:
        return -(-self.group_tiles // self.tpb)

    @property
    def n_items(self) -> int:
        return self.n_groups * self.runs_per_group


def plan_select(n_groups: int, group: int, cols_t: int, pair: int, grid: tuple[int, int]) -> SelectPlan:
    gt = group * cols_t
    per_unit = max(MIN_TILES_PER_UNIT, -(-n_groups * gt // (grid[0] * grid[1])))
    tpb = min(gt, per_unit)
    gx, gy = fit_grid(n_groups * -(-gt // tpb), grid)
    return SelectPlan(n_groups, group, cols_t, tpb, pair, gx, gy)


@cache
def make_select(plan: SelectPlan, backend: str):
    """The op for one plan.  ``backend`` is part of the cache key only."""
    GX, NC, NU = plan.gx, plan.n_cores, plan.n_items
    G, CT, TPB, RPG, GT = plan.group, plan.cols_t, plan.tpb, plan.runs_per_group, plan.group_tiles
    PAIR = plan.pair
    CSTEP = 1 + PAIR  # condition tiles per group
    ASTEP = (1 + PAIR) * G  # tile rows of a (and b) per group: 2 G when a and b are the halves of one tensor
    BOFF = PAIR * G  # b's first tile row of a group, past a's (stacked halves)
    ONE = 1.0

    @ttl.operation(grid=(plan.gx, plan.gy))
    def select_op(cond, a, b, out):
        c0_dfb = ttl.make_dataflow_buffer_like(cond, shape=(1, 1), block_count=2)
        c1_dfb = ttl.make_dataflow_buffer_like(cond, shape=(1, 1), block_count=2) if PAIR == 1 else c0_dfb
        d_dfb = ttl.make_dataflow_buffer_like(cond, shape=(1, 1), block_count=1)
        w1_dfb, w0_dfb = buffers_like(a, 2)  # W and 1 - W, held for a unit's run
        xa_dfb, xb_dfb, out_dfb = buffers_of((a, b, out), block_count=2)

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            for u in range(y * GX + x, NU, NC):
                # W = relu(sign(condition)) (1: take b), and 1 - W, held for the unit's run
                with c0_dfb.wait() as c0, d_dfb.reserve() as d:
                    if PAIR == 1:
                        with c1_dfb.wait() as c1:
                            d.store(ttl.math.sign(c1 - c0))
                    else:
                        d.store(ttl.math.sign(c0))
                with d_dfb.wait() as d, w1_dfb.reserve() as w1:
                    w1.store(ttl.math.relu(d))
                with w1_dfb.wait() as w1:
                    with w0_dfb.reserve() as w0:
                        w0.store(ttl.math.fill(w0, ONE) - w1)
                    with w0_dfb.wait() as w0:
                        for k in range((u % RPG) * TPB, (u % RPG) * TPB + TPB):
                            if k < GT:
                                with xa_dfb.wait() as xa, xb_dfb.wait() as xb, out_dfb.reserve() as o:
                                    o.store(w0 * xa + w1 * xb)

        @ttl.datamovement()
        def reader():
            x, y = ttl.node(dims=2)
            for u in range(y * GX + x, NU, NC):  # units core, core + NC, ...
                g = u // RPG  # group of the unit; its run is the group's tiles [(u % RPG) TPB, + TPB)
                with c0_dfb.reserve() as cb:  # the condition tile(s) of the group
                    tc = ttl.copy(cond[CSTEP * g:CSTEP * g + 1, 0:1], cb)
                    if PAIR == 1:
                        with c1_dfb.reserve() as cb1:
                            tc1 = ttl.copy(cond[2 * g + 1:2 * g + 2, 0:1], cb1)
                            tc1.wait()
                    tc.wait()
                for k in range((u % RPG) * TPB, (u % RPG) * TPB + TPB):
                    if k < GT:  # (a group's last run may be shorter)
                        r = ASTEP * g + k // CT  # tile k of the group, row-major
                        c = k % CT
                        with xa_dfb.reserve() as xa, xb_dfb.reserve() as xb:
                            ta = ttl.copy(a[r:r + 1, c:c + 1], xa)
                            tb = ttl.copy(b[BOFF + r:BOFF + r + 1, c:c + 1], xb)
                            ta.wait()
                            tb.wait()

        @ttl.datamovement()
        def writer():
            x, y = ttl.node(dims=2)
            for u in range(y * GX + x, NU, NC):
                for k in range((u % RPG) * TPB, (u % RPG) * TPB + TPB):
                    if k < GT:
                        r = (u // RPG) * G + k // CT  # out holds the groups' G tile rows one after the other
                        c = k % CT
                        with out_dfb.wait() as o:
                            tw = ttl.copy(o, out[r:r + 1, c:c + 1])
                            tw.wait()

    return select_op


def launch_select(cond_tt, a_tt, b_tt, out_tt, n_groups: int, group: int, cols_t: int, pair: int) -> None:
    """Launch on ttnn tensors laid out as in the module docstring."""
    plan = plan_select(n_groups, group, cols_t, pair, runtime.grid())
    make_select(plan, runtime.backend_name())(cond_tt, a_tt, b_tt, out_tt)
