"""Property tests: RMSNorm, fused residual add + RMSNorm and per-head RMSNorm on the simulator vs the torch
references (:mod:`reference.norm`, themselves checked against transformers in
tests/test_reference_hf_norm_rope.py).

Tolerances (per kernel, the same for all three):
* fp32 inputs (simulator in fp32): |y - ref| <= 1e-5 |ref| + 1e-5 and PCC >= 0.99999, where ref is the
  float32 formula (``rms_norm_fp32``; the kernel computes ``x * (inv * gamma)``, the reference
  ``(x * inv) * gamma``: same value up to fp32 rounding).
* bf16 inputs, simulator in its default fp32-promotion mode: y is stored as bf16, so it must be the fp32
  reference rounded to bf16: at most 1 bf16 ULP apart; PCC >= 0.99999.  The residual sum h of the fused
  kernel likewise (exactly the rounded sum).
* bf16 inputs, simulator in bf16 mode (every op, the row-sum accumulation included, rounded to bf16 -
  closer to hardware): PCC >= 0.9999 (tt-metal's RMSNorm criterion) and |y - ref| <= 2^-5 (|ref| + 1).
  Measured: PCC >= 0.99999, worst |y - ref| / (|ref| + 1) = 0.011 at H = 8192.
Padding: every input (x, residual, gamma/weight) is padded with the sentinel -42, so a kernel that let
padding columns into the mean (H not a multiple of 32) or padding rows of gamma into the scale would fail.
"""

from __future__ import annotations

import pytest
import torch
from _kernel_helpers import assert_rejected, check_tolerance
from conftest import examples
from hypothesis import given
from hypothesis import strategies as st

from reference import BF16
from reference import norm as ref
from ttl_kernels import host, runtime
from ttl_kernels.host import TILE_BYTES, tiles
from ttl_kernels.norm import add_rms_norm, add_rms_norm_plan, head_norm_plan, head_rms_norm, rms_norm, rms_norm_plan
from ttl_kernels.testing import max_ulp_bf16
from ttl_kernels.trace import trace_traffic

rows_st = st.integers(1, 64)
# H: aligned and not, from one tile to the 8192-wide rows (resident in bf16, two-pass in fp32)
cols_st = st.one_of(st.integers(32, 1100), st.sampled_from([32, 256, 1000, 1024, 2080, 4096, 4100, 8192]))
eps_st = st.sampled_from([1e-6, 1e-5, 1e-3, 0.25])
dtype_st = st.sampled_from(["bf16", "fp32"])
torch_dtype_st = st.sampled_from([BF16, torch.float32])
seed_st = st.integers(0, 2**31 - 1)



def _rand(shape, seed, scale=2.0, offset=0.0):
    g = torch.Generator().manual_seed(seed)
    return offset + torch.randn(*shape, generator=g) * scale


def check(name, y, expect, dtype, mode="fp32"):
    """The documented tolerance for ``dtype`` ("bf16"/"fp32") under simulator ``mode``."""
    check_tolerance(name, y, expect, dtype, mode, fp32_tol=1e-5, bf16_mode_pcc=0.9999)


# --------------------------------------------------------------------------------------------- RMSNorm


@examples(12)
@given(rows=rows_st, cols=cols_st, dtype=torch_dtype_st, eps=eps_st, seed=seed_st)
def test_kernel_parity_rms_norm_torch_api(rows, cols, dtype, eps, seed):
    x, w = _rand((rows, cols), seed).to(dtype), _rand((cols,), seed + 1, 0.2, 1.0).to(dtype)
    y = rms_norm(x, w, eps)
    assert y.dtype == dtype and y.shape == (rows, cols)
    check("rms_norm", y, ref.rms_norm_fp32(x, w, eps), "fp32" if dtype == torch.float32 else "bf16")


