"""The RMSNorm and RoPE references (reference/norm.py, reference/rope.py) and the RoPE tables agree with
transformers' own classes: LlamaRMSNorm / Qwen3RMSNorm, Qwen3's q_norm usage, LlamaRotaryEmbedding /
Qwen3RotaryEmbedding (default and llama3 rope types) and apply_rotary_pos_emb.  No kernels run here except
through RopeTables (host tables only)."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, Qwen3Config
from transformers.models.llama.modeling_llama import LlamaRMSNorm, LlamaRotaryEmbedding
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb as llama_apply
from transformers.models.qwen3.modeling_qwen3 import Qwen3RMSNorm, Qwen3RotaryEmbedding
from transformers.models.qwen3.modeling_qwen3 import apply_rotary_pos_emb as qwen3_apply

from reference import BF16
from reference import norm as rn
from reference import rope as rr
from ttl_kernels import host
from ttl_kernels.rope import LLAMA3_SCALING, RopeTables

POS = torch.tensor([[0, 1, 31, 32, 1000, 8191, 8192, 65536, 131071]])


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def llama_config(head_dim=128):
    return LlamaConfig(hidden_size=32 * head_dim, num_attention_heads=32, num_key_value_heads=8, head_dim=head_dim,
                       rope_parameters={"rope_theta": 500000.0, **LLAMA3_SCALING}, max_position_embeddings=131072)


def qwen3_config(head_dim=128):
    return Qwen3Config(hidden_size=2048, num_attention_heads=16, num_key_value_heads=8, head_dim=head_dim,
                       rope_parameters={"rope_type": "default", "rope_theta": 1e6}, max_position_embeddings=40960)


# -------------------------------------------------------------------------------------------- RMSNorm


@pytest.mark.parametrize("cls", [LlamaRMSNorm, Qwen3RMSNorm])
@pytest.mark.parametrize("dtype", [BF16, torch.float32])
@pytest.mark.parametrize("eps", [1e-6, 1e-5])
def test_rms_norm_matches_hf_module(cls, dtype, eps):
    x = (torch.randn(37, 1000, generator=_gen()) * 3).to(dtype)
    w = (1 + 0.1 * torch.randn(1000, generator=_gen(1))).to(dtype)
    m = cls(1000, eps=eps)
    with torch.no_grad():
        m.weight.copy_(w)
        m.to(dtype)
        expect = m(x)
    got = rn.rms_norm(x, w, eps)
    assert got.dtype == expect.dtype
    torch.testing.assert_close(got, expect, rtol=0, atol=0)  # op for op
    # the fp32 formula the kernels are compared with: equal in fp32, within bf16 rounding otherwise
    tol = dict(rtol=0, atol=0) if dtype == torch.float32 else dict(rtol=2 ** -7, atol=2 ** -7)
    torch.testing.assert_close(rn.rms_norm_fp32(x, w, eps), expect.float(), **tol)


def test_add_rms_norm_is_the_hf_prenorm_step():
    """HF decoder: ``hidden = residual + hidden; residual = hidden; hidden = norm(hidden)``."""
    x, r = torch.randn(8, 256, generator=_gen()), torch.randn(8, 256, generator=_gen(1))
    m = Qwen3RMSNorm(256, eps=1e-6)
    with torch.no_grad():
        m.weight.copy_(1 + 0.1 * torch.randn(256, generator=_gen(2)))
        h_hf = r + x
        y_hf = m(h_hf)
        h, y = rn.add_rms_norm(x, r, m.weight, 1e-6)
    torch.testing.assert_close(h, h_hf, rtol=0, atol=0)
    torch.testing.assert_close(y, y_hf, rtol=0, atol=0)


@pytest.mark.parametrize("n_heads, head_dim", [(16, 128), (8, 128), (4, 64)])
def test_head_rms_norm_matches_qwen3_q_norm(n_heads, head_dim):
    """Qwen3Attention: ``q_norm(q_proj(h).view(*input_shape, -1, head_dim))`` with
    ``Qwen3RMSNorm(head_dim)``; the 2-D reference on ``rows x (n_heads * head_dim)`` agrees."""
    rows = 5
    q = torch.randn(rows, n_heads * head_dim, generator=_gen())
    m = Qwen3RMSNorm(head_dim, eps=1e-6)
    with torch.no_grad():
        m.weight.copy_(1 + 0.1 * torch.randn(head_dim, generator=_gen(1)))
        expect = m(q.view(rows, -1, head_dim)).reshape(rows, -1)
        got = rn.head_rms_norm_rows(q, m.weight, 1e-6)
        got3 = rn.head_rms_norm(q.view(rows, -1, head_dim), m.weight, 1e-6).reshape(rows, -1)
    torch.testing.assert_close(got, expect, rtol=0, atol=0)
    torch.testing.assert_close(got3, expect, rtol=0, atol=0)


# ----------------------------------------------------------------------------------------------- RoPE


@pytest.mark.parametrize("make, cls", [(llama_config, LlamaRotaryEmbedding), (qwen3_config, Qwen3RotaryEmbedding)])
@pytest.mark.parametrize("head_dim", [64, 128])
def test_inv_freq_and_tables_match_hf_rotary_embedding(make, cls, head_dim):
    cfg = make(head_dim)
    emb = cls(cfg)
    params = cfg.rope_parameters
    scaling = None if params["rope_type"] == "default" else params
    inv = rr.inv_freq(head_dim, params["rope_theta"], scaling)
    torch.testing.assert_close(inv, emb.inv_freq.float(), rtol=0, atol=0)
    x = torch.zeros(1, 1, head_dim)
    cos_hf, sin_hf = emb(x, POS)
    cos, sin = rr.cos_sin(POS[0], inv)
    torch.testing.assert_close(cos, cos_hf[0], rtol=0, atol=0)
    torch.testing.assert_close(sin, sin_hf[0], rtol=0, atol=0)
    assert torch.equal(cos[:, : head_dim // 2], cos[:, head_dim // 2:])  # equal halves: what the device tables use
    # bf16 activations: HF casts cos / sin to bf16; so does a bf16 RopeTables
    cos_b, sin_b = emb(x.to(BF16), POS)
    tab = RopeTables.from_hf_config(cfg, max_seq_len=131072, dtype="bf16")
    c, s = tab.lookup(POS[0].tolist())
    torch.testing.assert_close(c, cos_b[0].float(), rtol=0, atol=0)
    torch.testing.assert_close(s, sin_b[0].float(), rtol=0, atol=0)
    assert tab.head_dim == head_dim and tab.max_seq_len == 131072


def test_llama3_scaling_changes_only_low_frequencies():
    """The llama3 rope type rescales long wavelengths (so the reference is not just theta 500000)."""
    plain = rr.inv_freq(128, 500000.0)
    scaled = rr.inv_freq(128, 500000.0, LLAMA3_SCALING)
    assert torch.equal(scaled[:10], plain[:10]) and (scaled[-10:] < plain[-10:]).all()


@pytest.mark.parametrize("apply", [llama_apply, qwen3_apply])
def test_apply_rotary_matches_hf(apply):
    b, h_q, h_kv, t, d = 2, 8, 2, 5, 128
    q = torch.randn(b, h_q, t, d, generator=_gen())
    k = torch.randn(b, h_kv, t, d, generator=_gen(1))
    emb = LlamaRotaryEmbedding(llama_config(d))
    pos = torch.tensor([[3, 40, 1000, 70000, 131071], [0, 1, 2, 3, 4]])
    cos, sin = emb(q, pos)
    q_hf, k_hf = apply(q, k, cos, sin)
    torch.testing.assert_close(rr.apply_rotary(q, cos[:, None], sin[:, None]), q_hf, rtol=0, atol=0)
    torch.testing.assert_close(rr.apply_rotary(k, cos[:, None], sin[:, None]), k_hf, rtol=0, atol=0)
    # the kernels' 2-D layout: rows = (batch, token), columns = heads x head_dim; half tables
    tab_cos, tab_sin = rr.rope_tables(131072, d, 500000.0, LLAMA3_SCALING)
    rows = pos.flatten().tolist()
    q2 = q.permute(0, 2, 1, 3).reshape(b * t, h_q * d)
    k2 = k.permute(0, 2, 1, 3).reshape(b * t, h_kv * d)
    qr, kr = rr.rope_rows(q2, k2, tab_cos[:, : d // 2], tab_sin[:, : d // 2], rows)
    torch.testing.assert_close(qr, q_hf.permute(0, 2, 1, 3).reshape(b * t, -1), rtol=0, atol=0)
    torch.testing.assert_close(kr, k_hf.permute(0, 2, 1, 3).reshape(b * t, -1), rtol=0, atol=0)


def test_rope_tables_store_the_first_halves():
    tab = RopeTables.from_config(64, 1e6, None, 300, "fp32")
    cos, sin = rr.rope_tables(300, 64, 1e6)
    assert tab.cos.shape == (300, 32) and tab.sin.shape == (300, 32)
    torch.testing.assert_close(host.to_torch(tab.cos), cos[:, :32], rtol=0, atol=0)
    torch.testing.assert_close(host.to_torch(tab.sin), sin[:, :32], rtol=0, atol=0)
