"""Parity of the reference Qwen3-MoE (reference/moe.py on reference/decoder.py) with HF transformers, its
config parsing, its checkpoint loading and its bad-input errors.

Tiny random ``Qwen3MoeForCausalLM`` models are built with transformers' own ``Qwen3MoeConfig``, every
parameter re-randomised (norm weights too; strong o_proj / down_proj outputs: tests/_hf_parity.py),
saved with ``save_pretrained`` (one of them sharded) and loaded with ``reference.hf.load_pretrained``.  The
configs mix dense and sparse layers (``decoder_sparse_step`` 1 and 2, ``mlp_only_layers`` non-empty),
``norm_topk_prob`` true and false, top-1 to top-3 routing, tied and untied embeddings.

Tolerances are those of test_reference_models.py: fp32 ``assert_close(rtol=1e-4, atol=1e-5 * max(1, |ref|max))``,
bf16 PCC >= 0.999 and max abs logit error <= 2**-7 * |ref|max; greedy generation equal to HF ``generate``
token for token.  HF runs its default experts implementation (``grouped_mm``, what ``from_pretrained`` picks);
measured on transformers 5.23 / torch CPU our model is bit-identical to it in fp32 and bf16 (max abs error 0).
HF's ``experts_implementation="eager"`` (``index_add_`` expert by expert) is checked too: fp32 within the
tolerance; bf16 one rounding per expert add apart (reported, PCC checked).

Run with ``-s`` to see the parity figures (lines starting ``PARITY``).
"""

from __future__ import annotations

import json

import _hf_parity as parity
import pytest
import torch
from safetensors.torch import load_file, save_file

from reference import BF16, FP32, registry
from reference.config import DecoderConfig
from reference.decoder import KVCache, greedy_generate
from reference.hf import CheckpointError, load_pretrained
from reference.moe import SparseMoeBlock, route
from reference.qwen3_moe import Qwen3MoeModel
from ttl_kernels.testing import pcc

ROPE = {"rope_type": "default", "rope_theta": 1000000.0}

# name -> (HF Qwen3MoeConfig kwargs, save sharded?)
TINY: dict[str, tuple[dict, bool]] = {
    # layers 0, 1, 3 sparse (step 1), layer 2 dense (mlp_only_layers); top-3 of 8, renormalised
    "moe_step1_mlponly_norm": (dict(
        vocab_size=256, hidden_size=64, intermediate_size=96, moe_intermediate_size=32, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, num_experts=8, num_experts_per_tok=3,
        decoder_sparse_step=1, mlp_only_layers=[2], norm_topk_prob=True, rope_parameters=dict(ROPE),
        tie_word_embeddings=False), True),
    # layers 1, 3 sparse (step 2), 0, 2 dense; top-2 of 6, NOT renormalised; tied embeddings
    "moe_step2_nonorm_tied": (dict(
        vocab_size=288, hidden_size=64, intermediate_size=128, moe_intermediate_size=48, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=1, head_dim=32, num_experts=6, num_experts_per_tok=2,
        decoder_sparse_step=2, mlp_only_layers=[], norm_topk_prob=False, rope_parameters=dict(ROPE),
        tie_word_embeddings=True), False),
    # layer 1 sparse only (step 2, layer 3 in mlp_only_layers); top-1 of 4 renormalised (weight exactly 1)
    "moe_step2_mlponly_top1": (dict(
        vocab_size=200, hidden_size=48, intermediate_size=80, moe_intermediate_size=24, num_hidden_layers=4,
        num_attention_heads=3, num_key_value_heads=3, head_dim=16, num_experts=4, num_experts_per_tok=1,
        decoder_sparse_step=2, mlp_only_layers=[3], norm_topk_prob=True, rope_parameters=dict(ROPE),
        tie_word_embeddings=False, rms_norm_eps=1e-5), False),
}
NAMES = list(TINY)


def make_hf_model(name: str, seed: int = 0):
    from transformers import Qwen3MoeConfig, Qwen3MoeForCausalLM

    model = parity.hf_model(Qwen3MoeConfig, Qwen3MoeForCausalLM, TINY[name][0], seed)
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    return model


def _build(name: str, d):
    """(checkpoint dir, HF fp32 model, our fp32 model, our config)."""
    hf = make_hf_model(name)
    parity.save(hf, d, TINY[name][1])
    return (d, hf, *load_pretrained(d, FP32))


tiny = parity.built_once(_build)


