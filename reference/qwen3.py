"""Qwen3 reference model (``Qwen3ForCausalLM``): the shared :class:`reference.decoder.Decoder` with
Qwen3's specifics: per-head RMSNorm on q and k (``self_attn.q_norm`` / ``k_norm``, weight
``[head_dim]`` shared by all heads, applied before RoPE), ``head_dim`` independent of
``hidden_size / num_heads`` (128 in every release), RoPE theta 1e6 in the releases, embeddings tied in the
small models.  Sliding-window attention (``use_sliding_window``) is not supported (no release uses it)."""

from __future__ import annotations

from .decoder import Decoder

__all__ = ["Qwen3Model"]


class Qwen3Model(Decoder):
    """A :class:`Decoder` whose config must have ``arch == "qwen3"`` (with ``qk_norm``)."""

    arch = "qwen3"
    qk_norm = True
