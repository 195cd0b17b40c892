"""Property tests: ALSpec speculative flash decode (``ttl_kernels.attention.speculative_decode``) on the
simulator vs torch.

References (``reference.attention``, float32 on the values the kernel was given): ``sdpa_decode`` for the
exact output, ``sdpa_decode_speculative`` (sink ``[0, S)`` + recent ``[P - S, P)``, ``P = round_up(pos+1, 32)``,
keys ``<= pos``) for the speculative output, ``speculation_verdict`` for dist2 / norm2 / hit.

Tolerances (simulator, default fp32 arithmetic):
* exact and speculative outputs: PCC >= 0.999 and ``|O - ref| <= 2^-7 |ref| + 2^-7`` (bf16 outputs and
  bf16 partials, as for flash decode);
* ``norm2``: within 2^-6 relative of ``||O||^2`` recomputed on the host from the kernel's own (bf16) outputs;
  ``dist2``: ``|sqrt(dist2) - ||O - O_spec|| | <= 2^-6 ||O||`` (the kernel sums the unrounded O, the host the
  bf16-rounded one; both outputs round by 2^-9 relative, and dist2 / norm2 are stored as bf16);
* verdict: equal to ``dist2 <= lambda^2 norm2`` evaluated on the kernel's own dist2 / norm2 outputs, except
  within 2^-6 relative of a tie (the kernel compares the unrounded sums); and equal to the verdict of the
  float32 reference outside 2^-4 of a tie;
* when ``P <= 2 S`` for a user: speculative and exact outputs bit-identical, dist2 = 0, verdict = hit for any
  lambda >= 0 (including 0).
"""

from __future__ import annotations

import math

import pytest
import torch
from _kernel_helpers import assert_rejected
from conftest import examples
from hypothesis import given
from hypothesis import strategies as st
from test_kernel_parity_attention import (
    POISON,
    check_close,
    decode_case,
    kv_read_bytes,
    make_inputs,
    poison_past_tile,
    quantised,
    thorough,
)

from reference import BF16
from reference import attention as ref
from ttl_kernels import host
from ttl_kernels.attention import (
    SpeculativeDecodeOutput,
    decode_o_from_tiles,
    decode_q_to_tiles,
    kv_cache_to_tiles,
    make_speculative_decode,
    per_user,
    speculative_scaled_dot_product_attention_decode,
)
from ttl_kernels.attention._common import parse
from ttl_kernels.attention.speculative_decode import spec_plans
from ttl_kernels.trace import trace_traffic

TIE = 2.0 ** -6


def check_outputs(r: SpeculativeDecodeOutput, q, k, v, positions, chunk, lam, kv_dtype, what=""):
    kq, vq = quantised(k, kv_dtype), quantised(v, kv_dtype)
    exact = ref.sdpa_decode(q, kq, vq, positions)
    approx = ref.sdpa_decode_speculative(q, kq, vq, positions, chunk)
    check_close(r.full_output, exact, f"exact {what}")
    check_close(r.speculative_output, approx, f"speculative {what}")
    B = q.shape[0]
    for out in (r.l2_dist_sq, r.l2_norm_sq, r.verdict):
        assert out.shape == (B,) and torch.isfinite(out).all()
    d_host, n_host, _ = ref.speculation_verdict(r.full_output.float(), r.speculative_output.float(), lam)
    d_ref, n_ref, hit_ref = ref.speculation_verdict(exact, approx, lam)
    d_k, n_k, v_k = r.l2_dist_sq.double(), r.l2_norm_sq.double(), r.verdict.double()
    assert torch.all((n_k - n_host).abs() <= TIE * n_host), (what, n_k, n_host)
    assert torch.all((d_k.sqrt() - d_host.sqrt()).abs() <= TIE * n_host.sqrt()), (what, d_k, d_host)
    assert set(v_k.tolist()) <= {0.0, 1.0}
    thr = lam ** 2 * n_k
    own = (d_k <= thr).double()
    clear = (d_k - thr).abs() > TIE * torch.maximum(d_k, thr)
    assert torch.equal(v_k[clear], own[clear]), (what, d_k, n_k, v_k)
    clear_ref = (d_ref - lam ** 2 * n_ref).abs() > 2.0 ** -4 * torch.maximum(d_ref, lam ** 2 * n_ref)
    assert torch.equal(v_k[clear_ref], hit_ref[clear_ref]), (what, d_ref, n_ref, v_k)
    for b, p in enumerate(positions):
        if ref.round_up(p + 1) <= 2 * chunk:  # the approximation is exact: nothing in the middle
            assert torch.equal(r.speculative_output[b], r.full_output[b]), (what, b, p)
            assert d_k[b] == 0 and v_k[b] == 1.0, (what, b, p, d_k[b], v_k[b])


