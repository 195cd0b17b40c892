"""Property tests: element-wise kernels on the simulator vs the torch references.

Tolerances (documented here and in README.md):
* fp32 inputs: the simulator computes in fp32 like the reference, so |y - ref| <= 1e-6 + 1e-6 |ref|.
* bf16 inputs, simulator in its default fp32-promotion mode: the result is stored as bf16, so it must be
  the reference (fp32 math on the same bf16 inputs) rounded to bf16: at most 1 bf16 ULP apart.
* bf16 inputs, simulator in bf16 mode (every op rounded to bf16, closer to hardware):
  |y - ref| <= 2^-7 |ref| + 2^-7 (silu * up rounds twice) and PCC >= 0.9999.
* Always PCC >= 0.99999 (fp32 / fp32-promotion) on tensors with at least 2 distinct values.
Padding: inputs are padded with the sentinel -42 (not zero) so a kernel that let padding leak into valid
elements would fail; the valid region must match regardless.
"""

from __future__ import annotations

import pytest
import torch
from conftest import examples
from hypothesis import given
from hypothesis import strategies as st

from reference import BF16
from reference import eltwise as ref
from ttl_kernels import host, runtime
from ttl_kernels.eltwise import residual_add, silu_mul
from ttl_kernels.testing import max_ulp_bf16, pcc
from ttl_kernels.trace import trace_traffic

KERNELS = {"silu_mul": (silu_mul, ref.silu_mul), "residual_add": (residual_add, ref.residual_add)}

# rows/cols: tile-aligned and not, from a single element to several tiles per core on the 8x8 grid
dims = st.one_of(st.integers(1, 70), st.sampled_from([32, 64, 96, 128, 256, 300, 1024]))



def _inputs(rows, cols, dtype, seed, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    a = (torch.randn(rows, cols, generator=g) * scale).to(dtype)
    b = (torch.randn(rows, cols, generator=g) * scale).to(dtype)
    return a, b


def _check(name, y, expect, dtype, mode):
    assert y.shape == expect.shape
    assert torch.isfinite(y).all()
    if expect.numel() > 1 and expect.unique().numel() > 1:
        assert pcc(y, expect) >= (0.9999 if mode == "bf16" and dtype == BF16 else 0.99999), name
    if dtype == torch.float32:
        torch.testing.assert_close(y.float(), expect, rtol=1e-6, atol=1e-6)
    elif mode == "fp32":
        assert max_ulp_bf16(y.float(), host.round_bf16(expect)) <= 1, name
    else:
        torch.testing.assert_close(y.float(), expect, rtol=2 ** -7, atol=2 ** -7)


@pytest.mark.parametrize("name", sorted(KERNELS))
@examples(10)
@given(rows=dims, cols=dims, dtype=st.sampled_from([BF16, torch.float32]), seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_eltwise_torch_api(name, rows, cols, dtype, seed):
    """torch in -> torch out, default simulator mode."""
    fn, reference = KERNELS[name]
    a, b = _inputs(rows, cols, dtype, seed)
    y = fn(a, b)
    assert y.dtype == dtype
    _check(name, y, reference(a, b), dtype, "fp32")


@pytest.mark.parametrize("name", sorted(KERNELS))
@examples(6)
@given(rows=dims, cols=dims, dtype=st.sampled_from(["bf16", "fp32"]), seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_eltwise_sentinel_padding(name, rows, cols, dtype, seed, sim_mode):
    """TileTensor API with -42 in the padding of both inputs; both simulator precision modes."""
    fn, reference = KERNELS[name]
    a, b = _inputs(rows, cols, torch.float32, seed)
    ta = host.to_device(a, dtype, pad_value=host.SENTINEL)
    tb = host.to_device(b, dtype, pad_value=host.SENTINEL)
    out = fn(ta, tb)
    assert isinstance(out, host.TileTensor) and out.shape == (rows, cols) and out.dtype == dtype
    qa, qb = host.quantize(a, dtype), host.quantize(b, dtype)
    _check(name, host.to_torch(out), reference(qa, qb), torch.float32 if dtype == "fp32" else BF16, sim_mode)


@pytest.mark.parametrize("name", sorted(KERNELS))
@pytest.mark.parametrize(
    "bad, match",
    [
        (lambda: (torch.randn(4), torch.randn(4)), "2-D"),
        (lambda: (torch.randn(2, 3, 4), torch.randn(2, 3, 4)), "2-D"),
        (lambda: (torch.randn(4, 5), torch.randn(4, 6)), "shape"),
        (lambda: (torch.randn(4, 5), torch.randn(4, 5).to(BF16)), "dtype"),
        (lambda: (torch.randn(4, 5).double(), torch.randn(4, 5).double()), "dtype"),
        (lambda: (torch.ones(4, 5, dtype=torch.int32), torch.ones(4, 5, dtype=torch.int32)), "dtype"),
        (lambda: (torch.randn(0, 5), torch.randn(0, 5)), "empty"),
        (lambda: ([[1.0]], [[1.0]]), "torch.Tensor"),
    ],
)
def test_bad_input_eltwise(name, bad, match):
    """Bad input raises ValueError naming the argument, before anything is copied or run."""
    fn, _ = KERNELS[name]
    a, b = bad()
    with trace_traffic() as t, pytest.raises(ValueError, match=match) as e:
        fn(a, b)
    arg_names = {"silu_mul": ("gate", "up"), "residual_add": ("a", "b")}[name]
    assert str(e.value).split(":")[0] in arg_names
    assert t.copies == 0


@pytest.mark.parametrize("name", sorted(KERNELS))
@pytest.mark.parametrize("rows, cols", [(32, 32), (100, 1000), (1024, 2048), (32, 14336)])
def test_eltwise_traffic_is_minimal_and_uses_the_grid(name, rows, cols):
    """Every input tile read once, every output tile written once; work spread over both grid coordinates."""
    fn, _ = KERNELS[name]
    a, b = _inputs(rows, cols, BF16, 0)
    ta, tb = host.to_device(a), host.to_device(b)
    with trace_traffic() as t:
        out = fn(ta, tb)
    assert t.read_bytes == ta.nbytes + tb.nbytes
    assert t.write_bytes == out.nbytes
    n_tiles = ta.tile_shape[0] * ta.tile_shape[1]
    gx, gy = runtime.grid()
    assert t.cores == min(n_tiles, gx * gy)  # > gx or gy alone: the split uses both grid coordinates
    assert t.balance() <= 1.10