@examples(6)
@given(rows=rows_st, cols=cols_st, dtype=dtype_st, eps=eps_st, seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_rms_norm_sentinel_padding(rows, cols, dtype, eps, seed, sim_mode):
    """TileTensor API with -42 in the padding of x and gamma; both simulator precision modes."""
    x, w = _rand((rows, cols), seed), _rand((1, cols), seed + 1, 0.2, 1.0)
    tx = host.to_device(x, dtype, pad_value=host.SENTINEL)
    tw = host.to_device(w, dtype, pad_value=host.SENTINEL)
    out = rms_norm(tx, tw, eps)
    assert isinstance(out, host.TileTensor) and out.shape == (rows, cols) and out.dtype == dtype
    expect = ref.rms_norm_fp32(host.quantize(x, dtype), host.quantize(w, dtype), eps)
    check("rms_norm", host.to_torch(out), expect, dtype, sim_mode)


def test_kernel_parity_rms_norm_matches_hf_order_in_bf16():
    """Against HF's own op order (fp32 normalise, round to bf16, times bf16 weight): within 2 bf16 ULP
    (both round twice, at different points)."""
    x, w = _rand((32, 4096), 3).to(BF16), _rand((4096,), 4, 0.2, 1.0).to(BF16)
    y = rms_norm(x, w, 1e-5)
    assert max_ulp_bf16(y.float(), ref.rms_norm(x, w, 1e-5).float()) <= 2


# -------------------------------------------------------------------------------------- add + RMSNorm


@examples(10)
@given(rows=rows_st, cols=cols_st, dtype=torch_dtype_st, eps=eps_st, seed=seed_st)
def test_kernel_parity_add_rms_norm_torch_api(rows, cols, dtype, eps, seed):
    x, r = _rand((rows, cols), seed).to(dtype), _rand((rows, cols), seed + 2).to(dtype)
    w = _rand((cols,), seed + 1, 0.2, 1.0).to(dtype)
    h, y = add_rms_norm(x, r, w, eps)
    assert h.dtype == dtype and y.dtype == dtype
    eh, ey = ref.add_rms_norm(x, r, w, eps)
    name = "fp32" if dtype == torch.float32 else "bf16"
    check("add_rms_norm.h", h, eh, name)
    check("add_rms_norm.y", y, ey, name)


@examples(5)
@given(rows=rows_st, cols=cols_st, dtype=dtype_st, eps=eps_st, seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_add_rms_norm_sentinel_padding(rows, cols, dtype, eps, seed, sim_mode):
    x, r, w = _rand((rows, cols), seed), _rand((rows, cols), seed + 2), _rand((1, cols), seed + 1, 0.2, 1.0)
    pad = dict(pad_value=host.SENTINEL)
    h, y = add_rms_norm(*(host.to_device(t, dtype, **pad) for t in (x, r, w)), eps)
    eh, ey = ref.add_rms_norm(host.quantize(x, dtype), host.quantize(r, dtype), host.quantize(w, dtype), eps)
    check("add_rms_norm.h", host.to_torch(h), eh, dtype, sim_mode)
    check("add_rms_norm.y", host.to_torch(y), ey, dtype, sim_mode)


# ----------------------------------------------------------------------------------- per-head RMSNorm

heads_st = st.integers(1, 32)
head_dim_st = st.sampled_from([64, 128])


@examples(12)
@given(rows=rows_st, heads=heads_st, head_dim=head_dim_st, dtype=st.sampled_from([BF16, torch.float32]), eps=eps_st,
       seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_head_rms_norm_torch_api(rows, heads, head_dim, dtype, eps, seed):
    x, w = _rand((rows, heads * head_dim), seed).to(dtype), _rand((head_dim,), seed + 1, 0.2, 1.0).to(dtype)
    y = head_rms_norm(x, w, eps)
    assert y.dtype == dtype
    check("head_rms_norm", y, ref.head_rms_norm_rows(x, w, eps), "fp32" if dtype == torch.float32 else "bf16")


@examples(5)
@given(rows=rows_st, heads=heads_st, head_dim=st.sampled_from([32, 64, 96, 128]), dtype=dtype_st, eps=eps_st,
       seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_head_rms_norm_sentinel_padding(rows, heads, head_dim, dtype, eps, seed, sim_mode):
    x, w = _rand((rows, heads * head_dim), seed), _rand((1, head_dim), seed + 1, 0.2, 1.0)
    out = head_rms_norm(*(host.to_device(t, dtype, pad_value=host.SENTINEL) for t in (x, w)), eps)
    expect = ref.head_rms_norm_rows(host.quantize(x, dtype), host.quantize(w, dtype), eps)
    check("head_rms_norm", host.to_torch(out), expect, dtype, sim_mode)


def test_kernel_parity_head_rms_norm_heads_are_independent():
    """Scaling one head scales nothing else: the per-head sums do not mix heads."""
    x, w = _rand((32, 8 * 128), 5), _rand((128,), 6, 0.2, 1.0)
    x2 = x.clone()
    x2[:, 3 * 128:4 * 128] *= 100.0
    y, y2 = head_rms_norm(x, w, 1e-6), head_rms_norm(x2, w, 1e-6)
    keep = torch.ones(8 * 128, dtype=torch.bool)
    keep[3 * 128:4 * 128] = False
    torch.testing.assert_close(y[:, keep], y2[:, keep], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(y2[:, ~keep], y[:, ~keep], rtol=1e-4, atol=1e-4)  # RMSNorm is scale-invariant


# ------------------------------------------------------------------------------------------ bad input

BAD_RMS = [
    (lambda: (torch.randn(4, 64), torch.randn(64), 0.0), "eps"),
    (lambda: (torch.randn(4, 64), torch.randn(64), -1e-6), "eps"),
    (lambda: (torch.randn(4, 64), torch.randn(64), float("nan")), "eps"),
    (lambda: (torch.randn(4, 64), torch.randn(64), "1e-6x"), "eps"),
    (lambda: (torch.randn(4, 64), torch.randn(63), 1e-6), "gamma"),
    (lambda: (torch.randn(4, 64), torch.randn(2, 64), 1e-6), "gamma"),
    (lambda: (torch.randn(4, 64), torch.randn(64).to(BF16), 1e-6), "gamma"),
    (lambda: (torch.randn(64), torch.randn(64), 1e-6), "x"),
    (lambda: (torch.randn(2, 4, 64), torch.randn(64), 1e-6), "x"),
    (lambda: (torch.randn(0, 64), torch.randn(64), 1e-6), "x"),
    (lambda: (torch.randn(4, 64).double(), torch.randn(64).double(), 1e-6), "x"),
]


@pytest.mark.parametrize("bad, arg", BAD_RMS)
def test_bad_input_rms_norm(bad, arg):
    x, w, eps = bad()
    assert_rejected(lambda: rms_norm(x, w, eps), arg)


@pytest.mark.parametrize("bad, arg", [
    (lambda: (torch.randn(4, 64), torch.randn(4, 65), torch.randn(64), 1e-6), "residual"),
    (lambda: (torch.randn(4, 64), torch.randn(4, 64).to(BF16), torch.randn(64), 1e-6), "residual"),
    (lambda: (torch.randn(4, 64), torch.randn(4, 64), torch.randn(32), 1e-6), "gamma"),
    (lambda: (torch.randn(4, 64), torch.randn(4, 64), torch.randn(64), 0), "eps"),
])
def test_bad_input_add_rms_norm(bad, arg):
    x, r, w, eps = bad()
    assert_rejected(lambda: add_rms_norm(x, r, w, eps), arg)


@pytest.mark.parametrize("bad, arg", [
    (lambda: (torch.randn(4, 96), torch.randn(48), 1e-6), "weight"),  # head_dim not a multiple of 32
    (lambda: (torch.randn(4, 100), torch.randn(64), 1e-6), "x"),  # width not n_heads * head_dim
    (lambda: (torch.randn(4, 128), torch.randn(64).to(BF16), 1e-6), "weight"),
    (lambda: (torch.randn(4, 128), torch.randn(2, 64), 1e-6), "weight"),
    (lambda: (torch.randn(4, 128), torch.randn(64), -1.0), "eps"),
])
def test_bad_input_head_rms_norm(bad, arg):
    x, w, eps = bad()
    assert_rejected(lambda: head_rms_norm(x, w, eps), arg)


# --------------------------------------------------------------------------------------------- traffic


def _tiles_bytes(n, dtype):
    return n * TILE_BYTES[dtype]


@pytest.mark.parametrize("rows, cols, dtype", [(32, 4096, "bf16"), (32, 8192, "bf16"), (100, 1000, "bf16"),
                                               (32, 4096, "fp32"), (1, 128, "bf16"),
                                               (32, 8192, "fp32"), (2048, 256, "bf16"), (1056, 1000, "bf16")])
def test_rms_norm_traffic(rows, cols, dtype):
    """One-op plan (many tile rows): x read once when the tile row fits L1 (twice on the two-pass plan), y
    written once, gamma once per tile row, E0 once per core (+ MASK, BC tiles per core, when H is not a
    multiple of 32).  Split plan (few tile rows: decode): x read twice (sum of squares, then scale), gamma
    once per tile row, E0 once per core of each op, MASK once per tile row (H not a multiple of 32), the
    partial sums written once (S tiles per tile row) and read once per scale item (S tiles each)."""
    plan = rms_norm_plan(rows, cols, dtype)
    tx, tw = host.to_device(_rand((rows, cols), 0), dtype), host.to_device(_rand((1, cols), 1), dtype)
    with trace_traffic() as t:
        out = rms_norm(tx, tw, 1e-6)
    pt = t.per_tensor
    assert plan.split == (2 * tiles(rows) <= 64 and tiles(cols) >= 4)
    assert plan.passes == (2 if plan.split or (cols, dtype) == (8192, "fp32") else 1)
    assert pt["x"]["read_bytes"] == plan.passes * tx.nbytes
    assert pt["y"]["write_bytes"] == out.nbytes
    assert pt["gamma"]["read_bytes"] == plan.rows_t * tw.nbytes
    assert t.cores == plan.cores_used == min(plan.n_items, 64)
    if plan.split:
        S = plan.slices
        assert pt["e0"]["read_bytes"] == _tiles_bytes(2 * plan.cores_used, dtype)
        mask_bytes = _tiles_bytes(plan.rows_t * plan.bc, dtype) if cols % 32 else 0
        assert pt["part"]["write_bytes"] == _tiles_bytes(plan.rows_t * S, dtype)
        assert pt["part"]["read_bytes"] == _tiles_bytes(plan.rows_t * S * S, dtype)
        assert t.write_bytes == out.nbytes + pt["part"]["write_bytes"]
    else:
        assert pt["e0"]["read_bytes"] == _tiles_bytes(plan.cores_used, dtype)
        mask_bytes = _tiles_bytes(plan.cores_used * plan.bc, dtype) if cols % 32 else 0
        assert t.write_bytes == out.nbytes
    assert pt.get("mask", {}).get("read_bytes", 0) == mask_bytes


@pytest.mark.parametrize("rows, cols, dtype", [(32, 4096, "bf16"), (64, 8192, "fp32"), (1056, 256, "bf16")])
def test_add_rms_norm_traffic(rows, cols, dtype):
    """As rms_norm; with the residual add the split plan's scale op reads h (written by the first op) where
    rms_norm reads x again."""
    plan = add_rms_norm_plan(rows, cols, dtype)
    tx, tr = host.to_device(_rand((rows, cols), 0), dtype), host.to_device(_rand((rows, cols), 2), dtype)
    tw = host.to_device(_rand((1, cols), 1), dtype)
    with trace_traffic() as t:
        h, y = add_rms_norm(tx, tr, tw, 1e-6)
    pt = t.per_tensor
    assert pt["h"]["write_bytes"] == h.nbytes and pt["y"]["write_bytes"] == y.nbytes
    assert pt["gamma"]["read_bytes"] == plan.rows_t * tw.nbytes
    if plan.split:
        S = plan.slices
        # (the scale op reads h under its parameter name, x)
        assert pt["x"]["read_bytes"] == tx.nbytes + h.nbytes and pt["res"]["read_bytes"] == tr.nbytes
        part = _tiles_bytes(plan.rows_t * S * S, dtype)
        assert t.read_bytes == 2 * tx.nbytes + h.nbytes + plan.rows_t * tw.nbytes + part + \
            _tiles_bytes(2 * plan.cores_used, dtype)
    else:
        assert pt["x"]["read_bytes"] == plan.passes * tx.nbytes
        assert pt["res"]["read_bytes"] == plan.passes * tr.nbytes
        assert t.read_bytes == plan.passes * 2 * tx.nbytes + plan.rows_t * tw.nbytes + \
            _tiles_bytes(plan.cores_used, dtype)


@pytest.mark.parametrize("rows, cols", [(1056, 256), (1056, 1000), (1, 1000), (32, 4096)])
def test_kernel_parity_rms_norm_both_plans(rows, cols):
    """The one-op plan (> 32 tile rows on the 8 x 8 grid) and the split plan (decode rows) on the same data
    within the documented tolerance; the sentinel -42 in every padding."""
    x, w, r = _rand((rows, cols), 11), _rand((1, cols), 12, 0.2, 1.0), _rand((rows, cols), 13)
    pad = dict(pad_value=host.SENTINEL)
    assert rms_norm_plan(rows, cols, "bf16").split == (rows <= 1024)
    y = rms_norm(host.to_device(x, "bf16", **pad), host.to_device(w, "bf16", **pad), 1e-5)
    check("rms_norm", host.to_torch(y), ref.rms_norm_fp32(host.quantize(x, "bf16"), host.quantize(w, "bf16"), 1e-5),
          "bf16")
    h, y = add_rms_norm(*(host.to_device(t, "bf16", **pad) for t in (x, r, w)), 1e-5)
    eh, ey = ref.add_rms_norm(*(host.quantize(t, "bf16") for t in (x, r, w)), 1e-5)
    check("add_rms_norm.h", host.to_torch(h), eh, "bf16")
    check("add_rms_norm.y", host.to_torch(y), ey, "bf16")


@pytest.mark.parametrize("rows, heads, head_dim", [(32, 32, 128), (32, 8, 128), (200, 16, 64), (32, 4, 64),
                                                  (2048, 8, 128)])
def test_head_rms_norm_traffic(rows, heads, head_dim):
    """x read once and y written once; per core the weight (DT tiles) and P (1 tile).  Decode-sized inputs
    take one head per core (the plan minimises the modelled time; a head's compute outweighs its constants)."""
    plan = head_norm_plan(rows, heads, head_dim, runtime.grid())
    tx, tw = host.to_device(_rand((rows, heads * head_dim), 0), "bf16"), host.to_device(_rand((1, head_dim), 1), "bf16")
    with trace_traffic() as t:
        out = head_rms_norm(tx, tw, 1e-6)
    pt = t.per_tensor
    assert pt["x"]["read_bytes"] == tx.nbytes and pt["y"]["write_bytes"] == out.nbytes
    per_core = _tiles_bytes(plan.dt + 1, "bf16")
    assert pt["weight"]["read_bytes"] + pt["pconst"]["read_bytes"] == plan.cores_used * per_core
    assert t.cores == plan.cores_used
    minimum = tx.nbytes + out.nbytes + tw.nbytes
    assert t.total_bytes == minimum - tw.nbytes + plan.cores_used * per_core
    if tiles(rows) * heads <= 64:
        assert plan.groups == heads and plan.heads_per_group == 1
    else:  # as many items as the grid takes (no empty group), or every core
        assert plan.cores_used >= 48
