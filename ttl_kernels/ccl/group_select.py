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

The kernel is :mod:`._select`'s with one condition tile per group (``W`` exactly 0 or 1, bit-exact for finite
data; ``-0.0`` may come out ``+0.0``; an inf or NaN in the *unselected* tensor still poisons the result,
``0 * inf``).  Its dataflow: each group's ``group * Ct`` tiles are cut into runs of at least 4 tiles dealt
round-robin over the grid; a run reads its condition tile once, computes ``W`` and ``1 - W`` once, then
reads a and b and writes out one tile at a time.
"""

from __future__ import annotations

from .._api import as_tile, check_2d, result, same, tensor_info, wants_torch
from ..host import TILE, empty, tiles
from ._select import DTYPES, launch_select


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
        raise ValueError(f"group: expected a positive int with n_groups ({n_groups}) x group = tile rows of a "
                         f"({rows_t}); got {group!r}")
    tc, ta, tb = as_tile(cond, dc), as_tile(a, da), as_tile(b, db)
    out = empty(tuple(sa), da)
    launch_select(tc.tt, ta.tt, tb.tt, out.tt, n_groups, group, tiles(sa[1]), pair=0)
    return result(out, wants_torch(cond))
