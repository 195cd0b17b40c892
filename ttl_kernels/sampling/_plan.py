"""Compile-time plans of the token-selection kernels and the constant tiles they read.

Argmax (:mod:`._argmax_partial` then :mod:`._argmax_merge`): the logits ``[rows, V]`` are ``RT x TT`` tiles
(``RT = ceil(rows / 32)``, ``TT = ceil(V / 32)``).  Each tile row is cut into ``NUC`` column *units* of ``W``
consecutive tiles (the last unit of a row has ``WL <= W`` tiles); a work item of the partial op is one unit,
``u = rt * NUC + cu`` (tile row ``rt = u // NUC``, column unit ``cu = u % NUC``, tiles ``[cu W, cu W + n)``
with ``n = W`` or ``WL``), dealt round-robin over the flattened grid (:class:`~ttl_kernels.tiling.ItemsOnGrid`).
``W <= MAX_UNIT_TILES = 256`` keeps every unit-local tile number below 256 (exact even in bf16, and in tf32,
the precision of a Tensix source register; module :mod:`.argmax`).  When a row needs more units than the grid
has cores, the unit count is rounded up to a multiple of the cores (every core runs the same number of
units).  The merge op's work item is one tile row.

The id layout every kernel of the family reads and writes (``ID_BASE = 1024``): an id ``i`` is carried as
``HI = i // 1024`` and ``LO = i % 1024`` (both below 2048 for ``V <= 2^21``); an id tile holds ``i`` in
column 0, ``HI`` in column 1, ``LO`` in column 2 and 0 elsewhere (:func:`id_columns`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import torch

from ..host import TILE, tiles
from ..tiling import ItemsOnGrid, fit_grid

MAX_UNIT_TILES = 256  # tiles per unit at most: unit-local tile numbers t < 256 (exact in bf16 and tf32)
MIN_UNIT_TILES = 32  # tiles per unit at least (when the row has that many): amortises the per-unit cost
FLT_MAX = float(torch.finfo(torch.float32).max)  # 3.4028234663852886e38, exact in fp32
MAX_ACCEPT_K = 127  # proposals per verify block the accept kernel takes (k + 1 <= 128 rows: 4 tile rows)
ID_BASE = 1024  # ids travel as (i // ID_BASE, i % ID_BASE)
EXACT_VOCAB = 1 << 21  # HI < 2048: every value a kernel loads is exact in tf32


@dataclass(frozen=True)
class ArgmaxPlan(ItemsOnGrid):
    """Partial-op constants: tile rows, tiles per row, valid columns of the last tile, units per row and their
    widths, whether the logits are bf16 (cast to fp32 in L1), and the launch grid."""

    rows_t: int
    cols_t: int
    valid_last: int  # valid columns in the last tile of a row (1..32)
    nuc: int  # column units per tile row
    w: int  # tiles per unit (all but the last unit of a row)
    wl: int  # tiles of the last unit of a row (1..w)
    cast: int  # 1: bf16 logits (typecast to fp32 in L1), 0: fp32 logits
    gx: int
    gy: int

    @property
    def n_items(self) -> int:
        return self.rows_t * self.nuc

    @property
    def vocab(self) -> int:
        return (self.cols_t - 1) * TILE + self.valid_last

    def unit_tiles(self, cu: int) -> tuple[int, int]:
        """Tile range [lo, hi) of column unit ``cu``."""
        lo = cu * self.w
        return lo, lo + (self.wl if cu == self.nuc - 1 else self.w)

    def unit_lines(self, u: int) -> tuple[int, int, int, int, int]:
        """``(rt, cu, last, n, c0)`` of work unit ``u``, computed by the lines the partial op's threads repeat
        (a thread cannot call a function in 1.1.1; a test pins these lines to :meth:`unit_tiles`)."""
        NUC, W, WL = self.nuc, self.w, self.wl
        rt = u // NUC  # tile row of the unit
        cu = u % NUC  # column unit: tiles [cu W, cu W + n)
        last = (cu + 1) // NUC  # 1 iff the row's last unit (cu = NUC - 1)
        n = W + last * (WL - W)  # the unit's tiles
        c0 = cu * W
        return rt, cu, last, n, c0


@dataclass(frozen=True)
class MergePlan(ItemsOnGrid):
    """Merge-op constants: tile rows (the work items), units per row and their width, launch grid."""

    rows_t: int
    nuc: int
    w: int
    gx: int
    gy: int

    @property
    def n_items(self) -> int:
        return self.rows_t


def plan_argmax(rows: int, vocab: int, dtype: str, grid: tuple[int, int]) -> tuple[ArgmaxPlan, MergePlan]:
    """Split ``[rows, vocab]`` logits over ``grid``: enough units per tile row to give every core one (when
    the row has ``MIN_UNIT_TILES`` tiles per core), never more than ``MAX_UNIT_TILES`` tiles per unit."""
    rt, tt = tiles(rows), tiles(vocab)
    per_row = max(1, grid[0] * grid[1] // rt)  # cores per tile row
    nuc = max(1, min(per_row, -(-tt // MIN_UNIT_TILES)))  # fill the grid with units of >= MIN tiles
    need = -(-tt // MAX_UNIT_TILES)  # units of <= MAX tiles
    if need > nuc:
        nuc = need if need <= per_row else -(-need // per_row) * per_row  # whole rounds of units per core
    w = -(-tt // nuc)
    nuc = -(-tt // w)  # (rounding w up may leave fewer units)
    wl = tt - (nuc - 1) * w
    gx, gy = fit_grid(rt * nuc, grid)
    partial = ArgmaxPlan(rt, tt, vocab - (tt - 1) * TILE, nuc, w, wl, 1 if dtype == "bf16" else 0, gx, gy)
    mx, my = fit_grid(rt, grid)
    return partial, MergePlan(rt, nuc, w, mx, my)


@dataclass(frozen=True)
class AcceptPlan:
    """Accept-kernel constants: proposals ``k`` and the tile rows of the ``k + 1`` verify rows."""

    k: int

    @property
    def rows_t(self) -> int:
        return tiles(self.k + 1)


# ------------------------------------------------------------------------------------------ constant tiles


def id_columns(ids: torch.Tensor) -> torch.Tensor:
    """Ids ``[n]`` -> the id-tile columns ``[n, 3]``: ``(i, i // 1024, i % 1024)`` (module docstring)."""
    i = ids.float().reshape(-1)
    hi = torch.floor(i / ID_BASE)
    return torch.stack([i, hi, i - ID_BASE * hi], dim=1)


@cache
def argmax_consts() -> torch.Tensor:
    """``[32, 192]`` (stored bf16; every value exact), six tiles: 0 ``colidx[r, c] = c`` (the partial op); for the
    merge, 1 and 2 the per-column coefficients ``H`` and ``L`` of its result ``HI * H + LO * L`` (column 0
    ``(1024, 1)`` gives the id, column 1 ``(1, 0)`` gives ``HI``, column 2 ``(0, 1)`` gives ``LO``, others 0), and
    3, 4, 5 the selectors ``S0``, ``S1``, ``S2`` (row c ones: ``X @ Sc`` copies column c of X to every column)."""
    c = torch.zeros(TILE, 6 * TILE)
    c[:, 0:TILE] = torch.arange(TILE, dtype=torch.float32).repeat(TILE, 1)
    c[:, TILE + 0] = float(ID_BASE)
    c[:, TILE + 1] = 1.0
    c[:, 2 * TILE + 0] = 1.0
    c[:, 2 * TILE + 2] = 1.0
    for j in range(3):
        c[j, (3 + j) * TILE:(4 + j) * TILE] = 1.0
    return c


# Tile columns of the accept kernel's constants tensor (tile rows: RT = AcceptPlan.rows_t), as functions of RT.
def accept_layout(rt: int) -> dict[str, int]:
    """First tile column of each constant block: ``L`` (RT x RT), ``INV``, ``ONES`` (RT x 1), ``SEL1``, ``SEL2``
    (1 x 1), ``J``, ``M0``, ``M0K``, ``M1`` (1 x RT)."""
    return dict(L=0, INV=rt, ONES=rt + 1, SEL1=rt + 2, SEL2=rt + 3, J=rt + 4, M0=2 * rt + 4, M0K=3 * rt + 4,
                M1=4 * rt + 4, WIDTH=5 * rt + 4)


@cache
def accept_consts(k: int) -> torch.Tensor:
    """The accept kernel's constants for ``k`` proposals (fp32, ``[RT * 32, WIDTH * 32]``):

    * ``L``     inclusive prefix sum over the verify rows: ``L[j, i] = 1`` iff ``i <= j`` (``c = L @ mism``);
    * ``INV``   1 in rows ``j >= k`` (no proposal there: a forced mismatch), 0 above;
    * ``ONES``  all ones (RT x 1);
    * ``SEL1``, ``SEL2``  row 1 / row 2 ones: ``X @ SELc`` copies column c of X (the id's HI / LO) to every column;
    * ``J``     all ones (1 x RT): ``J @ z`` sums z over all rows into every element;
    * ``M0``, ``M0K``, ``M1``  row 0 ones, row 0 = 1024, row 1 ones (1 x RT): assemble the result rows (and
      ``s @ M0`` spreads a uniform tile ``s`` over 1 x RT tiles).
    """
    rt = tiles(k + 1)
    lay = accept_layout(rt)
    n = rt * TILE

    def cols(name: str, width: int = 1) -> slice:
        return slice(lay[name] * TILE, (lay[name] + width) * TILE)

    c = torch.zeros(n, lay["WIDTH"] * TILE)
    c[:, cols("L", rt)] = torch.tril(torch.ones(n, n))
    c[k:, cols("INV")] = 1.0
    c[:, cols("ONES")] = 1.0
    c[1, cols("SEL1")] = 1.0
    c[2, cols("SEL2")] = 1.0
    c[0:TILE, cols("J", rt)] = 1.0
    c[0, cols("M0", rt)] = 1.0
    c[0, cols("M0K", rt)] = float(ID_BASE)
    c[1, cols("M1", rt)] = 1.0
    return c
