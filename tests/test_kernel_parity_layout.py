"""Layout kernels (head regroup both ways, in-place KV-cache update) vs their torch definitions.

They only move values (one-hot matmuls: each output element is a single input element times 1, plus
zeros), so the result must be bit-exact for bf16 and fp32.  Input padding rows / untouched cache rows hold
the sentinel -42 and must come out unchanged (cache) or never leak (regroup)."""

from __future__ import annotations

import pytest
import torch
from _kernel_helpers import compile_clean
from conftest import examples
from hypothesis import given
from hypothesis import strategies as st

from ttl_kernels import host
from ttl_kernels.attention._layout import decode_o_from_tiles, decode_q_to_tiles
from ttl_kernels.compile import format_case
from ttl_kernels.layout import groups_to_heads, heads_to_groups, kv_update
from ttl_kernels.registry import get_kernel

HEADS = [(32, 8), (16, 8), (8, 1), (4, 4), (4, 2)]


@examples(8)
@given(batch=st.integers(1, 40), heads=st.sampled_from(HEADS), head_dim=st.sampled_from([64, 128]),
       dtype=st.sampled_from(["bf16", "fp32"]), seed=st.integers(0, 2**16))
def test_kernel_parity_regroup_round_trip(batch, heads, head_dim, dtype, seed):
    n_q, n_kv = heads
    q = torch.randn(batch, n_q, head_dim, generator=torch.Generator().manual_seed(seed))
    x = host.to_device(q.reshape(batch, -1), dtype, pad_value=host.SENTINEL)
    g = heads_to_groups(x, n_kv, head_dim)
    qq = host.quantize(q, dtype)
    got = host.to_torch(g)
    assert torch.equal(decode_o_from_tiles(got, batch, n_q, n_kv), qq)  # valid rows exact
    assert torch.equal(got, decode_q_to_tiles(qq, n_kv))                 # padding rows are exactly zero
    back = groups_to_heads(g, batch, n_q, n_kv)
    assert back.shape == (batch, n_q * head_dim) and torch.equal(host.to_torch(back), qq.reshape(batch, -1))


@examples(6)
@given(batch=st.integers(1, 3), n_kv=st.sampled_from([1, 2, 8]), head_dim=st.sampled_from([64, 128]),
       s_max=st.sampled_from([32, 96, 256]), data=st.data())
def test_kernel_parity_kv_update(batch, n_kv, head_dim, s_max, data):
    positions = [data.draw(st.integers(0, s_max - 1)) for _ in range(batch)]
    g = torch.Generator().manual_seed(len(positions))
    kc = torch.full((batch * n_kv * s_max, head_dim), host.SENTINEL)
    vc = torch.randn(batch * n_kv * s_max, head_dim, generator=g)
    kn, vn = torch.randn(batch, n_kv * head_dim, generator=g), torch.randn(batch, n_kv * head_dim, generator=g)
    K, V = host.to_device(kc, "bf16"), host.to_device(vc, "bf16")
    kv_update(K, V, host.to_device(kn, "bf16"), host.to_device(vn, "bf16"), positions, n_kv)
    ek, ev = host.round_bf16(kc), host.round_bf16(vc)
    for b, p in enumerate(positions):
        for h in range(n_kv):
            ek[(b * n_kv + h) * s_max + p] = host.round_bf16(kn[b, h * head_dim:(h + 1) * head_dim])
            ev[(b * n_kv + h) * s_max + p] = host.round_bf16(vn[b, h * head_dim:(h + 1) * head_dim])
    assert torch.equal(host.to_torch(K), ek) and torch.equal(host.to_torch(V), ev)


def test_bad_input_layout():
    x = host.to_device(torch.zeros(2, 4 * 64))
    with pytest.raises(ValueError, match="n_kv"):
        heads_to_groups(x, 3, 64)
    with pytest.raises(ValueError, match="head_dim"):
        heads_to_groups(host.to_device(torch.zeros(2, 4 * 48)), 2, 48)
    with pytest.raises(ValueError, match="x: expected a TileTensor"):
        heads_to_groups(torch.zeros(2, 256), 2, 64)
    with pytest.raises(ValueError, match="o: expected"):
        groups_to_heads(host.to_device(torch.zeros(96, 64)), 2, 4, 2)
    K = host.to_device(torch.zeros(2 * 64, 64))
    new = host.to_device(torch.zeros(1, 2 * 64))
    with pytest.raises(ValueError, match="positions"):
        kv_update(K, K, new, new, [64], 2)
    with pytest.raises(ValueError, match="positions"):
        kv_update(K, K, new, new, [1, 2], 2)
    with pytest.raises(ValueError, match="k_new"):
        kv_update(K, K, new, new, [1], 1)


@pytest.mark.compile
@pytest.mark.parametrize("arch", ["n150", "p150"])
def test_compile_layout(arch):
    cases = [format_case(k, p) for k in ("heads_to_groups", "groups_to_heads", "kv_update")
             for p in get_kernel(k).model_cases()]
    cases += [format_case("groups_to_heads", dict(batch=33, n_q=8, n_kv=2, head_dim=64)),
              format_case("kv_update", dict(batch=3, n_kv=2, head_dim=64))]
    compile_clean(cases, arch)
