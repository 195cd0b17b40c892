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


def swap_with_priority(a: torch.Tensor, prio_a: float, b: torch.Tensor, prio_b: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Both devices end holding the tensor of the device with the higher priority; a tie keeps device 0's
    tensor (``a``) on both, so the two devices always agree."""
    w = b if float(prio_b) > float(prio_a) else a
    return w.float(), w.float()
