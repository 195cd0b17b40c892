"""reference/norm.py and reference/rope.py against HF transformers' own classes (the model references
build on them).  Bound: bit-identical (``torch.equal``): the references reproduce HF's order of
operations, so any difference is a semantic change.  Shapes: rows x dim elements (no tiles here)."""

from __future__ import annotations

import torch
from conftest import examples
from hypothesis import given
from hypothesis import strategies as st

from reference import BF16, FP32
from reference.norm import rms_norm
from reference.rope import apply_rotary, cos_sin, inv_freq


@given(rows=st.integers(1, 6), dim=st.sampled_from([8, 16, 64, 128]), bf16=st.booleans(),
       eps=st.sampled_from([1e-6, 1e-5]), seed=st.integers(0, 2**16))
@examples(8)
def test_reference_rms_norm_equals_hf_llama_and_qwen3_rmsnorm(rows, dim, bf16, eps, seed):
    from transformers.models.llama.modeling_llama import LlamaRMSNorm
    from transformers.models.qwen3.modeling_qwen3 import Qwen3RMSNorm

    g = torch.Generator().manual_seed(seed)
    dt = BF16 if bf16 else FP32
    x = (3 * torch.randn(rows, 2, dim, generator=g)).to(dt)
    w = (1 + 0.3 * torch.randn(dim, generator=g)).to(dt)
    for cls in (LlamaRMSNorm, Qwen3RMSNorm):
        m = cls(dim, eps=eps).to(dt)
        with torch.no_grad():
            m.weight.copy_(w)
            ref = m(x)
        out = rms_norm(x, w, eps)
        assert out.dtype == ref.dtype == dt
        assert torch.equal(out, ref)


@given(head_dim=st.sampled_from([16, 32, 64, 128]), theta=st.sampled_from([1e4, 5e5, 1e6]),
       scaled=st.booleans(), old_ctx=st.sampled_from([64, 8192]), seed=st.integers(0, 2**16))
@examples(8)
def test_reference_rope_equals_hf_rotary_embedding(head_dim, theta, scaled, old_ctx, seed):
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

    rp = {"rope_type": "default", "rope_theta": theta}
    if scaled:
        rp = {"rope_type": "llama3", "rope_theta": theta, "factor": 8.0, "low_freq_factor": 1.0,
              "high_freq_factor": 4.0, "original_max_position_embeddings": old_ctx}
    cfg = LlamaConfig(hidden_size=2 * head_dim, num_attention_heads=2, head_dim=head_dim, rope_parameters=rp,
                      max_position_embeddings=4 * old_ctx)
    emb = LlamaRotaryEmbedding(cfg)
    ours = inv_freq(head_dim, theta, rp if scaled else None)
    assert torch.equal(ours, emb.inv_freq)
    g = torch.Generator().manual_seed(seed)
    pos = torch.randint(0, 4 * old_ctx, (2, 7), generator=g)
    x = torch.randn(2, 3, 7, head_dim, generator=g)
    c_ref, s_ref = emb(x, pos)
    c, s = cos_sin(pos, ours)
    assert torch.equal(c, c_ref) and torch.equal(s, s_ref)
    k = torch.randn(2, 1, 7, head_dim, generator=g)
    q_ref, k_ref = apply_rotary_pos_emb(x, k, c_ref, s_ref)
    assert torch.equal(apply_rotary(x, c[:, None], s[:, None]), q_ref)
    assert torch.equal(apply_rotary(k, c[:, None], s[:, None]), k_ref)


def test_reference_rope_llama3_scaling_changes_low_frequencies_only():
    """Llama-3.1 scaling: high frequencies kept, low ones divided by factor, the band between smoothed."""
    rp = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
          "original_max_position_embeddings": 64}
    plain, scaled = inv_freq(16, 5e5), inv_freq(16, 5e5, rp)
    ratio = (plain / scaled).tolist()
    assert ratio[0] == 1.0 and ratio[-1] == 8.0
    assert any(1.0 < r < 8.0 for r in ratio)
