"""References for the element-wise kernels, computed in float32 from the values the kernel was given."""

from __future__ import annotations

import torch


def silu_mul(gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    """``silu(gate) * up`` in float32."""
    g = gate.float()
    return g * torch.sigmoid(g) * up.float()


def residual_add(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a + b`` in float32."""
    return a.float() + b.float()