# ----------------------------------------------------------------------------------------------------------
# parity with HF
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_moe_layers_are_sparse_where_transformers_puts_experts(tiny, name):
    _, hf, ours, cfg = tiny(name)
    theirs = [type(layer.mlp).__name__ == "Qwen3MoeSparseMoeBlock" for layer in hf.model.layers]
    assert [isinstance(layer.mlp, SparseMoeBlock) for layer in ours.layers] == theirs
    assert cfg.sparse_layers == [i for i, s in enumerate(theirs) if s] and 0 < len(cfg.sparse_layers) < cfg.num_layers
    assert isinstance(ours, Qwen3MoeModel) and cfg.arch == "qwen3_moe" and cfg.qk_norm


@pytest.mark.parametrize("name", NAMES)
def test_moe_prefill_and_20_decode_steps_match_hf(tiny, name):
    _, hf, ours, cfg = tiny(name)
    ids, _, _ = parity.check_fp32_against_hf(name, hf, ours, cfg)
    with torch.no_grad():  # hidden states of every layer (the DFlash taps) too
        full = hf(ids[:, :12], output_hidden_states=True)
        mine = ours(ids[:, :12], taps=list(range(cfg.num_layers - 1)))
        for k, h in enumerate(mine.hidden_taps):
            parity.close(h, full.hidden_states[k + 1])


@pytest.mark.parametrize("name", NAMES)
def test_moe_greedy_generate_equals_hf_generate(tiny, name):
    _, hf, ours, cfg = tiny(name)
    ids = parity.random_ids(cfg, 3, 7, seed=3)
    with torch.no_grad():
        mine = greedy_generate(ours, ids, 20)
        ref = parity.hf_greedy(hf, ids, 20)
    assert torch.equal(mine, ref), f"{mine}\n{ref}"
    assert len(set(mine[:, 7:].flatten().tolist())) > 3  # the generation is not a fixed point


@pytest.mark.parametrize("name", NAMES)
def test_moe_bf16_matches_hf_bf16(tiny, name):
    """bf16: ours vs HF ``from_pretrained(dtype=bfloat16)``, prefill + 5 decode steps and greedy generation."""
    d, _, _, cfg = tiny(name)
    ours, _ = load_pretrained(d, BF16)
    assert ours.dtype == BF16 and ours.layers[cfg.sparse_layers[0]].mlp.experts[0].up_proj.weight.dtype == BF16
    parity.check_bf16_against_hf(name, d, ours, cfg, 20)


def test_moe_against_hf_eager_experts(tiny):
    """transformers' other experts implementation (``eager``: index_add_ per expert) agrees too: fp32 within
    the fp32 tolerance, bf16 within one bf16 rounding per add (PCC)."""
    from transformers import AutoModelForCausalLM

    name = "moe_step1_mlponly_norm"
    d, _, ours, cfg = tiny(name)
    ids = parity.random_ids(cfg, 2, 16, seed=5)
    with torch.no_grad():
        for dtype in (FP32, BF16):
            hf = AutoModelForCausalLM.from_pretrained(str(d), dtype=dtype, attn_implementation="eager",
                                                      experts_implementation="eager").eval()
            mine = ours if dtype == FP32 else load_pretrained(d, BF16)[0]
            got, exp = mine(ids).logits, hf(ids).logits.float()
            parity.report(name, f"{'fp32' if dtype == FP32 else 'bf16'} prefill vs HF eager experts", got, exp)
            if dtype == FP32:
                parity.close(got, exp)
            else:
                assert pcc(got, exp) >= 0.999


@pytest.mark.parametrize("norm", [True, False])
def test_router_ties_and_weights_equal_transformers_router(norm):
    """Equal router logits (duplicated router rows) resolve as in transformers' Qwen3MoeTopKRouter (same
    torch.topk call), and the weights are its weights bit for bit, fp32 and bf16."""
    from transformers import Qwen3MoeConfig
    from transformers.models.qwen3_moe.modeling_qwen3_moe import Qwen3MoeTopKRouter

    E, H, k = 8, 32, 3
    hcfg = Qwen3MoeConfig(hidden_size=H, num_experts=E, num_experts_per_tok=k, norm_topk_prob=norm)
    g = torch.Generator().manual_seed(7)
    w = torch.randn(E, H, generator=g)
    w[5], w[6], w[7] = w[1], w[1], w[2]  # experts 1, 5, 6 tie; 2 and 7 tie
    x = torch.randn(40, H, generator=g)
    x[:4] = 0.0  # all logits equal: the whole row ties
    for dtype in (FP32, BF16):
        theirs = Qwen3MoeTopKRouter(hcfg).to(dtype)
        with torch.no_grad():
            theirs.weight.copy_(w.to(dtype))
            _, tw, ti = theirs(x.to(dtype))
        ours_w, ours_i = route(torch.nn.functional.linear(x.to(dtype), w.to(dtype)), k, norm)
        assert torch.equal(ours_i, ti) and torch.equal(ours_w, tw) and ours_w.dtype == dtype
    if norm:
        torch.testing.assert_close(ours_w.float().sum(-1), torch.ones(40), atol=2e-2, rtol=0)


