"""Llama-3 / Qwen3 decoders built from the TT-Lang kernels, against the reference model.

Tolerances (documented in README.md):
* weights in fp32 on the device (simulator fp32 arithmetic; only the KV cache is bf16, as the attention
  kernels require): per decode step, logits PCC >= 0.999 against the fp32 reference, and greedy decoding of
  32 tokens identical to the reference's;
* weights and activations in bf16: logits PCC >= 0.99 per step (bf16 storage of every activation).
"""

from __future__ import annotations

import pytest
import torch
from _tiny_models import check_two_users_bf16, seeded

from models.kernel_model import KernelTarget
from models.targets import TorchTarget
from reference.decoder import Decoder, DecoderConfig, greedy_generate
from ttl_kernels import host
from ttl_kernels.compile import compile_cases
from ttl_kernels.shapes import MODEL_SHAPES
from ttl_kernels.testing import pcc

LLAMA3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
          "original_max_position_embeddings": 32}


def tiny(arch: str, layers: int = 2, seed: int = 0) -> Decoder:
    cfg = DecoderConfig(arch=arch, vocab_size=256, hidden_size=128, intermediate_size=256, num_layers=layers,
                        num_heads=4, num_kv_heads=2, head_dim=64, qk_norm=arch == "qwen3",
                        tie_word_embeddings=arch == "qwen3", rope_theta=1e6 if arch == "qwen3" else 5e5,
                        rope_scaling=LLAMA3 if arch == "llama" else None)
    return seeded(Decoder, cfg, seed)


@pytest.mark.parametrize("arch", ["qwen3", "llama"])
def test_greedy_32_tokens_equal_reference(arch):
    """fp32 weights: per-step logits PCC >= 0.999 and the 32 greedy tokens identical to the reference."""
    m = tiny(arch)
    kt = KernelTarget(m, max_seq_len=128, dtype="fp32")
    prompt = list(range(20, 45))
    want = greedy_generate(m, torch.tensor([prompt]), 32)[0, len(prompt):].tolist()
    cache, ref_cache = kt.new_cache(64), TorchTarget(m).new_cache(64)
    logits, _ = kt.forward(prompt, cache)
    TorchTarget(m).forward(prompt, ref_cache)
    got, worst = [int(logits[-1].argmax())], 1.0
    for _ in range(31):
        a, _ = kt.forward([got[-1]], cache)
        b, _ = TorchTarget(m).forward([got[-1]], ref_cache)
        worst = min(worst, pcc(a, b))
        got.append(int(a[-1].argmax()))
    print(f"{arch}: worst per-step logits PCC {worst:.6f}")
    assert worst >= 0.999
    assert got == want


def test_batched_users_at_different_positions_bf16():
    """Two users at different lengths decode together in bf16: logits PCC >= 0.99 per user and step."""
    check_two_users_bf16(tiny("qwen3"), 128, taps=[1])


@pytest.mark.compile
@pytest.mark.parametrize("arch", ["n150", "p150"])
def test_compile_one_decode_step_every_model(arch):
    """Every kernel instance of one decode step of each model compiles for the target, lint-clean."""
    cases = [f"models.kernel_model:compile_step:model={m}" for m in MODEL_SHAPES]
    cases += ["models.kernel_model:compile_step:model=tiny-llama,batch=3,position=300"]
    results = compile_cases(cases, arch)
    for r in results:
        print(r.line()[:300])
    bad = [r.line() for r in results if not r.clean]
    assert not bad, "\n".join(bad)


def test_block_verification_is_one_step_and_matches_reference():
    """A verification block of 8 tokens (crossing a KV chunk boundary) runs as ONE kernel decode step, its
    rows attending causally to the shared cache: logits and taps PCC >= 0.999, same argmax; crop + decode
    afterwards matches too."""
    m = tiny("qwen3")
    kt, tt = KernelTarget(m, max_seq_len=256, dtype="fp32"), TorchTarget(m)
    prompt = list(range(10, 135))  # 125 tokens: the block spans positions 125..132 across the 128 boundary
    c1, c2 = kt.new_cache(256), tt.new_cache(256)
    kt.forward(prompt, c1)
    tt.forward(prompt, c2)
    steps = []
    kt.ops.step = (lambda f: (lambda *a, **k: steps.append(len(a[1])) or f(*a, **k)))(kt.ops.step)
    block = [5, 17, 99, 3, 42, 7, 8, 200]
    a, ta = kt.forward(block, c1, taps=(0, 1))
    b, tb = tt.forward(block, c2, taps=(0, 1))
    assert steps == [8]
    ta = torch.cat([host.to_torch(t) for t in ta[0].layers], -1)  # kernel taps stay on the device
    tb = torch.cat(tb[0].layers, -1)
    assert pcc(a, b) >= 0.999 and pcc(ta, tb) >= 0.999
    assert torch.equal(a.argmax(-1), b.argmax(-1))
    assert c1.lengths.tolist() == [133]
    c1.crop(128)
    c2.crop(128)
    a, _ = kt.forward([77], c1)
    b, _ = tt.forward([77], c2)
    assert pcc(a, b) >= 0.999


@pytest.mark.parametrize("arch, n_prompt", [("qwen3", 70), ("llama", 64), ("qwen3", 33)])
def test_chunked_prefill_fills_the_reference_cache(arch, n_prompt):
    """A prompt longer than one prefill chunk (32 rows) runs as several multi-row steps on the kernels: the device
    KV cache then holds the reference model's K (post-RoPE) and V at every prompt position (bf16 cache: rel. error
    <= 2^-7 of each layer's largest entry), and the last logits match (PCC >= 0.999).  Chunk boundaries at 32 and 64
    fall inside the prompt (70 = 32 + 32 + 6; 64 = two whole chunks; 33 = one chunk + one row)."""
    m = tiny(arch, layers=2)
    kt = KernelTarget(m, max_seq_len=128, dtype="fp32")
    prompt = [(7 * i + 3) % m.config.vocab_size for i in range(n_prompt)]
    cache, ref = kt.new_cache(128), TorchTarget(m).new_cache(128)
    logits, _ = kt.forward(prompt, cache)
    ref_logits, _ = TorchTarget(m).forward(prompt, ref)
    assert int(cache.lengths[0]) == int(ref.lengths[0]) == n_prompt
    c = m.config
    for li in range(c.num_layers):
        for dev, want in ((cache.k[li], ref.k[li]), (cache.v[li], ref.v[li])):
            # the device layout [B * n_kv * S_max, D] (attention._layout.kv_cache_to_tiles) back to [B, n_kv, S, D]
            got = host.to_torch(dev).reshape(1, c.num_kv_heads, -1, c.head_dim)[:, :, :n_prompt]
            want = want[:, :, :n_prompt].float()
            err = (got - want).abs().max().item()
            assert err <= 2**-7 * want.abs().max().item(), (li, err)
    assert pcc(logits[-1], ref_logits[-1]) >= 0.999
