"""Llama-3 reference model (``LlamaForCausalLM``): the shared :class:`reference.decoder.Decoder` with
Llama's specifics, which are all in the config: no QK-norm, RoPE theta from the config (500000 for
Llama-3) with optional ``llama3`` frequency scaling (Llama-3.1 / 3.2), embeddings tied or not (3.2 1B/3B
tie them)."""

from __future__ import annotations

import os

import torch

from . import FP32
from .decoder import Decoder, DecoderConfig

__all__ = ["LlamaModel"]


class LlamaModel(Decoder):
    """A :class:`Decoder` whose config must have ``arch == "llama"``."""

    arch = "llama"

    def __init__(self, config: DecoderConfig, dtype: torch.dtype = FP32):
        if config.arch != self.arch or config.qk_norm:
            raise ValueError(f"LlamaModel config: expected arch 'llama' without qk_norm; got arch {config.arch!r}, qk_norm {config.qk_norm}")
        super().__init__(config, dtype)

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, dtype: torch.dtype = FP32) -> LlamaModel:
        """Load a local HF Llama checkpoint directory (see :func:`reference.hf.load_pretrained`)."""
        from .hf import load_pretrained

        model, _ = load_pretrained(path, dtype=dtype, expect_arch=cls.arch)
        return model