def test_moe_block_routes_each_row_on_its_own(tiny):
    """A block of T rows in one forward equals T one-row forwards (routing is per row), and padded rows of a
    batched step (num_valid) do not disturb the valid ones."""
    _, _, ours, cfg = tiny("moe_step2_nonorm_tied")
    ids = parity.random_ids(cfg, 1, 14, seed=6)
    with torch.no_grad():
        c1, c2 = KVCache.empty(cfg, 1, 14), KVCache.empty(cfg, 1, 14)
        ours(ids[:, :6], c1)
        ours(ids[:, :6], c2)
        block = ours(ids[:, 6:], c1).logits
        steps = torch.cat([ours(ids[:, t:t + 1], c2).logits for t in range(6, 14)], 1)
        parity.close(block, steps)
        two = torch.stack([ids[0, :10], torch.cat([ids[0, :4], torch.full((6,), 3)])])
        both = ours(two, num_valid=[10, 4]).logits
        alone = ours(ids[:, :4]).logits
        parity.close(both[1:, :4], alone)


# ----------------------------------------------------------------------------------------------------------
# configs: HF parsing, the published 30B-A3B config, bad values
# ----------------------------------------------------------------------------------------------------------


def test_moe_config_from_hf_reads_both_spellings_of_num_experts(tiny):
    d, hf, _, cfg = tiny("moe_step1_mlponly_norm")
    on_disk = json.loads((d / "config.json").read_text())
    assert "num_local_experts" in on_disk and "num_experts" not in on_disk  # what transformers 5 writes
    assert (cfg.num_experts, cfg.num_experts_per_tok, cfg.moe_intermediate_size) == (8, 3, 32)
    assert (cfg.decoder_sparse_step, cfg.mlp_only_layers, cfg.norm_topk_prob) == (1, (2,), True)
    published = {k: v for k, v in on_disk.items() if k != "num_local_experts"} | {"num_experts": 8}
    assert DecoderConfig.from_hf(published) == cfg
    assert DecoderConfig.from_hf(hf.config) == cfg  # an HF config object too
    assert cfg.to_dict()["mlp_only_layers"] == [2]


def test_published_qwen3_coder_30b_a3b_config():
    c = registry.config("qwen3-coder-30b-a3b")
    assert (c.arch, c.num_layers, c.hidden_size, c.num_heads, c.num_kv_heads, c.head_dim) == (
        "qwen3_moe", 48, 2048, 32, 4, 128)
    assert (c.num_experts, c.num_experts_per_tok, c.moe_intermediate_size, c.norm_topk_prob) == (128, 8, 768, True)
    assert c.sparse_layers == list(range(48)) and c.qk_norm and not c.tie_word_embeddings
    assert (c.vocab_size, c.rope_theta, c.max_position_embeddings, c.rms_norm_eps) == (151936, 1e7, 262144, 1e-6)
    assert c.rope_scaling is None
    # the kernel families iterate names(): the MoE entry stays out until the kernel model has experts
    assert "qwen3-coder-30b-a3b" in registry.NAMED and "qwen3-coder-30b-a3b" not in registry.names()
    assert "qwen3-coder-30b-a3b" in registry.names(include_moe=True)
    # the published checkpoint's key layout (per-expert), built on the meta device (no memory), 2 layers
    with torch.device("meta"):
        m = Qwen3MoeModel(registry.config("qwen3-coder-30b-a3b", num_layers=2), BF16)
    sd = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert sd["model.layers.1.mlp.gate.weight"] == (128, 2048)
    assert sd["model.layers.0.mlp.experts.127.gate_proj.weight"] == (768, 2048)
    assert sd["model.layers.0.mlp.experts.0.down_proj.weight"] == (2048, 768)
    assert not any(k.startswith("model.layers.0.mlp.gate_proj") for k in sd)
    assert len(sd) == 2 * (128 * 3 + 1 + 8) + 3  # experts, router, attn + norms per layer; embed, norm, head


