"""RMSNorm references, written to match HF transformers' LlamaRMSNorm / Qwen3RMSNorm op for op.

HF computes in float32, casts the normalised value back to the input dtype, then multiplies by the weight:
``weight * (x * rsqrt(mean(x^2) + eps)).to(x.dtype)``.  In fp32 this is the textbook formula; in bf16 the
intermediate rounding is part of the model's behaviour, so the reference keeps it.
"""

from __future__ import annotations

import torch


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm over the last dim, HF order of operations; result in the promoted dtype of weight and x."""
    dtype = x.dtype
    xf = x.float()
    var = xf.pow(2).mean(-1, keepdim=True)
    return weight * (xf * torch.rsqrt(var + eps)).to(dtype)


def rms_norm_fp32(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """The textbook formula in float32 (no intermediate rounding): what kernels are compared against."""
    xf = x.float()
    return xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps) * weight.float()


def add_rms_norm(
    x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor, eps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pre-norm decoder step: ``h = x + residual`` and ``rms_norm(h)`` (float32)."""
    h = x.float() + residual.float()
    return h, rms_norm_fp32(h, weight, eps)


def head_rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """Per-head RMSNorm (Qwen3 q_norm / k_norm): ``x[..., n_heads, head_dim]`` normalised over head_dim
    with one ``weight[head_dim]`` shared by all heads (float32)."""
    return rms_norm_fp32(x, weight, eps)


def head_rms_norm_rows(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """:func:`head_rms_norm` for the 2-D layout the kernels use: ``x`` is ``rows x (n_heads * head_dim)``
    with ``head_dim = weight.numel()`` (weight may be [head_dim] or [1, head_dim]); float32 result of the
    same 2-D shape."""
    w = weight.reshape(-1)
    rows, cols = x.shape
    return head_rms_norm(x.reshape(rows, cols // w.numel(), w.numel()), w, eps).reshape(rows, cols)
