"""Priority select: ``out = g1 if P1 > P0 else g0``, the on-device half of the two-device swap.

What a device of a 1x2 mesh runs after ttnn's ``all_gather`` has given it both devices' tensors
(see :mod:`ttl_kernels.ccl`).  Per device (the *per-device view*, what each device's program sees):

``g``    ``[2 * Rp, Cp]`` tile layout: rows ``[0, Rp)`` hold device 0's tensor, rows ``[Rp, 2 Rp)``
         device 1's (the all_gather of a ``[Rp, Cp]`` shard along dim 0).
``pair`` ``[64, 32]``: tile row 0 is the priority tile ``P0``, tile row 1 is ``P1``; same dtype as ``g``
         (the 1.1.1 compiler rejects a store whose result dtype differs from its operands', and the
         simulator has no ``typecast``; priorities 0, 1, 2 are exact in bf16).
``out``  ``[Rp, Cp]``: ``out = W0 * g0 + W1 * g1`` with ``W1 = relu(sign(P1 - P0))`` (1 where device 1's
         priority is strictly higher, else 0) and ``W0 = 1 - W1``.  The 32 x 32 selector tile is applied to
         every tile of the data, so a uniform priority tile (every element equal, how the verdict kernels
         write per-user scalars) selects the whole tensor; a tile whose rows differ selects row by row
         within each tile row.

Ties (``P0 == P1``) give ``W1 = 0``: device 0's tensor wins.  The weights are exactly 0 and 1, so for
finite data the result is bit-exact except that ``-0.0`` may come out as ``+0.0``; an inf or NaN in the
*losing* tensor still poisons the result (``0 * inf``), so the residual streams must be finite (they are).
Priorities must be finite and differ by more than bf16's smallest normal number when they differ (the
protocol uses 0, 1 and 2).

The kernel decides nothing on the host: which tensor wins comes from the priority tiles on the device.
A plain swap is the same kernel with a constant per-device pair that favours the peer (device 0 holds
``(P0, P1) = (0, 1)``, device 1 holds ``(1, 0)``).

Several device views in one call (``NV``): the simulator runs an operation once on the *global* mesh
tensor (every device's shard stacked along dim 0), so on the simulator the op sees ``NV = 2`` stacked
views, each laid out as above; on a device (and in the compile-only checks) every device runs it on its
own shard, ``NV = 1``.  The wrapper derives ``NV`` from the tensor it is handed (global rows / per-device
rows), not from the backend.

Dataflow: work is cut into single tiles; in each view tile ``k`` (row-major over ``Rt x Ct``) goes to
core ``k mod NC`` of the flattened launch grid, which has enough cores for at least ``MIN_TILES_PER_CORE``
tiles each (up to the target's grid).  Per view a core with work reads the two priority tiles once,
computes ``W0``/``W1`` once and holds them while it streams its data tiles: two tile reads (g0, g1) and
one tile write per output tile.  Single tiles because the selector is a single tile and the 1.1.1 dialect
has no portable broadcast of a computed tile over a larger block; the exchange itself (the link) is what
costs, not this select.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from .. import runtime
from .._api import as_tile, check_2d, result, tensor_info, wants_torch
from ..host import TILE, empty, tiles
from ..runtime import ttl

DTYPES = ("bf16", "fp32")
# Every busy core reads the two priority tiles once per view; giving each core at least this many output
# tiles keeps that overhead at <= 2 / (3 * 4) of the data traffic (about 17%).
MIN_TILES_PER_CORE = 4


@dataclass(frozen=True)
class SelectPlan:
    """Compile-time constants: per-view tile rows / cols, number of stacked views, grid."""

    rows_t: int
    cols_t: int
    n_views: int
    gx: int
    gy: int

    @property
    def n_items(self) -> int:
        return self.rows_t * self.cols_t

    @property
    def n_cores(self) -> int:
        return self.gx * self.gy

    @property
    def items_per_core(self) -> int:
        return -(-self.n_items // self.n_cores)

    @property
    def cores_used(self) -> int:
        return min(self.n_cores, -(-self.n_items // MIN_TILES_PER_CORE))

    @property
    def grid(self) -> tuple[int, int]:
        """The grid the op is launched on: enough cores for ``MIN_TILES_PER_CORE`` tiles each, at most the
        target's grid (the last row may be partly idle)."""
        used = self.cores_used
        gx = min(self.gx, used)
        return gx, -(-used // gx)


@cache
def make_mesh_select(plan: SelectPlan, backend: str):
    """The op for one plan.  ``backend`` is part of the cache key only."""
    RT, CT, NV = plan.rows_t, plan.cols_t, plan.n_views
    GX, GY = plan.grid
    NC = GX * GY
    NI = plan.n_items
    IPC = -(-NI // NC)
    ONE = 1.0

    @ttl.operation(grid=(GX, GY))
    def mesh_select_op(g, pair, out):
        p0_dfb = ttl.make_dataflow_buffer_like(pair, shape=(1, 1), block_count=2)
        p1_dfb = ttl.make_dataflow_buffer_like(pair, shape=(1, 1), block_count=2)
        d_dfb = ttl.make_dataflow_buffer_like(g, shape=(1, 1), block_count=1)
        w0_dfb = ttl.make_dataflow_buffer_like(g, shape=(1, 1), block_count=1)
        w1_dfb = ttl.make_dataflow_buffer_like(g, shape=(1, 1), block_count=1)
        x0_dfb = ttl.make_dataflow_buffer_like(g, shape=(1, 1), block_count=2)
        x1_dfb = ttl.make_dataflow_buffer_like(g, shape=(1, 1), block_count=2)
        out_dfb = ttl.make_dataflow_buffer_like(out, shape=(1, 1), block_count=2)

        @ttl.datamovement()
        def reader():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            for v in range(NV):
                if core < NI:
                    with p0_dfb.reserve() as pa, p1_dfb.reserve() as pb:
                        ta = ttl.copy(pair[2 * v:2 * v + 1, 0:1], pa)
                        tb = ttl.copy(pair[2 * v + 1:2 * v + 2, 0:1], pb)
                        ta.wait()
                        tb.wait()
                    for i in range(IPC):
                        k = i * NC + core
                        if k < NI:
                            r = k // CT
                            c = k % CT
                            r0 = 2 * RT * v + r
                            with x0_dfb.reserve() as xa, x1_dfb.reserve() as xb:
                                t0 = ttl.copy(g[r0:r0 + 1, c:c + 1], xa)
                                t1 = ttl.copy(g[r0 + RT:r0 + RT + 1, c:c + 1], xb)
                                t0.wait()
                                t1.wait()

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            for v in range(NV):
                if core < NI:
                    with p0_dfb.wait() as pa, p1_dfb.wait() as pb, d_dfb.reserve() as d:
                        d.store(ttl.math.sign(pb - pa))
                    with d_dfb.wait() as d, w1_dfb.reserve() as w1:
                        w1.store(ttl.math.relu(d))
                    with w1_dfb.wait() as w1:
                        with w0_dfb.reserve() as w0:
                            w0.store(ttl.math.fill(w0, ONE) - w1)
                        with w0_dfb.wait() as w0:
                            for i in range(IPC):
                                if i * NC + core < NI:
                                    with x0_dfb.wait() as xa, x1_dfb.wait() as xb, out_dfb.reserve() as o:
                                        o.store(w0 * xa + w1 * xb)

        @ttl.datamovement()
        def writer():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            for v in range(NV):
                for i in range(IPC):
                    k = i * NC + core
                    if k < NI:
                        r = k // CT
                        c = k % CT
                        r0 = RT * v + r
                        with out_dfb.wait() as o:
                            tw = ttl.copy(o, out[r0:r0 + 1, c:c + 1])
                            tw.wait()

    return mesh_select_op


def run_select(g_tt, pair_tt, out_tt, rows: int, cols: int) -> None:
    """Launch the select on ttnn tensors already laid out as in the module docstring.

    ``rows`` / ``cols`` are the per-device logical sizes; the number of stacked views is read off
    ``out_tt`` (its rows over the per-device padded rows)."""
    rt, ct = tiles(rows), tiles(cols)
    out_rows = int(out_tt.shape[0])
    if out_rows % (rt * TILE):
        raise ValueError(f"out: {out_rows} rows is not a whole number of {rt * TILE}-row device views")
    nv = out_rows // (rt * TILE)
    gx, gy = runtime.grid()
    plan = SelectPlan(rt, ct, nv, gx, gy)
    make_mesh_select(plan, runtime.backend_name())(g_tt, pair_tt, out_tt)


def mesh_select(gathered, pair):
    """One device's select: ``gathered [2R, C]`` (device 0's ``[R, C]`` on top of device 1's) and ``pair``
    (``[64, 32]``: priority tile P0 above P1) -> ``[R, C]``, element ``(i, j)`` of each tile taken from
    device 1's half where ``P1 > P0`` and from device 0's half otherwise.

    ``R`` must be a multiple of 32 (the halves are whole tile rows).  bf16 or fp32, ``pair`` in the same
    dtype as ``gathered``.  Torch in, torch out; TileTensors in, TileTensor out."""
    sg, dg = tensor_info(gathered, "gathered", DTYPES)
    sp, dp = tensor_info(pair, "pair", DTYPES)
    check_2d(sg, "gathered")
    check_2d(sp, "pair")
    if sg[0] % (2 * TILE):
        raise ValueError(f"gathered: rows must be 2 x a multiple of 32 (two whole-tile device halves); got {sg[0]}")
    if dp != dg:
        raise ValueError(f"pair: dtype {dp} does not match gathered's {dg} (the 1.1.1 compiler stores no mixed-dtype results)")
    if tuple(sp) != (2 * TILE, TILE):
        raise ValueError(f"pair: expected shape (64, 32) (priority tile P0 above P1); got {tuple(sp)}")
    rows, cols = sg[0] // 2, sg[1]
    tg, tp = as_tile(gathered, dg), as_tile(pair, dp)
    out = empty((rows, cols), dg)
    run_select(tg.tt, tp.tt, out.tt, rows, cols)
    return result(out, wants_torch(gathered))
