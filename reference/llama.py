"""Llama-3 reference model (``LlamaForCausalLM``): the shared :class:`reference.decoder.Decoder` with
Llama's specifics, which are all in the config: no QK-norm, RoPE theta from the config (500000 for
Llama-3) with optional ``llama3`` frequency scaling (Llama-3.1 / 3.2), embeddings tied or not (3.2 1B/3B
tie them)."""

from __future__ import annotations

from .decoder import Decoder

__all__ = ["LlamaModel"]


class LlamaModel(Decoder):
    """A :class:`Decoder` whose config must have ``arch == "llama"``."""

    arch = "llama"
    qk_norm = False
