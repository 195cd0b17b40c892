"""Checks the kernel tests share: compile-and-lint of a batch of cases, the rejected-input check, and the
tolerance check of the norm and RoPE tests (their module docstrings derive the numbers)."""

from __future__ import annotations

import pytest
import torch

from ttl_kernels import host
from ttl_kernels.compile import CompileResult, compile_cases
from ttl_kernels.testing import max_ulp_bf16, pcc
from ttl_kernels.trace import trace_traffic


def compile_clean(cases: list[str], arch: str) -> list[CompileResult]:
    """Compile every case for ``arch`` (one child process), print a line per case and require each to
    have compiled, linted clean and contained its expected ops; returns the results in case order."""
    results = compile_cases(cases, arch)
    for r in results:
        print(r.line())
    bad = [r.line() for r in results if not r.clean]
    assert not bad, "\n".join(bad)
    assert len(results) == len(cases)
    return results


def assert_rejected(call, arg: str) -> ValueError:
    """``call()`` raises a ValueError whose message starts with ``arg:`` before anything is copied to or
    from the device; returns the error."""
    with trace_traffic() as t, pytest.raises(ValueError) as e:
        call()
    assert str(e.value).split(":")[0] == arg, str(e.value)
    assert t.copies == 0
    return e.value


def check_tolerance(name: str, y, expect, dtype: str, mode: str = "fp32", *, fp32_tol: float, bf16_mode_pcc: float):
    """``y`` against the float32 reference ``expect`` for kernel data of ``dtype`` ("bf16" / "fp32") under
    the simulator's ``mode``: same shape and finite; PCC >= 0.99999 (``bf16_mode_pcc`` for bf16 data in
    bf16 mode) unless the reference is constant; fp32 data within ``fp32_tol`` abs + rel; bf16 data within
    1 bf16 ULP of the rounded reference in fp32 mode, within 2^-5 (|ref| + 1) in bf16 mode."""
    y, expect = y.float(), expect.float()
    assert y.shape == expect.shape, name
    assert torch.isfinite(y).all(), name
    if expect.numel() > 1 and expect.unique().numel() > 1:
        assert pcc(y, expect) >= (bf16_mode_pcc if mode == "bf16" and dtype == "bf16" else 0.99999), name
    if dtype == "fp32":
        torch.testing.assert_close(y, expect, rtol=fp32_tol, atol=fp32_tol, msg=name)
    elif mode == "fp32":
        assert max_ulp_bf16(y, host.round_bf16(expect)) <= 1, name
    else:
        assert ((y - expect).abs() <= 2 ** -5 * (expect.abs() + 1)).all(), name
