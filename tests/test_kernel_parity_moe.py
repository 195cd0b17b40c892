"""Property tests: the mixture-of-experts kernels (routing, routing weights on the experts) on the simulator vs
the torch references (:mod:`reference.moe_kernels`).

Tolerances:

* ``moe_router``: the expert ids exactly (``torch.equal``), the dense weights and ``topw`` within 1e-6 abs + 1e-5
  rel of the reference (the kernel's softmax sums and divides in another order than torch's: a few fp32 ULPs; the
  weights are at most 1).  Ties go to the lowest expert id: equal logits give bit-equal probabilities in the
  kernel and in torch, so tied rows are tested exactly too.  Against :func:`reference.moe.route` (``torch.topk``,
  what transformers runs) the ids agree as sets whenever no tie straddles the k-th place, and in order after
  :func:`reference.moe_kernels.canonical`; a straddling tie is where the two rules may differ (documented).
  fp32 random logits never produce one; bf16 logits (a bf16 model's router) do, in about 6% of rows at E = 128,
  k = 8 (measured and printed).
* ``expert_scale``: exact.  fp32: one product per element.  bf16: the weight is rounded to bf16 first (as the
  reference model rounds the routing weights to its dtype) and the product rounded to bf16.

Padding never matters: device-resident logits padded with ``+inf``, ``1e30``, 0 and the sentinel give the same
results.  Bad arguments are rejected before anything is copied.  Example counts are small (the simulator runs every
core); `make test-thorough` runs more.
"""

from __future__ import annotations

import math

import pytest
import torch
from _kernel_helpers import assert_rejected
from conftest import examples
from hypothesis import given
from hypothesis import strategies as st

from reference import BF16
from reference import moe_kernels as ref
from reference.moe import route
from ttl_kernels import host
from ttl_kernels.moe import expert_scale, router_topk
from ttl_kernels.moe._plan import MAX_TOP_K
from ttl_kernels.trace import trace_traffic

DTYPES = {"bf16": BF16, "fp32": torch.float32}
ATOL, RTOL = 1e-6, 1e-5


@st.composite
def router_case(draw):
    experts = draw(st.one_of(st.integers(1, 70), st.sampled_from([8, 32, 33, 64, 128, 160])))
    k = draw(st.integers(1, min(experts, MAX_TOP_K)))
    rows = draw(st.one_of(st.integers(1, 40), st.sampled_from([1, 16, 32, 33])))
    return dict(rows=rows, experts=experts, k=k, norm=draw(st.booleans()),
                dtype=draw(st.sampled_from(["bf16", "fp32"])), ties=draw(st.sampled_from([0, 0, 2, 6])),
                seed=draw(st.integers(0, 2**31 - 1)))


def _logits(rows, experts, dtype, seed, ties=0, scale=2.0):
    """Random logits (values of the dtype); ``ties``: that many columns of each row copied from other columns."""
    g = torch.Generator().manual_seed(seed)
    x = host.quantize(torch.randn(rows, experts, generator=g) * scale, dtype)
    if ties and experts > 1:
        src = torch.randint(0, experts, (rows, ties), generator=g)
        dst = torch.randint(0, experts, (rows, ties), generator=g)
        x.scatter_(1, dst, x.gather(1, src))
    return x