@examples(8)
@given(case=decode_case(max_batch=4 if thorough() else 2, max_tiles=64 if thorough() else 16),
       seed=st.integers(0, 2**31 - 1),
       lam=st.one_of(st.floats(0.0, 0.5), st.sampled_from([0.0, 0.05, 0.1, 0.2, 0.5])))
def test_kernel_parity_speculative_decode(case, seed, lam):
    """torch API over random shapes / positions / KV dtypes / lambdas, sentinel past every position."""
    c = case
    q, k, v = make_inputs(c["batch"], c["n_q"], c["n_kv"], c["head_dim"], c["s_max"], c["positions"], seed)
    r = make_speculative_decode(lam, c["chunk"])(q, k, v, c["positions"], kv_dtype=c["kv_dtype"])
    assert r.full_output.dtype == BF16 and r.full_output.shape == q.shape and r.speculative_output.shape == q.shape
    check_outputs(r, q, k, v, c["positions"], c["chunk"], lam, c["kv_dtype"], str(c))


@pytest.mark.parametrize("chunk, positions", [(128, [0, 31, 127, 128, 255]), (64, [95, 96, 127]), (32, [32, 63])])
def test_kernel_parity_speculative_decode_exact_when_p_le_2s(chunk, positions):
    """P <= 2S (sink and recent chunks cover [0, pos], overlapping when P < 2S): speculative == exact,
    dist2 = 0 and a hit even at lambda = 0."""
    assert all(ref.round_up(p + 1) <= 2 * chunk for p in positions)
    q, k, v = make_inputs(len(positions), 8, 2, 64, 256, positions, 11)
    r = make_speculative_decode(0.0, chunk)(q, k, v, positions)
    check_outputs(r, q, k, v, positions, chunk, 0.0, "bf16", f"S={chunk}")
    assert torch.equal(r.speculative_output, r.full_output)
    assert r.verdict.tolist() == [1.0] * len(positions) and r.priority.tolist() == [0.0] * len(positions)


def test_kernel_parity_speculative_decode_hit_and_miss():
    """A user whose values do not depend on the token (any attention gives the same output) is a hit at a
    tight lambda; a user with random values and a long middle is a miss at lambda = 0."""
    positions = [700, 700]
    q, k, v = make_inputs(2, 4, 1, 64, 768, positions, 5)
    v[0, :, : positions[0] + 1] = v[0, :, :1]  # user 0: one value row for every visible token
    r = speculative_scaled_dot_product_attention_decode(q, k, v, cur_pos=positions, lambda_=0.0, k_chunk_size=64)
    assert isinstance(r, SpeculativeDecodeOutput) and len(tuple(r)) == 5
    check_outputs(r, q, k, v, positions, 64, 0.0, "bf16", "hit/miss")
    tight = make_speculative_decode(0.01, 64)(q, k, v, positions)
    assert tight.verdict[0] == 1.0 and tight.priority[0] == 0.0
    assert r.verdict[1] == 0.0 and r.priority[1] == 2.0
    assert r.l2_dist_sq[1] > 0


