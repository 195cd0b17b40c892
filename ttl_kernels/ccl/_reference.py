"""Torch references for the two-device exchange (float32 results, computed from the values given).

Kept next to the kernels because the family's semantics are host-level (who ends up holding what); they
would sit in ``reference/ccl.py`` under the project's one-module-per-family convention.
"""

from __future__ import annotations

import torch

TILE = 32


def mesh_select(gathered: torch.Tensor, pair: torch.Tensor) -> torch.Tensor:
    """``gathered [2R, C]`` (device 0's half on top), ``pair [64, 32]`` (P0 tile above P1 tile) ->
    ``[R, C]``: element ``(i, j)`` comes from device 1's half where ``P1[i % 32, j % 32] > P0[i % 32, j % 32]``,
    else from device 0's half (ties: device 0)."""
    r2, c = gathered.shape
    r = r2 // 2
    g = gathered.float()
    p0, p1 = pair[:TILE].float(), pair[TILE:2 * TILE].float()
    take1 = (p1 > p0).repeat(-(-r // TILE), -(-c // TILE))[:r, :c]
    return torch.where(take1, g[r:], g[:r])


def swap(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Device 0 held ``a``, device 1 held ``b``; afterwards device 0 holds ``b`` and device 1 ``a``."""
    return b.float(), a.float()


def swap_with_priority(a: torch.Tensor, prio_a: float, b: torch.Tensor,
                       prio_b: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Both devices end holding the tensor of the device with the higher priority; a tie keeps device 0's
    tensor (``a``) on both, so the two devices always agree."""
    w = b if float(prio_b) > float(prio_a) else a
    return w.float(), w.float()


def group_select(cond: torch.Tensor, a: torch.Tensor, b: torch.Tensor, group: int | None = None) -> torch.Tensor:
    """``cond [NC * 32, 32]``, ``a, b [NC * group * 32, C]`` -> element ``(i, j)`` of tile row ``r`` from ``b``
    where ``cond[(r // group) * 32 + i % 32, j % 32] > 0``, else from ``a``."""
    n_groups = cond.shape[0] // TILE
    rows_t = a.shape[0] // TILE
    group = group or rows_t // n_groups
    c = cond.float().reshape(n_groups, TILE, TILE) > 0
    per_row = c.repeat_interleave(group, 0).reshape(rows_t * TILE, TILE)
    take_b = per_row.repeat(1, -(-a.shape[1] // TILE))[:, : a.shape[1]]
    return torch.where(take_b, b.float(), a.float())


def speculation_priority(verdict: torch.Tensor, role: torch.Tensor,
                         batch: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``P = 1 + R - 2 R prod_b v_b`` from element (0, 0) of each user's verdict tile and of the role tile, as
    two uniform 32 x 32 tiles (the same float32 values twice: the kernel's bf16 and fp32 outputs)."""
    batch = batch or verdict.shape[0] // TILE
    hit = float(torch.prod(verdict.float()[: batch * TILE: TILE, 0]))
    r = float(role.float()[0, 0])
    p = torch.full((TILE, TILE), 1.0 + r - 2.0 * r * hit)
    return p, p.clone()
