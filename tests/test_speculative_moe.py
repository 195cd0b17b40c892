"""Speculative decoding against a Qwen3-MoE target (torch backend): lossless at T = 0 for a layer-skip
self-draft, the target as its own perfect draft and DFlash drafts tapping the MoE target's layers; and the
z-lab config of the Qwen3-Coder-30B-A3B DFlash draft checked against the published 48-layer target config
without any weights (``models.speculative.check_draft_fits``, the check ``DFlashRunner`` runs)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch
from _tiny_models import V, prompts, seeded, tiny_dflash

from models.dflash import DFlashConfig, DFlashDraft
from models.speculative import (
    AutoregressiveDraft,
    DFlashRunner,
    check_draft_fits,
    layer_skip,
    plain_generate,
    speculative_generate,
)
from models.targets import TorchTarget
from reference import BF16, registry
from reference.decoder import DecoderConfig, greedy_generate
from reference.moe import SparseMoeBlock
from reference.qwen3_moe import Qwen3MoeModel

# z-lab's DFlash draft for Qwen3-Coder-30B-A3B, in its config.json format (what DFlashConfig.from_hf reads):
# 8 Qwen3 draft layers at the target's hidden size 2048 (32 q / 4 kv heads, head_dim 128), block 16, taps after
# target layers [1, 12, 23, 34, 45] (z-lab's build_target_layer_ids(48, 5): 1 .. 48 - 3 evenly), the Qwen3
# tokenizer's mask token 151669 (as z-lab's Qwen3 drafts), the target's vocabulary and RoPE.  The draft MLP width
# (intermediate_size) is not checked against anything: only the draft's own weights depend on it.
ZLAB_QWEN3_CODER_30B_A3B_DFLASH = {
    "architectures": ["DFlashDraftModel"],
    "auto_map": {"AutoModel": "dflash.DFlashDraftModel"},
    "attention_bias": False,
    "attention_dropout": 0.0,
    "block_size": 16,
    "dflash_config": {"mask_token_id": 151669, "target_layer_ids": [1, 12, 23, 34, 45]},
    "dtype": "bfloat16",
    "eos_token_id": 151645,
    "head_dim": 128,
    "hidden_act": "silu",
    "hidden_size": 2048,
    "initializer_range": 0.02,
    "intermediate_size": 6144,
    "layer_types": ["full_attention"] * 8,
    "max_position_embeddings": 262144,
    "max_window_layers": 8,
    "model_type": "qwen3",
    "num_attention_heads": 32,
    "num_hidden_layers": 8,
    "num_key_value_heads": 4,
    "num_target_layers": 48,
    "rms_norm_eps": 1e-06,
    "rope_scaling": None,
    "rope_theta": 10000000,
    "sliding_window": None,
    "tie_word_embeddings": False,
    "use_cache": True,
    "use_sliding_window": False,
    "vocab_size": 151936,
}


def tiny_moe(layers=4, seed=0, scale=0.3) -> Qwen3MoeModel:
    """Random Qwen3-MoE target: layers 0, 1, 3 routed (top-2 of 6 experts, renormalised), layer 2 dense."""
    cfg = DecoderConfig(arch="qwen3_moe", vocab_size=V, hidden_size=64, intermediate_size=128, num_layers=layers,
                        num_heads=4, num_kv_heads=2, head_dim=16, qk_norm=True, tie_word_embeddings=True,
                        rope_theta=1e6, num_experts=6, num_experts_per_tok=2, moe_intermediate_size=32,
                        decoder_sparse_step=1, mlp_only_layers=(2,), norm_topk_prob=True)
    return seeded(Qwen3MoeModel, cfg, seed, scale)


@pytest.fixture(scope="module")
def target():
    return tiny_moe()


def test_the_target_is_a_mixture_of_experts(target):
    assert [isinstance(layer.mlp, SparseMoeBlock) for layer in target.layers] == [True, True, False, True]
    skip = layer_skip(target, 2)  # shares the target's (routed) layers
    assert skip.config.num_layers == 2 and skip.layers[0].mlp is target.layers[0].mlp


def test_lossless_greedy_on_a_moe_target(target):
    """T = 0: speculative output == the reference's plain greedy loop, 10 prompts x 4 drafts (layer-skip over
    two routed layers, the target itself, DFlash b8 tapping routed and dense layers, DFlash b3)."""
    t = TorchTarget(target)
    drafts = {
        "layer-skip(2)": AutoregressiveDraft(layer_skip(target, 2), 4, "layer-skip"),
        "self (perfect draft)": AutoregressiveDraft(target, 5, "self"),
        "dflash b8 taps 0,2,3": DFlashRunner(tiny_dflash(target), t),
        "dflash b3 tap 1": DFlashRunner(tiny_dflash(target, block=3, taps=(1,)), t),
    }
    for p in prompts(10):
        want = greedy_generate(target, torch.tensor([p]), 24)[0, len(p):].tolist()
        assert plain_generate(t, p, 24).tokens == want
        for name, d in drafts.items():
            got = speculative_generate(t, d, p, 24)
            assert got.tokens == want, (name, p)
            assert 1.0 <= got.tau <= d.k + 1
    # the target as its own draft accepts everything: 6 tokens per verify step (23 kept after the prefill's)
    perfect = speculative_generate(t, AutoregressiveDraft(target, 5, "self"), prompts(10)[0], 24)
    assert perfect.acceptance_rate == 1.0 and perfect.verify_steps == 4 and perfect.emitted == 23


def test_zlab_30b_a3b_dflash_config_fits_the_48_layer_target_config():
    """The z-lab draft config loads (DFlashConfig.from_hf) and fits the published Qwen3-Coder-30B-A3B config;
    DFlashRunner accepts it against a target that has only a config (draft built on the meta device)."""
    dc = DFlashConfig.from_hf(ZLAB_QWEN3_CODER_30B_A3B_DFLASH)
    tc = registry.config("qwen3-coder-30b-a3b")
    assert (dc.num_layers, dc.hidden_size, dc.block_size, dc.num_target_layers) == (8, 2048, 16, 48)
    assert dc.target_layer_ids == [1, 12, 23, 34, 45] and (dc.num_heads, dc.num_kv_heads, dc.head_dim) == (32, 4, 128)
    assert tc.num_layers == dc.num_target_layers and tc.is_moe
    assert check_draft_fits(dc, tc) == 16
    assert check_draft_fits(dc, tc, block_size=8) == 8
    with torch.device("meta"):
        draft = DFlashDraft(dc, BF16)
    assert tuple(draft.fc.weight.shape) == (2048, 5 * 2048) and len(draft.layers) == 8
    runner = DFlashRunner(draft, SimpleNamespace(config=tc))
    assert runner.k == 15 and runner.taps == (1, 12, 23, 34, 45)


@pytest.mark.parametrize("target_change, draft_change, block_size, match", [
    ({"num_layers": 45}, {}, None, r"target_layer_ids \[45\] are outside the target's layers 0..44"),
    ({"hidden_size": 4096}, {}, None, "draft hidden_size 2048 does not match the target's 4096"),
    ({"vocab_size": 151669}, {}, None, "mask_token_id 151669 is not a token of the target"),
    ({}, {"vocab_size": 152064}, None, "draft vocab_size 152064 does not match the target's 151936"),
    ({}, {}, 65, "block_size: expected 2..64"),
])
def test_zlab_30b_a3b_dflash_config_misfits_are_rejected(target_change, draft_change, block_size, match):
    dc = replace(DFlashConfig.from_hf(ZLAB_QWEN3_CODER_30B_A3B_DFLASH), **draft_change)
    tc = replace(registry.config("qwen3-coder-30b-a3b"), **target_change)
    with pytest.raises(ValueError, match=match):
        check_draft_fits(dc, tc, block_size)
    with pytest.raises(ValueError, match=match):
        DFlashRunner(SimpleNamespace(config=dc), SimpleNamespace(config=tc), block_size)


def test_zlab_30b_a3b_dflash_does_not_fit_the_dense_8b():
    with pytest.raises(ValueError, match="hidden_size"):
        check_draft_fits(DFlashConfig.from_hf(ZLAB_QWEN3_CODER_30B_A3B_DFLASH), registry.config("qwen3-8b"))
