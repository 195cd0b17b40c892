"""cos / sin tables for rotary position embedding, built once per (model config, max_seq_len) on the host
and kept on the device.

HF's tables (``LlamaRotaryEmbedding`` / ``Qwen3RotaryEmbedding``) are ``cos(pos * inv_freq)`` with the
frequency vector repeated over both halves of head_dim, so their two halves are equal.  The device keeps
the first half only: ``cos`` and ``sin`` are ``max_seq_len x head_dim/2`` TileTensors (one tile column
for head_dim 64, two for 128).  Frequencies come from :func:`reference.rope.inv_freq` (HF's ``default``
and ``llama3`` rope types), the tables from :func:`reference.rope.rope_tables`, so the values are HF's,
computed in float32 and then stored in the tables' dtype (HF casts them to the activations' dtype too).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from reference import rope as ref

from ..host import TILE, TileTensor, quantize, tiles, to_device, to_torch

ROPE_DTYPES = ("bf16", "fp32")


@dataclass(eq=False)
class RopeTables:
    """Device-resident rotary tables for positions ``0 .. max_seq_len-1``.

    ``cos`` / ``sin``: TileTensors of shape ``(max_seq_len, head_dim // 2)`` (the first half of HF's
    tables), in ``dtype``.  ``host_cos`` / ``host_sin``: the same halves in float32 before quantisation
    (for references; ``None`` when wrapped from device tensors)."""

    head_dim: int
    max_seq_len: int
    dtype: str
    cos: TileTensor
    sin: TileTensor
    host_cos: torch.Tensor | None = field(default=None, repr=False)
    host_sin: torch.Tensor | None = field(default=None, repr=False)

    @classmethod
    def from_config(cls, head_dim: int, rope_theta: float, rope_scaling: dict | None = None, max_seq_len: int = 4096,
                    dtype: str = "bf16") -> RopeTables:
        """Tables for ``head_dim`` (a multiple of 64: each half whole 32-wide tiles), base ``rope_theta``
        (Llama-3: 500000 with ``rope_scaling = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor":
        1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}``; Qwen3: 1e6 and None),
        positions ``0 .. max_seq_len-1``."""
        check_head_dim(head_dim, "head_dim")
        if not isinstance(max_seq_len, int) or max_seq_len < 1:
            raise ValueError(f"max_seq_len: must be a positive int; got {max_seq_len!r}")
        if not (isinstance(rope_theta, (int, float)) and rope_theta > 1):
            raise ValueError(f"rope_theta: must be a number > 1; got {rope_theta!r}")
        if dtype not in ROPE_DTYPES:
            raise ValueError(f"dtype: must be one of {ROPE_DTYPES}; got {dtype!r}")
        cos, sin = ref.rope_tables(max_seq_len, head_dim, float(rope_theta), rope_scaling)
        h = head_dim // 2
        cos, sin = cos[:, :h].contiguous(), sin[:, :h].contiguous()
        return cls(head_dim, max_seq_len, dtype, to_device(cos, dtype), to_device(sin, dtype), cos, sin)

    @classmethod
    def from_hf_config(cls, config, max_seq_len: int | None = None, dtype: str = "bf16") -> RopeTables:
        """From a transformers ``LlamaConfig`` / ``Qwen3Config`` (``rope_parameters`` in transformers 5,
        ``rope_theta`` + ``rope_scaling`` before).  ``max_seq_len`` defaults to
        ``config.max_position_embeddings``."""
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        params = getattr(config, "rope_parameters", None)
        if params:
            theta = params["rope_theta"]
            scaling = None if params.get("rope_type", "default") == "default" else dict(params)
        else:
            theta, scaling = config.rope_theta, getattr(config, "rope_scaling", None)
        return cls.from_config(head_dim, theta, scaling, max_seq_len or config.max_position_embeddings, dtype)

    @classmethod
    def from_device(cls, cos: TileTensor, sin: TileTensor) -> RopeTables:
        """Wrap half-width device tables ``(max_seq_len, head_dim // 2)`` made elsewhere (for example by
        ``ttl_kernels.to_device(tables.cos)``)."""
        if not isinstance(cos, TileTensor) or not isinstance(sin, TileTensor):
            raise ValueError("cos: expected TileTensors for cos and sin")
        if sin.shape != cos.shape:
            raise ValueError(f"sin: shape {sin.shape} does not match cos's {cos.shape}")
        if sin.dtype != cos.dtype:
            raise ValueError(f"sin: dtype {sin.dtype} does not match cos's {cos.dtype}")
        check_head_dim(2 * cos.shape[1], "cos")
        return cls(2 * cos.shape[1], cos.shape[0], cos.dtype, cos, sin)

    @property
    def rows_t(self) -> int:
        """Tile rows of the tables (32 positions each)."""
        return tiles(self.max_seq_len)

    def lookup(self, positions) -> tuple[torch.Tensor, torch.Tensor]:
        """Full-width float32 cos / sin rows ``(len(positions), head_dim)`` holding the values the device
        tables store (quantised to ``dtype``): what a reference should use."""
        pos = torch.as_tensor(list(positions), dtype=torch.long)
        if self.host_cos is not None:
            c = quantize(self.host_cos[pos], self.dtype)
            s = quantize(self.host_sin[pos], self.dtype)
        else:
            c = to_torch(self.cos)[pos]
            s = to_torch(self.sin)[pos]
        return torch.cat([c, c], -1), torch.cat([s, s], -1)


def check_head_dim(head_dim, arg: str) -> int:
    if not isinstance(head_dim, int) or head_dim <= 0 or head_dim % 2:
        raise ValueError(f"{arg}: head_dim must be a positive even int; got {head_dim!r}")
    if head_dim % (2 * TILE):
        raise ValueError(f"{arg}: head_dim must be a multiple of {2 * TILE} (each half whole 32-wide tiles, "
                         f"e.g. 64 or 128); got {head_dim}")
    return head_dim
