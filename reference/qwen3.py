"""Qwen3 reference model (``Qwen3ForCausalLM``): the shared :class:`reference.decoder.Decoder` with
Qwen3's specifics: per-head RMSNorm on q and k (``self_attn.q_norm`` / ``k_norm``, weight
``[head_dim]`` shared by all heads, applied before RoPE), ``head_dim`` independent of
``hidden_size / num_heads`` (128 in every release), RoPE theta 1e6 in the releases, embeddings tied in the
small models.  Sliding-window attention (``use_sliding_window``) is not supported (no release uses it)."""

from __future__ import annotations

import os

import torch

from . import FP32
from .decoder import Decoder, DecoderConfig

__all__ = ["Qwen3Model"]


class Qwen3Model(Decoder):
    """A :class:`Decoder` whose config must have ``arch == "qwen3"`` (with ``qk_norm``)."""

    arch = "qwen3"

    def __init__(self, config: DecoderConfig, dtype: torch.dtype = FP32):
        if config.arch != self.arch or not config.qk_norm:
            raise ValueError(f"Qwen3Model config: expected arch 'qwen3' with qk_norm; got arch {config.arch!r}, qk_norm {config.qk_norm}")
        super().__init__(config, dtype)

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, dtype: torch.dtype = FP32) -> Qwen3Model:
        """Load a local HF Qwen3 checkpoint directory (see :func:`reference.hf.load_pretrained`)."""
        from .hf import load_pretrained

        model, _ = load_pretrained(path, dtype=dtype, expect_arch=cls.arch)
        return model
