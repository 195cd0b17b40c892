"""Shared pieces of the RMSNorm kernels: the row plan, the constant tiles, and argument checks.

Row plan (:class:`NormPlan`), in tiles: a ``rows x H`` tensor is ``RT x HT`` tiles (``RT = ceil(rows/32)``,
``HT = ceil(H/32)``).  A *tile row* (32 rows x HT tiles) is the unit of work: tile rows are dealt
round-robin over the flattened core grid (core ``k = y * GX + x`` takes tile rows ``k, k + NC, ...``; the
launch grid is cut down to the cores that get work, :func:`fit_grid`).
Inside a tile row the kernel walks ``NCH`` chunks of ``BC`` tiles (``BC`` divides ``HT``).

*Resident* (one pass over DRAM): the compute thread copies every chunk of x it receives into a
``keep`` buffer of ``NCH`` slots, so the whole tile row stays in L1 (``HT`` tiles) and the second sweep
(normalise and scale) reads it from there: x is read from DRAM exactly once.  *Two-pass*: when the tile
row plus the streaming buffers does not fit :data:`NORM_L1_BUDGET`, the reader streams x a second time
for the second sweep (x read twice).  Which one a call uses is :attr:`NormPlan.passes`.

*Split* (:mod:`._split`, decode-sized inputs: at most half the grid's worth of tile rows, rows of >= 4 tiles):
each tile row is cut into ``slices`` contiguous runs of chunks, one per core, and two operations run: the
per-slice sums of squares, then the scale (x read by both).  :func:`split_slices` picks the slice count.

Constant tiles (cached device tensors, read once per core):

``E0``      one 32 x 32 tile, column 0 = 1, the rest 0.  ``rsqrt(...) * E0`` keeps the per-row factor in
            column 0 only, so ``(rsqrt(...) * E0) @ gamma_chunk`` = ``inv[r] * gamma[c]`` for every row r
            and column c of the chunk: the per-row broadcast and the gamma multiply in one matmul, using
            row 0 of gamma's tile storage only (so gamma's padding rows never matter).
``ONES``    BC x 1 tiles of ones for the row sum ``sq @ ONES`` (every column of the result = the row
            sum), built on device with ``fill`` (no DRAM traffic).
``MASK``    1 x BC tiles multiplying ``x * x`` of the last chunk: 1 for valid columns, 0 for the padding
            columns, so the padding of x (whatever it holds, e.g. the test sentinel -42) never reaches the
            mean; the mean divides by the true H.  All ones, built with ``fill``, when H is a multiple of
            32; otherwise a host tensor (BC tiles read once per core, with BC <= HT/16 in that case).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import torch

from .._api import tensor_info
from ..host import TILE, TILE_BYTES, TileTensor, tiles, to_device
from ..tiling import ItemsOnGrid, fit_grid

NORM_DTYPES = ("bf16", "fp32")
# L1 a norm kernel may plan for per core.  Wormhole has 1464 KiB of L1 per core, of which ~1.3 MiB is free
# for kernel buffers (the simulator warns above 1336 KiB); 1 MiB leaves room for the firmware and stack.
NORM_L1_BUDGET = 1024 * 1024
MAX_BC = 8  # chunk width in tiles: one DST-sized element-wise block


@dataclass(frozen=True)
class NormPlan(ItemsOnGrid):
    """Compile-time shape of a row-wise norm call (see the module docstring).  The work items dealt over
    the grid are the tile rows (:class:`~ttl_kernels.tiling.ItemsOnGrid`)."""

    rows_t: int  # RT: tile rows
    cols: int  # H in elements (the mean divides by this)
    bc: int  # BC: chunk width in tiles
    resident: bool  # whole tile row kept in L1 (x read once) or two passes (x read twice)
    gx: int
    gy: int
    slices: int = 1  # > 1: the split plan (:mod:`._split`): each tile row cut into this many slices over cores

    @property
    def n_items(self) -> int:
        return self.rows_t * self.slices

    @property
    def split(self) -> bool:
        return self.slices > 1

    @property
    def ht(self) -> int:
        return tiles(self.cols)

    @property
    def nch(self) -> int:
        return self.ht // self.bc

    @property
    def rem(self) -> int:
        """Valid columns in the last tile (0 = H is a multiple of 32)."""
        return self.cols % TILE

    @property
    def passes(self) -> int:
        """Reads of x: 1 (resident), 2 (two-pass, or split: the sum-of-squares op and the scale op each read it)."""
        return 1 if self.resident and not self.split else 2

    @property
    def last_valid_cols(self) -> int:
        """Valid columns of the last chunk (its MASK is 1 there)."""
        return self.cols - (self.nch - 1) * self.bc * TILE


def _chunk_width(ht: int, max_bc: int = MAX_BC) -> int:
    return max(d for d in range(1, min(ht, max_bc) + 1) if ht % d == 0)


def l1_tiles(ht: int, bc: int, chunk_buffers: int, resident: bool) -> int:
    """Tiles of dataflow-buffer space per core: the kept tile row (HT, or one chunk when two-pass), the
    chunk-shaped buffers (``chunk_buffers`` x BC, counting double-buffered ones twice) and 5 single tiles
    (E0, the 2-slot accumulator, r, A)."""
    return (ht if resident else bc) + chunk_buffers * bc + 5


def plan_norm(rows: int, cols: int, dtype: str, grid: tuple[int, int], chunk_buffers: int) -> NormPlan:
    ht = tiles(cols)
    rt = tiles(rows)
    nc = grid[0] * grid[1]
    slices = split_slices(rt, ht, nc)
    if slices > 1:
        # split plan (decode-sized: too few tile rows for the grid): slices of >= 2 tiles over the cores
        bc = _chunk_width(ht, max(1, min(MAX_BC, ht // slices)))
        slices = min(slices, ht // bc)
        gx, gy = fit_grid(rt * slices, grid)
        return NormPlan(rt, cols, bc, True, gx, gy, slices)
    # H not a multiple of 32: the last chunk's MASK (BC tiles) is read once per core, so narrow chunks keep
    # that small (about HT/16 tiles: under 2% of a decode row's minimum traffic of 3 HT tiles)
    bc = _chunk_width(ht, MAX_BC if cols % TILE == 0 else max(1, min(MAX_BC, ht // 16)))
    resident = l1_tiles(ht, bc, chunk_buffers, True) * TILE_BYTES[dtype] <= NORM_L1_BUDGET
    gx, gy = fit_grid(rt, grid)
    return NormPlan(rt, cols, bc, resident, gx, gy)


MAX_SLICES = 16  # the scale op reads every slice's partial tile: RT * S^2 tiles, so S stays small


def split_slices(rt: int, ht: int, n_cores: int) -> int:
    """Slices per tile row for the split plan (1: the one-op plan).  Split when the tile rows fill at most half
    of the grid and a row has at least 4 tiles: then up to ``MAX_SLICES`` slices of >= 2 tiles, at most one item
    per core."""
    if 2 * rt > n_cores or ht < 4:
        return 1
    return max(1, min(MAX_SLICES, ht // 2, n_cores // rt))


# ----------------------------------------------------------------------------------- constant tiles


@cache
def e0_tile(dtype: str, backend: str) -> TileTensor:
    """32 x 32, column 0 = 1 (``backend`` is part of the cache key only)."""
    e = torch.zeros(TILE, TILE)
    e[:, 0] = 1.0
    return to_device(e, dtype)


@cache
def mask_block(bc: int, valid_cols: int, dtype: str, backend: str) -> TileTensor:
    """BC x BC tiles.  Tile row 0 is the last chunk's column mask: every row holds 1 in the columns
    < ``valid_cols`` and 0 in the rest.  The kernels read tile row 0 only (and only when H is not a
    multiple of 32); the tensor is also the shape donor of the (BC, 1) ONES buffer, which needs a tensor
    with at least BC tile rows on the simulator."""
    m = torch.ones(bc * TILE, bc * TILE)
    m[:TILE, valid_cols:] = 0.0
    return to_device(m, dtype)


# ------------------------------------------------------------------------------------ argument checks


def check_eps(eps, arg: str = "eps") -> float:
    try:
        e = float(eps)
    except (TypeError, ValueError):
        raise ValueError(f"{arg}: must be a positive finite number; got {eps!r}") from None
    if not math.isfinite(e) or e <= 0:
        raise ValueError(f"{arg}: must be a positive finite number (> 0); got {eps!r}")
    return e


def weight_tile(w, length: int, dtype: str, arg: str) -> TileTensor:
    """A norm weight of ``length`` elements as a (1, length) device tensor of ``dtype``.

    Accepts a torch tensor of shape [length] or [1, length], or a TileTensor of shape (1, length).  Only
    row 0 of the tile storage is read by the kernels, so any padding works."""
    shape, wdtype = tensor_info(w, arg, NORM_DTYPES)
    if len(shape) == 1:
        shape = (1, shape[0])
        if isinstance(w, torch.Tensor):
            w = w.reshape(1, -1)
    if len(shape) != 2 or shape[0] != 1:
        raise ValueError(f"{arg}: expected shape [{length}] or [1, {length}]; got {tuple(shape)}")
    if shape[1] != length:
        raise ValueError(f"{arg}: length must equal {length} (the normalised dim); got {shape[1]}")
    if wdtype != dtype:
        raise ValueError(f"{arg}: dtype {wdtype} does not match the input's {dtype}")
    if isinstance(w, TileTensor):
        return w
    return to_device(w, dtype)