def _check(x, k, norm, got):
    w, tw, ids = got
    rw, rtw, rids = ref.router_topk(x, k, norm)
    assert w.dtype == tw.dtype == ids.dtype == torch.float32
    assert w.shape == x.shape and tw.shape == ids.shape == (x.shape[0], k)
    assert torch.equal(ids, rids)
    torch.testing.assert_close(w, rw, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(tw, rtw, atol=ATOL, rtol=RTOL)
    assert torch.equal((w != 0).sum(-1), torch.full((x.shape[0],), k)) or (rtw == 0).any()
    return rw, rtw, rids


def _straddles(x, k):
    """Rows where the k-th and (k+1)-th largest probabilities are equal (a tie across the k-th place)."""
    p = torch.softmax(x.float(), -1).sort(-1, descending=True).values
    if k >= p.shape[1]:
        return torch.zeros(p.shape[0], dtype=torch.bool)
    return p[:, k - 1] == p[:, k]


@examples(10)
@given(case=router_case())
def test_kernel_parity_moe_router(case):
    """torch in -> torch out: equals the lowest-id-ties reference; equals transformers' route() (torch.topk) in the
    canonical order on every row without a tie across the k-th place."""
    x = _logits(case["rows"], case["experts"], case["dtype"], case["seed"], case["ties"])
    got = router_topk(x.to(DTYPES[case["dtype"]]), case["k"], case["norm"])
    _check(x, case["k"], case["norm"], got)
    cw, cid = ref.canonical(*route(x.float(), case["k"], case["norm"]))
    ok = ~_straddles(x, case["k"])
    assert torch.equal(cid[ok], got[2][ok])
    torch.testing.assert_close(cw[ok], got[1][ok], atol=ATOL, rtol=RTOL)


def test_router_ties_go_to_the_lowest_id():
    """All-equal rows (every expert tied), repeating patterns, and ties straddling the k-th place: the kernel takes
    the lowest ids, in id order; torch.topk may take others (its choice is implementation-defined)."""
    x = torch.zeros(4, 128)
    x[1] = torch.tensor([float(i % 3) for i in range(128)])
    x[2, 100:] = 1.0
    x[3] = torch.arange(128).float() // 4
    w, tw, ids = router_topk(x, 8, True)
    _check(x, 8, True, (w, tw, ids))
    assert ids[0].tolist() == list(range(8))
    assert ids[1].tolist() == [2, 5, 8, 11, 14, 17, 20, 23]
    assert ids[2].tolist() == list(range(100, 108))
    assert ids[3].tolist() == [124, 125, 126, 127, 120, 121, 122, 123]
    torch.testing.assert_close(tw[0], torch.full((8,), 0.125), atol=0, rtol=0)


def test_router_straddling_ties_fp32_never_bf16_often():
    """fp32 random logits never tie across the k-th place, so the kernel equals transformers' routing (set and
    canonical order) on every row.  bf16 logits (a bf16 model's router) do: about 6% of rows at E = 128, k = 8; the
    kernel keeps the lowest ids there, torch.topk (CPU) an implementation-defined set; every other row agrees."""
    for dtype in ("fp32", "bf16"):
        x = _logits(256, 128, dtype, seed=7)
        straddle = _straddles(x, 8)
        _, tw, ids = router_topk(x.to(DTYPES[dtype]), 8, True)
        assert torch.equal(ids, ref.router_topk(x, 8, True)[2])
        cw, cid = ref.canonical(*route(x.float(), 8, True))
        ok = ~straddle
        assert torch.equal(cid[ok], ids[ok])
        torch.testing.assert_close(cw[ok], tw[ok], atol=ATOL, rtol=RTOL)
        differs = (cid.sort(-1).values != ids.sort(-1).values).any(-1)
        print(f"{dtype}: rows tied across the 8th place {float(straddle.float().mean()):.3f}, "
              f"torch.topk's set differs {float(differs.float().mean()):.3f}")
        if dtype == "fp32":
            assert not straddle.any()
        else:
            assert 0.01 < float(straddle.float().mean()) < 0.15


NAN_PADDING = pytest.param(math.nan, marks=pytest.mark.xfail(strict=True, reason=(
    "a NaN in a padding column poisons its row: the kernel caps padding arithmetically (0 * NaN = NaN) and tt-lang "
    "1.1.1 has no select op; padding written by the runtime and by ttnn ops is finite (the logits matmul's padding "
    "is sums of zeros), as argmax documents for NaN padding")))


@pytest.mark.parametrize("pad", [math.inf, -math.inf, 1e30, 0.0, host.SENTINEL, NAN_PADDING])
def test_router_padding_never_wins(pad):
    """Device-resident logits whose padding columns (and rows) hold ``pad``, every real logit negative: same results
    as the reference; traffic = the logits and results once + one constant tile per core."""
    x = _logits(35, 40, "fp32", seed=3) - 50.0
    t = host.to_device(x, "fp32", pad_value=pad)
    with trace_traffic() as tr:
        w, tw, ids = router_topk(t, 5, False)
    _check(x, 5, False, (host.to_torch(w), host.to_torch(tw), host.to_torch(ids)))
    minimum = t.nbytes + w.nbytes + tw.nbytes + ids.nbytes
    assert tr.total_bytes == minimum + 2048 * tr.cores


def test_router_top1_renormalised_is_one_and_k_equals_e():
    x = _logits(5, 6, "bf16", seed=1)
    w, tw, ids = router_topk(x.to(BF16), 1, True)
    _check(x, 1, True, (w, tw, ids))
    assert torch.equal(tw, torch.ones(5, 1))
    w, tw, ids = router_topk(x.to(BF16), 6, False)
    _check(x, 6, False, (w, tw, ids))
    torch.testing.assert_close(w, torch.softmax(x.float(), -1), atol=ATOL, rtol=RTOL)


@examples(8)
@given(rows=st.one_of(st.integers(1, 40), st.sampled_from([1, 16, 33])), slots=st.integers(1, 40),
       it=st.integers(1, 3), dtype=st.sampled_from(["bf16", "fp32"]), seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_moe_expert_scale(rows, slots, it, dtype, seed):
    """Exact: fp32 a * w; bf16 round(a * round_bf16(w))."""
    g = torch.Generator().manual_seed(seed)
    a = host.quantize(torch.randn(rows, slots * it * 32, generator=g), dtype)
    w = torch.rand(rows, slots, generator=g) * (torch.rand(rows, slots, generator=g) < 0.6)
    y = expert_scale(a.to(DTYPES[dtype]), w)
    assert y.dtype == DTYPES[dtype] and y.shape == a.shape
    wq = host.quantize(w, dtype)
    expect = host.quantize(ref.expert_scale(a, wq), dtype)
    assert torch.equal(y.float(), expect)


def test_expert_scale_device_resident_traffic():
    """TileTensors in and out; traffic = activations in and out once + a weight tile and a selector tile per item."""
    from ttl_kernels import runtime
    from ttl_kernels.moe._plan import plan_scale

    a = host.to_device(torch.randn(16, 8 * 64), "bf16")
    w = host.to_device(torch.rand(16, 8), "fp32")
    with trace_traffic() as tr:
        y = expert_scale(a, w)
    assert isinstance(y, host.TileTensor) and y.dtype == "bf16"
    plan = plan_scale(16, 8, 2, "bf16", runtime.grid())
    assert tr.total_bytes == 2 * a.nbytes + plan.n_items * 2 * 4096


def test_bad_arguments_are_rejected():
    x = torch.randn(3, 8)
    assert "1 <= k <= experts (8)" in str(assert_rejected(lambda: router_topk(x, 9), "k"))
    assert_rejected(lambda: router_topk(x, 0), "k")
    assert_rejected(lambda: router_topk(x, 2.0), "k")
    assert_rejected(lambda: router_topk(torch.randn(2, 40), 33), "k")
    assert_rejected(lambda: router_topk(x, 2, norm_topk_prob=1), "norm_topk_prob")
    assert_rejected(lambda: router_topk(torch.randn(2, 3000), 2), "logits")
    assert_rejected(lambda: router_topk(torch.randn(8), 2), "logits")
    assert_rejected(lambda: router_topk(x.half(), 2), "logits")
    a = torch.randn(3, 4 * 64)
    assert_rejected(lambda: expert_scale(a, torch.rand(2, 4)), "weights")
    assert_rejected(lambda: expert_scale(a, torch.rand(3, 3)), "a")
    assert_rejected(lambda: expert_scale(torch.randn(3, 4 * 48), torch.rand(3, 4)), "a")
    assert_rejected(lambda: expert_scale(a, torch.rand(3, 4).to(BF16)), "weights")