@pytest.mark.parametrize("change, match", [
    ({"num_experts_per_tok": 9}, "num_experts_per_tok: expected 1..num_experts=8"),
    ({"num_experts_per_tok": 0}, "num_experts_per_tok: expected 1..num_experts=8"),
    ({"num_experts": None, "num_local_experts": None}, "'num_experts' \\(or 'num_local_experts'\\) is missing"),
    ({"num_local_experts": 6}, "num_experts: 8 disagrees with num_local_experts 6"),
    ({"moe_intermediate_size": None}, "'moe_intermediate_size' is missing"),
    ({"moe_intermediate_size": 0}, "moe_intermediate_size: expected a positive int"),
    ({"decoder_sparse_step": 0}, "decoder_sparse_step: expected an int >= 1"),
    ({"mlp_only_layers": [1, "x"]}, "mlp_only_layers: expected a list of layer ids"),
    ({"shared_expert_intermediate_size": 512}, "shared_expert_intermediate_size"),
    ({"use_sliding_window": True}, "use_sliding_window"),
])
def test_moe_config_rejects_bad_values(change, match):
    d = {**registry.hf_dict("qwen3-coder-30b-a3b"), "num_experts": 8, **change}
    d = {k: v for k, v in d.items() if v is not None}
    with pytest.raises(ValueError, match=match):
        DecoderConfig.from_hf(d)


def test_dense_configs_unchanged_and_experts_only_on_qwen3_moe():
    for name in registry.names():
        c = registry.config(name)
        assert not c.is_moe and c.sparse_layers == [] and c.num_experts == 0
    base = registry.config("qwen3-0.6b")
    with pytest.raises(ValueError, match="num_experts: routed experts need arch 'qwen3_moe'"):
        DecoderConfig(**{**base.to_dict(), "num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 8})
    with pytest.raises(ValueError, match="arch: expected one of"):
        DecoderConfig(**{**base.to_dict(), "arch": "mixtral"})


# ----------------------------------------------------------------------------------------------------------
# loading: bad checkpoints
# ----------------------------------------------------------------------------------------------------------


def _copy_ckpt(tiny, tmp_path, name="moe_step2_nonorm_tied"):
    d = tiny(name)[0]
    out = tmp_path / "ck"
    out.mkdir()
    (out / "config.json").write_text((d / "config.json").read_text())
    return out, load_file(str(d / "model.safetensors"))


def test_moe_loader_lists_missing_expert_weights(tiny, tmp_path):
    out, sd = _copy_ckpt(tiny, tmp_path)
    gone = ["model.layers.1.mlp.experts.4.up_proj.weight", "model.layers.3.mlp.experts.0.down_proj.weight"]
    save_file({k: v for k, v in sd.items() if k not in gone}, str(out / "model.safetensors"))
    with pytest.raises(CheckpointError) as e:
        load_pretrained(out, FP32)
    assert e.value.missing == gone and not e.value.unexpected and not e.value.mismatched
    assert all(k in str(e.value) for k in gone)


def test_moe_loader_router_shape_mismatch_names_num_experts(tiny, tmp_path):
    out, sd = _copy_ckpt(tiny, tmp_path)
    key = "model.layers.1.mlp.gate.weight"
    sd[key] = torch.cat([sd[key], sd[key][:1]])  # 7 router rows against num_experts 6
    save_file(sd, str(out / "model.safetensors"))
    with pytest.raises(CheckpointError) as e:
        load_pretrained(out, FP32)
    assert e.value.mismatched == [f"{key}: checkpoint (7, 64) != expected (6, 64)"]
    assert "num_experts=6" in str(e.value)


def test_moe_loader_rejects_fused_experts_and_bad_config(tiny, tmp_path):
    out, sd = _copy_ckpt(tiny, tmp_path)
    for i in (1, 3):  # transformers 5's in-memory layout
        pre = f"model.layers.{i}.mlp.experts"
        gu = torch.stack([torch.cat([sd.pop(f"{pre}.{e}.gate_proj.weight"), sd.pop(f"{pre}.{e}.up_proj.weight")])
                          for e in range(6)])
        sd[f"{pre}.gate_up_proj"] = gu
        sd[f"{pre}.down_proj"] = torch.stack([sd.pop(f"{pre}.{e}.down_proj.weight") for e in range(6)])
    save_file(sd, str(out / "model.safetensors"))
    with pytest.raises(CheckpointError, match="fused expert tensors"):
        load_pretrained(out, FP32)
    cfg = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**cfg, "num_experts_per_tok": 7}))
    with pytest.raises(ValueError, match="num_experts_per_tok: expected 1..num_experts=6; got 7"):
        load_pretrained(out, FP32)
    with pytest.raises(ValueError, match="expected a 'qwen3' checkpoint"):
        load_pretrained(tiny("moe_step2_nonorm_tied")[0], FP32, expect_arch="qwen3")