@examples(3)
@given(case=decode_case(max_batch=2, max_tiles=16), seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_speculative_decode_junk_past_pos(case, seed):
    """Whatever the cache holds past pos (sentinel or large finite junk), every output is bit-identical."""
    c = case
    q, k, v = make_inputs(c["batch"], c["n_q"], c["n_kv"], c["head_dim"], c["s_max"], c["positions"], seed)
    junk = torch.linspace(30.0, 90.0, c["s_max"])[:, None].expand(c["s_max"], c["head_dim"])
    _, k2, v2 = make_inputs(c["batch"], c["n_q"], c["n_kv"], c["head_dim"], c["s_max"], c["positions"], seed, fill=junk)
    spec = make_speculative_decode(0.1, c["chunk"])
    r1 = spec(q, k, v, c["positions"], kv_dtype=c["kv_dtype"])
    r2 = spec(q, k2, v2, c["positions"], kv_dtype=c["kv_dtype"])
    for a, b in zip(r1, r2):
        assert torch.equal(a, b)


@examples(6)
@given(case=decode_case(max_batch=2, max_tiles=16), seed=st.integers(0, 2**31 - 1), value=st.sampled_from(POISON))
def test_kernel_parity_speculative_decode_nan_inf_past_the_tile_of_pos(case, seed, value):
    """NaN / Inf bit patterns (or the largest finite values) in every whole tile past the one holding pos, and
    large finite junk in that tile past pos: every output, the verdict included, is bit-identical (bf16 and
    bfp8_b caches)."""
    c = case
    q, k, v = make_inputs(c["batch"], c["n_q"], c["n_kv"], c["head_dim"], c["s_max"], c["positions"], seed,
                          fill=1.0e4)
    k2, v2 = poison_past_tile(k, v, c["positions"], value)
    spec = make_speculative_decode(0.1, c["chunk"])
    r1 = spec(q, k, v, c["positions"], kv_dtype=c["kv_dtype"])
    r2 = spec(q, k2, v2, c["positions"], kv_dtype=c["kv_dtype"])
    for a, b in zip(r1, r2):
        assert torch.equal(a, b), (c, value)
    check_outputs(r2, q, k, v, c["positions"], c["chunk"], 0.1, c["kv_dtype"], str(c))


@pytest.mark.parametrize("kv_dtype", ["bf16", "bfp8_b"])
@pytest.mark.parametrize("value", POISON[:3])
def test_kernel_parity_speculative_decode_shared_block_nan_inf_past_the_block(kv_dtype, value):
    """The shared-block path (a verification block: B query rows of ONE sequence reading its one cache, plans
    marked ``shared_kv``): NaN / Inf in every tile past the last row's tile change no output and no verdict."""
    positions, n_q, n_kv, D, s_max, chunk = [300, 301, 302, 303], 8, 2, 64, 512, 64
    g = torch.Generator().manual_seed(9)
    q = torch.randn(len(positions), n_q, D, generator=g).to(BF16)
    k = torch.randn(1, n_kv, s_max, D, generator=g).to(BF16)
    v = torch.randn(1, n_kv, s_max, D, generator=g).to(BF16)
    op = make_speculative_decode(0.1, chunk)
    outs = []
    for kk, vv in [(k, v), poison_past_tile(k, v, positions, value, shared=True)]:
        a = parse(q, kk, vv, positions, chunk_size=chunk, scale=None, kv_dtype=kv_dtype, n_q=n_q, shared_kv=True)
        outs.append([host.to_torch(t) for t in op.run(a.upload())])
    for a, b in zip(*outs):
        assert torch.equal(a, b)
    exact = decode_o_from_tiles(outs[1][0], len(positions), n_q, n_kv)
    kq, vq = quantised(k, kv_dtype), quantised(v, kv_dtype)
    for i, p in enumerate(positions):
        check_close(exact[i:i + 1], ref.sdpa_decode(q[i:i + 1], kq, vq, [p]), f"row {i}")


def test_speculative_decode_numpy_positions_and_empty_batch():
    """numpy integer positions mean the same as Python ints; an empty batch is a ValueError naming q before any
    upload; a cache with no KV heads names k_cache."""
    import numpy as np  # a dependency of torch

    from ttl_kernels import audit

    q, k, v = make_inputs(2, 8, 2, 64, 256, [200, 7], 0)
    r = speculative_scaled_dot_product_attention_decode(q, k, v, cur_pos=[200, 7], k_chunk_size=64)
    rn = speculative_scaled_dot_product_attention_decode(q, k, v, cur_pos=np.array([200, 7]), k_chunk_size=64)
    for a, b in zip(r, rn):
        assert torch.equal(a, b)
    for kw, arg in [(dict(q=q[:0], k=k[:0], v=v[:0], cur_pos=[]), "q"),
                    (dict(q=q, k=k[:, :0], v=v[:, :0], cur_pos=[10, 11]), "k_cache")]:
        with audit.scope("rejected") as step:
            assert_rejected(lambda kw=kw: speculative_scaled_dot_product_attention_decode(
                kw["q"], kw["k"], kw["v"], cur_pos=kw["cur_pos"], k_chunk_size=64), arg)
        assert step.h2d == 0 and step.launches == 0


def test_kernel_parity_speculative_decode_tile_api():
    """TileTensor API on the documented layouts (Q padding rows -42, bfp8_b cache), per-user tiles."""
    positions, n_q, n_kv, D, chunk = [400, 100], 16, 8, 128, 64
    q, k, v = make_inputs(2, n_q, n_kv, D, 512, positions, 2)
    tq = host.to_device(decode_q_to_tiles(q, n_kv, pad_value=host.SENTINEL), "bf16")
    tk, tv = (host.to_device(kv_cache_to_tiles(t), "bfp8_b") for t in (k, v))
    r = make_speculative_decode(0.2, chunk)(tq, tk, tv, positions, n_q=n_q)
    assert all(isinstance(t, host.TileTensor) for t in r)
    assert r.full_output.shape == (2 * n_kv * 32, D) and r.l2_dist_sq.shape == (2 * 32, 32)
    as_torch = SpeculativeDecodeOutput(decode_o_from_tiles(host.to_torch(r.full_output), 2, n_q, n_kv),
                                       decode_o_from_tiles(host.to_torch(r.speculative_output), 2, n_q, n_kv),
                                       per_user(r.l2_dist_sq), per_user(r.l2_norm_sq), per_user(r.verdict))
    check_outputs(as_torch, q, k, v, positions, chunk, 0.2, "bfp8_b", "tile api")
    assert torch.equal(r.priority, as_torch.priority)


@pytest.mark.parametrize("chunk, positions", [(128, [1000, 129, 40]), (64, [511, 300])])
def test_speculative_decode_reads_each_needed_kv_chunk_once(chunk, positions):
    """Per (user, KV head) K and V are read once over the sink, the recent chunk and the middle blocks:
    S (1 + [P > S] + ceil((P - 2S) / S)) tokens (P when P <= S), never past P - 1 (P - 1 - pos <= 31)."""
    n_kv, D = 2, 64
    q, k, v = make_inputs(len(positions), 4, n_kv, D, 1024, positions, 4)
    a = parse(q, k, v, positions, chunk_size=chunk, scale=None, kv_dtype="bf16").upload()
    tokens = 0
    for p in positions:
        p_end = ref.round_up(p + 1)
        tokens += p_end if p_end <= chunk else chunk * (2 + math.ceil(max(p_end - 2 * chunk, 0) / chunk))
    expect = tokens * n_kv // 32 * (D // 32) * host.TILE_BYTES["bf16"]
    with trace_traffic() as t:
        make_speculative_decode(0.1, chunk).run(a)
    assert kv_read_bytes(t, "k", "bf16") == expect
    assert kv_read_bytes(t, "v", "bf16") == expect
    for plan in spec_plans(a):  # reducer units (sink + recent) are the first units: core u runs unit u first
        assert [plan.unit(u)[0] for u in range(plan.w)] == [1] * plan.w


def test_speculative_decode_llama_shape_plan():
    """Llama-3.1-8B heads, batch 1, 8K context: >= 56 cores busy, KV work max/mean <= 1.10."""
    q, k, v = make_inputs(1, 32, 8, 128, 8192, [8191], 0)
    (plan,) = spec_plans(parse(q, k, v, [8191], chunk_size=128, scale=None, kv_dtype="bf16"))
    loads = [c for c in plan.core_chunks() if c]
    assert len(loads) >= 56
    assert max(loads) / (sum(loads) / len(loads)) <= 1.10
    assert sum(loads) == 8 * 64  # every chunk of [0, P) once


BAD = [
    (lambda: dict(lambda_=-0.1), "lambda_"),
    (lambda: dict(lambda_=float("nan")), "lambda_"),
    (lambda: dict(k_chunk_size=100), "k_chunk_size"),
    (lambda: dict(k_chunk_size=0), "k_chunk_size"),
    (lambda: dict(cur_pos=[256]), "cur_pos"),
    (lambda: dict(cur_pos=[1, 2]), "cur_pos"),
    (lambda: dict(q=lambda q: q[:, :5]), "q"),
    (lambda: dict(v=lambda v: v[:, :1]), "v_cache"),
    (lambda: dict(k=lambda k: k.float()), "v_cache"),
    (lambda: dict(kv_dtype="bfp4_b"), "kv_dtype"),
]


@pytest.mark.parametrize("bad, arg", BAD, ids=[f"{i}-{a}" for i, (_, a) in enumerate(BAD)])
def test_bad_input_speculative_decode(bad, arg):
    """ValueError naming the argument, before anything is copied or run."""
    q, k, v = make_inputs(1, 8, 2, 64, 256, [10], 0)
    kw = dict(cur_pos=[10], lambda_=0.1, k_chunk_size=64)
    kw.update(bad())
    q = kw.pop("q")(q) if "q" in kw else q
    k = kw.pop("k")(k) if "k" in kw else k
    v = kw.pop("v")(v) if "v" in kw else v
    assert_rejected(lambda: speculative_scaled_dot_product_attention_decode(q, k, v, **kw), arg)


def test_bad_input_speculative_decode_factory_and_tile_api():
    with pytest.raises(ValueError, match="^lambda_:"):
        make_speculative_decode(-1.0, 128)
    with pytest.raises(ValueError, match="^chunk_size:"):
        make_speculative_decode(0.1, 96 + 1)
    q, k, v = make_inputs(1, 8, 2, 64, 256, [10], 0)
    tq = host.to_device(decode_q_to_tiles(q, 2), "bf16")
    tk, tv = (host.to_device(kv_cache_to_tiles(t), "bf16") for t in (k, v))
    with pytest.raises(ValueError, match="^n_q:"):
        make_speculative_decode(0.1, 64)(tq, tk, tv, [10])
    with pytest.raises(ValueError, match="^n_q:"):
        make_speculative_decode(0.1, 64)(tq, tk, tv, [10], n_q=7)
