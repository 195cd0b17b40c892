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

Dataflow: the select kernel of :mod:`._select` with priority pairs (``PAIR = 1``): a group is one device
view (``Rt`` tile rows), ``g`` is both the ``a`` and the ``b`` tensor (its two halves).  Per work unit (a
run of at least 4 output tiles of one view) a core reads the two priority tiles once, computes ``W0``/``W1``
once and streams the run: two tile reads (g0, g1) and one tile write per output tile.  Single tiles because
the selector is a single tile and the 1.1.1 dialect has no portable broadcast of a computed tile over a
larger block; the exchange itself (the link) is what costs, not this select.
"""

from __future__ import annotations

from .._api import as_tile, check_2d, result, tensor_info, wants_torch
from ..host import TILE, empty, tiles
from ._select import DTYPES, launch_select


def run_select(g_tt, pair_tt, out_tt, rows: int, cols: int) -> None:
    """Launch the select on ttnn tensors already laid out as in the module docstring.

    ``rows`` / ``cols`` are the per-device logical sizes; the number of stacked views is read off
    ``out_tt`` (its rows over the per-device padded rows)."""
    rt, ct = tiles(rows), tiles(cols)
    out_rows = int(out_tt.shape[0])
    if out_rows % (rt * TILE):
        raise ValueError(f"out: {out_rows} rows is not a whole number of {rt * TILE}-row device views")
    nv = out_rows // (rt * TILE)
    launch_select(pair_tt, g_tt, g_tt, out_tt, nv, rt, ct, pair=1)


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
        raise ValueError(f"gathered: rows must be 2 x a multiple of 32 (two whole-tile device halves); "
                         f"got {sg[0]}")
    if dp != dg:
        raise ValueError(f"pair: dtype {dp} does not match gathered's {dg} "
                         "(the 1.1.1 compiler stores no mixed-dtype results)")
    if tuple(sp) != (2 * TILE, TILE):
        raise ValueError(f"pair: expected shape (64, 32) (priority tile P0 above P1); got {tuple(sp)}")
    rows, cols = sg[0] // 2, sg[1]
    tg, tp = as_tile(gathered, dg), as_tile(pair, dp)
    out = empty((rows, cols), dg)
    run_select(tg.tt, tp.tt, out.tt, rows, cols)
    return result(out, wants_torch(gathered))
