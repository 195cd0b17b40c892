"""Qwen3-MoE reference model (``Qwen3MoeForCausalLM``): the shared :class:`reference.decoder.Decoder` with
Qwen3's attention (QK-norm) whose sparse layers run the routed experts of :mod:`reference.moe`."""

from __future__ import annotations

from .decoder import Decoder

__all__ = ["Qwen3MoeModel"]


class Qwen3MoeModel(Decoder):
    """A :class:`Decoder` whose config must have ``arch == "qwen3_moe"`` (Qwen3 attention with QK-norm;
    sparse layers :class:`SparseMoeBlock`, the others dense)."""

    arch = "qwen3_moe"
    qk_norm = True
