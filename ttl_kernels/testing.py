"""Comparison helpers for kernel tests and benchmarks (also useful for your own kernels)."""

from __future__ import annotations

import torch


def pcc(a: torch.Tensor, b: torch.Tensor) -> float:
    """Pearson correlation coefficient of the flattened tensors, in float64.

    A real correlation, not an isclose wrapper: ``1 - pcc`` measures how much of the variation of ``b``
    ``a`` fails to explain.  Two constant tensors correlate 1.0 if equal and 0.0 otherwise; any NaN gives
    NaN (so a test comparing ``pcc >= threshold`` fails)."""
    x = a.detach().double().flatten()
    y = b.detach().double().flatten()
    if x.shape != y.shape:
        raise ValueError(f"pcc: shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    if torch.isnan(x).any() or torch.isnan(y).any():
        return float("nan")
    xc, yc = x - x.mean(), y - y.mean()
    den = torch.sqrt((xc * xc).sum() * (yc * yc).sum())
    if den == 0:
        return 1.0 if torch.equal(x, y) else 0.0
    return float((xc * yc).sum() / den)


def max_ulp_bf16(a: torch.Tensor, b: torch.Tensor) -> int:
    """Largest distance in bfloat16 units in the last place between two tensors of bf16 values."""
    ia = a.float().bfloat16().view(torch.int16).int()
    ib = b.float().bfloat16().view(torch.int16).int()
    # map sign-magnitude to a monotonic integer line
    ia = torch.where(ia < 0, -32768 - ia, ia)
    ib = torch.where(ib < 0, -32768 - ib, ib)
    return int((ia - ib).abs().max()) if ia.numel() else 0
