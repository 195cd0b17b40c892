"""Compile-time plans of the mixture-of-experts kernels and the constant tiles they read.

Router (:mod:`.router`): the logits ``[N, E]`` are ``RT x ET`` tiles (``RT = ceil(N / 32)``, ``ET = ceil(E / 32)``);
a work item is one tile row (32 token rows with all their experts), dealt round-robin over the flattened grid.
``E <= MAX_EXPERTS`` (ids stay exact in tf32 and the per-row state fits L1 many times over), ``k <= 32`` (the
selected weights and ids of a row fit one tile).

Expert scale (:mod:`.expert_scale`): ``a [N, S * Ip]`` is ``RT x (S * IT)`` tiles (``IT = Ip / 32`` tiles per slot);
a work item is ``CW`` consecutive tiles of one slot in one tile row, ``u = (rt * S + s) * NCH + j`` (chunk
``j < NCH = IT / CW``), so a decode step with few slots still spreads over the grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import torch

from ..host import TILE, tiles
from ..tiling import ItemsOnGrid, fit_grid

MAX_EXPERTS = 2048  # expert ids (and 'no expert' keys up to 2 * MAX_EXPERTS) are exact in tf32
MAX_TOP_K = TILE  # the k selected weights / ids of a row fit one tile
FLT_MAX = float(torch.finfo(torch.float32).max)


@dataclass(frozen=True)
class RouterPlan(ItemsOnGrid):
    """Router constants: tile rows (the work items), experts, expert tiles per row, valid columns of the last one,
    k, renormalise, bf16 logits (cast to fp32 in L1), launch grid."""

    rows_t: int
    experts: int
    k: int
    norm: int  # 1: renormalise the k weights to sum 1
    cast: int  # 1: bf16 logits, 0: fp32
    gx: int
    gy: int

    @property
    def n_items(self) -> int:
        return self.rows_t

    @property
    def et(self) -> int:
        return tiles(self.experts)

    @property
    def valid_last(self) -> int:
        return self.experts - (self.et - 1) * TILE


def plan_router(rows: int, experts: int, k: int, norm: bool, dtype: str, grid: tuple[int, int]) -> RouterPlan:
    rt = tiles(rows)
    gx, gy = fit_grid(rt, grid)
    return RouterPlan(rt, experts, k, 1 if norm else 0, 1 if dtype == "bf16" else 0, gx, gy)


@dataclass(frozen=True)
class ScalePlan(ItemsOnGrid):
    """Expert-scale constants: tile rows, slots, tiles per slot, chunk width (tiles per work item), bf16
    activations, launch grid."""

    rows_t: int
    slots: int
    it: int  # tiles per slot
    cw: int  # tiles per work item (divides it)
    cast: int  # 1: bf16 activations, 0: fp32
    gx: int
    gy: int

    @property
    def nch(self) -> int:
        return self.it // self.cw

    @property
    def n_items(self) -> int:
        return self.rows_t * self.slots * self.nch

    def item_tiles(self, u: int) -> tuple[int, int, int]:
        """``(rt, slot, first tile column)`` of work item ``u`` (the lines the threads repeat)."""
        NCH, S, IT, CW = self.nch, self.slots, self.it, self.cw
        rs = u // NCH  # (tile row, slot)
        j = u % NCH  # chunk within the slot
        rt = rs // S
        s = rs % S
        return rt, s, s * IT + j * CW


MAX_CHUNK = 8  # tiles per work item at most


def plan_scale(rows: int, slots: int, it: int, dtype: str, grid: tuple[int, int]) -> ScalePlan:
    """Chunks as wide as possible (at most :data:`MAX_CHUNK` tiles, a divisor of ``it``) while every core of
    ``grid`` gets work when there is enough of it."""
    rt = tiles(rows)
    cores = grid[0] * grid[1]
    divs = [d for d in range(min(it, MAX_CHUNK), 0, -1) if it % d == 0]
    cw = next((d for d in divs if rt * slots * (it // d) >= cores), divs[-1])
    n = rt * slots * (it // cw)
    gx, gy = fit_grid(n, grid)
    return ScalePlan(rt, slots, it, cw, 1 if dtype == "bf16" else 0, gx, gy)


# ------------------------------------------------------------------------------------------ constant tiles


@cache
def router_consts() -> torch.Tensor:
    """``[32, 32]``: ``colidx[r, c] = c`` (stored bf16: exact)."""
    return torch.arange(TILE, dtype=torch.float32).repeat(TILE, 1)


@cache
def selector_consts() -> torch.Tensor:
    """``[32, 32 * 32]`` fp32: tile ``c`` is the selector ``S_c`` (row ``c`` ones): ``w @ S_c`` copies column ``c``
    of ``w`` to every column."""
    c = torch.zeros(TILE, TILE * TILE)
    for j in range(TILE):
        c[j, j * TILE:(j + 1) * TILE] = 1.0
    return c
