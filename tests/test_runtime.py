"""The kernel runtime: backend choice, host tensor helpers, and immunity to ttl.sim's bf16 rebinding."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import reference
from reference import eltwise as ref
from ttl_kernels import host, runtime

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str, **env) -> subprocess.CompletedProcess:
    e = dict(os.environ, PYTHONPATH=str(ROOT), **env)
    e.pop("TTLANG_SIM_ONLY", None)
    return subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True, timeout=300)


def test_sim_backend_restores_torch_bfloat16():
    runtime.backend()  # loads ttl.sim in this process (the test session's backend)
    assert runtime.is_sim()
    assert torch.bfloat16 is runtime.TORCH_BF16
    assert torch.tensor([1.0 + 2 ** -10]).to(torch.bfloat16).float().item() == 1.0  # really rounds
    assert reference.BF16 is runtime.TORCH_BF16


def test_references_are_immune_to_a_raw_ttl_sim_import():
    """Even when ttl.sim is imported directly (no runtime to restore the dtype), references stay bf16."""
    r = _run(
        "import torch, ttl.sim\n"
        "assert torch.bfloat16 is torch.float32, 'precondition: ttl.sim rebinds torch.bfloat16'\n"
        "import reference\n"
        "from ttl_kernels import host\n"
        "x = torch.tensor([1.0 + 2 ** -10])\n"
        "assert str(reference.BF16) == 'torch.bfloat16'\n"
        "assert x.to(reference.BF16).float().item() == 1.0\n"
        "assert host.round_bf16(x).item() == 1.0\n"
        "print('IMMUNE')\n"
    )
    assert "IMMUNE" in r.stdout, r.stderr[-2000:]


def test_reference_in_bf16_rounds_like_bf16():
    a = torch.tensor([[1.0 + 2 ** -9, 3.0]]).to(reference.BF16)
    b = torch.tensor([[2 ** -9, 1.0]]).to(reference.BF16)
    assert a.dtype == reference.BF16 and a.float()[0, 0].item() != 1.0 + 2 ** -9  # rounded on the way in
    assert ref.residual_add(a, b).dtype == torch.float32


def test_bad_backend_env_is_rejected():
    r = _run("from ttl_kernels import runtime; runtime.backend()", TTL_KERNELS_BACKEND="gpu")
    assert r.returncode != 0 and "TTL_KERNELS_BACKEND must be one of" in r.stderr


def test_use_backend_validates_and_refuses_a_switch():
    with pytest.raises(ValueError, match="backend must be one of"):
        runtime.use_backend("tpu")
    with pytest.raises(ValueError, match="arch must be one of"):
        runtime.use_backend("compile", arch="n300")
    runtime.backend()
    with pytest.raises(RuntimeError, match="already loaded"):
        runtime.use_backend("compile", arch="p150")


def test_bad_grid_env_is_rejected():
    r = _run("from ttl_kernels import runtime; runtime.backend()", TTL_KERNELS_GRID="8x8")
    assert r.returncode != 0 and "TTL_KERNELS_GRID" in r.stderr


@pytest.mark.parametrize("rows, cols", [(1, 1), (31, 33), (64, 96)])
@pytest.mark.parametrize("dtype", ["bf16", "fp32", "bfp8_b"])
def test_to_device_round_trip_pads_and_crops(rows, cols, dtype):
    x = torch.randn(rows, cols)
    t = host.to_device(x, dtype, pad_value=host.SENTINEL)
    assert t.shape == (rows, cols) and t.padded_shape == (-(-rows // 32) * 32, -(-cols // 32) * 32)
    back = host.to_torch(t)
    assert back.shape == (rows, cols)
    # (bfp8_b: padding shares exponents with the last valid columns, so quantise with the same padding)
    assert torch.equal(back, host.quantize(host.pad_to_tiles(x, host.SENTINEL), dtype)[:rows, :cols])
    full = host.to_torch(t, padded=True)
    assert (full[rows:, :] == host.SENTINEL).all() and (full[:, cols:] == host.SENTINEL).all()


def test_quantize_bf16_and_bfp8_b():
    x = torch.randn(64, 64) * 10
    q16 = host.quantize(x, "bf16")
    assert torch.equal(q16, x.bfloat16().float())
    q8 = host.quantize(x, "bfp8_b")
    groups = x.reshape(64, 4, 16)
    gmax = groups.abs().amax(-1, keepdim=True)
    err = (q8.reshape(64, 4, 16) - host.round_bf16(groups)).abs()
    assert (err <= gmax * 2 ** -6 + 1e-12).all()  # within half a step of 2^(e-6), e = exponent of the max
    assert not torch.equal(q8, q16)  # coarser than bf16
    assert torch.equal(host.quantize(q8, "bfp8_b"), q8)  # idempotent
    with pytest.raises(ValueError, match="dtype must be one of"):
        host.quantize(x, "int8")
