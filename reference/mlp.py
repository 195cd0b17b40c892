"""The dense SwiGLU MLP of every decoder layer (and of each Qwen3-MoE expert): its own module so that
:mod:`reference.decoder` and :mod:`reference.moe` both build on it without importing each other."""

from __future__ import annotations

import torch
from torch import nn

from .config import DecoderConfig

__all__ = ["MLP"]


class MLP(nn.Module):
    """SwiGLU: ``down_proj(silu(gate_proj(x)) * up_proj(x))``, of width ``intermediate_size`` (default the
    config's; a Qwen3-MoE expert passes ``moe_intermediate_size``)."""

    def __init__(self, config: DecoderConfig, intermediate_size: int | None = None):
        super().__init__()
        c = config
        inter = c.intermediate_size if intermediate_size is None else intermediate_size
        self.gate_proj = nn.Linear(c.hidden_size, inter, bias=c.mlp_bias)
        self.up_proj = nn.Linear(c.hidden_size, inter, bias=c.mlp_bias)
        self.down_proj = nn.Linear(inter, c.hidden_size, bias=c.mlp_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(nn.functional.silu(self.gate_proj(x)) * self.up_proj(x))
