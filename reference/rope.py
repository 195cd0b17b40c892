"""Rotary position embedding references in HF transformers' rotate-half convention.

Frequencies follow HF's ``rope_init_fn`` family: ``default`` (``inv_freq = 1 / theta ** (2i / d)``) and
``llama3`` (Llama-3.1's piecewise rescaling of long wavelengths).  Tables are computed in float32 as HF
does (``cos(pos * inv_freq)`` with the frequency vector repeated over both halves).
"""

from __future__ import annotations

import math

import torch


def inv_freq(head_dim: int, theta: float, rope_scaling: dict | None = None) -> torch.Tensor:
    """Per-pair inverse frequencies [head_dim // 2] (float32)."""
    if head_dim % 2:
        raise ValueError(f"head_dim must be even; got {head_dim}")
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    kind = (rope_scaling or {}).get("rope_type", (rope_scaling or {}).get("type", "default"))
    if kind in (None, "default"):
        return inv
    if kind != "llama3":
        raise ValueError(f"rope_scaling: unsupported rope_type {kind!r} (supported: default, llama3)")
    factor = float(rope_scaling["factor"])
    low = float(rope_scaling["low_freq_factor"])
    high = float(rope_scaling["high_freq_factor"])
    old_ctx = float(rope_scaling["original_max_position_embeddings"])
    low_wavelen, high_wavelen = old_ctx / low, old_ctx / high
    wavelen = 2 * math.pi / inv
    scaled = torch.where(wavelen > low_wavelen, inv / factor, inv)
    smooth = (old_ctx / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, scaled)


def cos_sin(
    positions: torch.Tensor, inv: torch.Tensor, attention_scaling: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos / sin tables [*positions.shape, head_dim] for integer positions (float32)."""
    freqs = positions.float()[..., None] * inv.float()
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos() * attention_scaling, emb.sin() * attention_scaling


def rope_tables(
    max_seq_len: int, head_dim: int, theta: float, rope_scaling: dict | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos / sin for every position 0 .. max_seq_len-1: [max_seq_len, head_dim] each."""
    return cos_sin(torch.arange(max_seq_len), inv_freq(head_dim, theta, rope_scaling))


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """``x * cos + rotate_half(x) * sin`` with cos / sin broadcast against x[..., head_dim]."""
    return x * cos + rotate_half(x) * sin


def rope_rows(
    q: torch.Tensor, k: torch.Tensor, cos_half: torch.Tensor, sin_half: torch.Tensor, positions
) -> tuple[torch.Tensor, torch.Tensor]:
    """RoPE of Q and K in the 2-D layout the kernels use, one position per row.

    ``q``: ``rows x (n_q * head_dim)``, ``k``: ``rows x (n_kv * head_dim)``; ``cos_half`` / ``sin_half``:
    the first halves ``[max_seq_len, head_dim // 2]`` of HF tables (whose two halves are equal), so
    ``head_dim = 2 * cos_half.shape[1]``; ``positions``: one int per row.  Gathers the rows, restores
    both halves and applies :func:`apply_rotary` per head in float32 (HF's ``apply_rotary_pos_emb``)."""
    pos = torch.as_tensor(list(positions), dtype=torch.long)
    c = cos_half.float()[pos]
    s = sin_half.float()[pos]
    c, s = torch.cat([c, c], -1)[:, None, :], torch.cat([s, s], -1)[:, None, :]
    d = c.shape[-1]
    rows = q.shape[0]
    qr = apply_rotary(q.float().reshape(rows, -1, d), c, s).reshape(rows, -1)
    kr = apply_rotary(k.float().reshape(rows, -1, d), c, s).reshape(rows, -1)
    return qr, kr
