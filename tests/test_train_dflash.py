"""The DFlash trainer's batched forward (all anchors of a window at once) equals the draft's inference
forward, and a few training steps lower the loss."""

from __future__ import annotations

import numpy as np
import torch

from reference.decoder import Decoder, DecoderConfig
from training.train_dflash import (
    batched_forward,
    check_against_inference,
    default_taps,
    draft_for,
    step_loss,
    target_taps,
)


def _target():
    cfg = DecoderConfig(arch="qwen3", vocab_size=80, hidden_size=64, intermediate_size=96, num_layers=4, num_heads=4,
                        num_kv_heads=2, head_dim=16, qk_norm=True, tie_word_embeddings=True, rope_theta=1e6)
    torch.manual_seed(0)
    return Decoder(cfg).eval()


def test_batched_training_forward_equals_inference_forward():
    t = _target()
    taps = default_taps(4)
    assert taps == [0, 2, 3]
    d = draft_for(t, block_size=6, layers=2, taps=taps, mask_token_id=1)
    assert torch.equal(d.layers[1].mlp.up_proj.weight, t.layers[3].mlp.up_proj.weight)  # initialised from the target
    ids = torch.randint(3, 80, (2, 40))
    tp = target_taps(t, ids, taps)
    for p in (1, 17, 34):
        assert check_against_inference(d, t, ids, tp, p) < 1e-4
    both = batched_forward(d, t, ids, tp, torch.tensor([[3, 20], [5, 30]]))
    assert both.shape == (2, 2, 6, 80)


def test_training_steps_reduce_loss():
    t = _target()
    d = draft_for(t, block_size=4, layers=1, taps=[1, 3], mask_token_id=1)
    rng = np.random.default_rng(0)
    ids = torch.randint(3, 80, (4, 32))
    opt = torch.optim.AdamW(d.parameters(), lr=3e-3)
    first = None
    for _ in range(30):
        loss, _ = step_loss(d, t, ids, [1, 3], 6, 4.0, rng)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.8 * first


def test_small_draft_distillation_reduces_kl():
    from training.train_small_draft import build_hf, draft_config, kl_step

    t = _target()
    tcfg = {"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "vocab_size": 80, "hidden_size": 64,
            "intermediate_size": 96, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
            "head_dim": 16, "rope_theta": 1e6, "max_position_embeddings": 128}
    cfg = draft_config(tcfg, layers=1, hidden=32, heads=2, kv_heads=1, head_dim=16, ffn=48)
    assert cfg["vocab_size"] == 80 and cfg["num_hidden_layers"] == 1 and cfg["tie_word_embeddings"]
    d = build_hf(cfg)
    opt = torch.optim.AdamW(d.parameters(), lr=1e-2)
    ids = torch.randint(3, 80, (4, 24))
    first = kl_step(d, t, ids).item()
    for _ in range(40):
        loss = kl_step(d, t, ids)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.7 * first
