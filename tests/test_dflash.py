"""The DFlash draft against an independent implementation of the published architecture (built here from
transformers' own Qwen3 pieces, following z-lab's reference structure), on a z-lab-format checkpoint that
the test writes; and the checkpoint loader's errors."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file
from transformers import Qwen3Config
from transformers.models.qwen3.modeling_qwen3 import Qwen3MLP, Qwen3RMSNorm, rotate_half

from models.dflash import DFlashDraft

H, INTER, NH, NKV, D, LAYERS, BLOCK, TAPS, NT = 64, 96, 4, 2, 16, 2, 6, [0, 2, 3], 4


def zlab_checkpoint(path, seed=0):
    """config.json + model.safetensors in the z-lab DFlash format, random weights."""
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g) * 0.2  # noqa: E731
    w = {"fc.weight": r(H, len(TAPS) * H), "hidden_norm.weight": 1 + r(H), "norm.weight": 1 + r(H)}
    for i in range(LAYERS):
        p = f"layers.{i}."
        w |= {
            p + "input_layernorm.weight": 1 + r(H),
            p + "post_attention_layernorm.weight": 1 + r(H),
            p + "self_attn.q_proj.weight": r(NH * D, H),
            p + "self_attn.k_proj.weight": r(NKV * D, H),
            p + "self_attn.v_proj.weight": r(NKV * D, H),
            p + "self_attn.o_proj.weight": r(H, NH * D),
            p + "self_attn.q_norm.weight": 1 + r(D),
            p + "self_attn.k_norm.weight": 1 + r(D),
            p + "mlp.gate_proj.weight": r(INTER, H),
            p + "mlp.up_proj.weight": r(INTER, H),
            p + "mlp.down_proj.weight": r(H, INTER),
        }
    cfg = {"architectures": ["DFlashDraftModel"], "model_type": "qwen3", "hidden_size": H, "intermediate_size": INTER,
           "num_hidden_layers": LAYERS, "num_attention_heads": NH, "num_key_value_heads": NKV, "head_dim": D,
           "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "vocab_size": 100, "block_size": BLOCK,
           "num_target_layers": NT, "dflash_config": {"mask_token_id": 1, "target_layer_ids": TAPS}}
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps(cfg))
    save_file({k: v.contiguous() for k, v in w.items()}, str(path / "model.safetensors"))
    return w


class Independent:
    """The published DFlash draft written directly: fc -> hidden_norm on the concatenated target layers;
    per layer K/V from [context ; block] with the same k/v projections, k_norm on both, RoPE with positions
    (cache length .. block end), q from the block only, no causal mask; a context-only K/V cache."""

    def __init__(self, w):
        cfg = Qwen3Config(hidden_size=H, intermediate_size=INTER, rms_norm_eps=1e-6, hidden_act="silu")
        self.w = w
        self.norms = {k: self._norm(v) for k, v in w.items() if k.endswith("norm.weight")}
        self.mlps = []
        for i in range(LAYERS):
            m = Qwen3MLP(cfg)
            m.load_state_dict(
                {n: w[f"layers.{i}.mlp.{n}"] for n in ("gate_proj.weight", "up_proj.weight", "down_proj.weight")}
            )
            self.mlps.append(m)
        self.ck = [None] * LAYERS
        self.cv = [None] * LAYERS
        self.inv = 1.0 / (1e6 ** (torch.arange(0, D, 2).float() / D))

    @staticmethod
    def _norm(weight):
        n = Qwen3RMSNorm(weight.shape[0], eps=1e-6)
        n.weight.data = weight.clone()
        return n

    def rope(self, x, pos):  # x [1, heads, T, D]
        f = pos.float()[:, None] * self.inv
        e = torch.cat([f, f], -1)
        return x * e.cos() + rotate_half(x) * e.sin()

    @torch.no_grad()
    def __call__(self, block_emb, ctx_taps):
        w, n = self.w, self.norms
        start = 0 if self.ck[0] is None else self.ck[0].shape[2]
        C, T = ctx_taps.shape[1], block_emb.shape[1]
        ctx = n["hidden_norm.weight"](ctx_taps @ w["fc.weight"].T)
        pos = torch.arange(start, start + C + T)
        x = block_emb
        for i in range(LAYERS):
            p = f"layers.{i}."
            a = n[p + "input_layernorm.weight"](x)
            q = (a @ w[p + "self_attn.q_proj.weight"].T).view(1, T, NH, D)
            q = n[p + "self_attn.q_norm.weight"](q).transpose(1, 2)
            k = torch.cat([ctx, a], 1) @ w[p + "self_attn.k_proj.weight"].T
            v = torch.cat([ctx, a], 1) @ w[p + "self_attn.v_proj.weight"].T
            k = n[p + "self_attn.k_norm.weight"](k.view(1, C + T, NKV, D)).transpose(1, 2)
            v = v.view(1, C + T, NKV, D).transpose(1, 2)
            q, k = self.rope(q, pos[-T:]), self.rope(k, pos)
            if self.ck[i] is not None:
                k, v = torch.cat([self.ck[i], k], 2), torch.cat([self.cv[i], v], 2)
            self.ck[i], self.cv[i] = k[:, :, : k.shape[2] - T], v[:, :, : v.shape[2] - T]  # crop: context only
            kk, vv = k.repeat_interleave(NH // NKV, 1), v.repeat_interleave(NH // NKV, 1)
            att = torch.softmax(q @ kk.transpose(2, 3) * D ** -0.5, -1) @ vv
            x = x + att.transpose(1, 2).reshape(1, T, NH * D) @ w[p + "self_attn.o_proj.weight"].T
            x = x + self.mlps[i](n[p + "post_attention_layernorm.weight"](x))
        return n["norm.weight"](x)


def test_dflash_matches_independent_implementation(tmp_path):
    w = zlab_checkpoint(tmp_path / "draft")
    ours = DFlashDraft.from_pretrained(tmp_path / "draft").eval()
    assert ours.config.target_layer_ids == TAPS and ours.config.block_size == BLOCK and ours.config.mask_token_id == 1
    ref = Independent(w)
    cache = ours.new_cache(64)
    g = torch.Generator().manual_seed(5)
    for step, C in enumerate([11, 3, 1, 5]):  # prefill context, then a few verified runs of different lengths
        emb = torch.randn(1, BLOCK, H, generator=g)
        ctx = torch.randn(1, C, len(TAPS) * H, generator=g)
        with torch.no_grad():
            a = ours(emb, ctx, cache)
        b = ref(emb, ctx)
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5, msg=f"step {step}")
        assert int(cache.lengths[0]) == ref.ck[0].shape[2]


def test_dflash_checkpoint_errors(tmp_path):
    w = zlab_checkpoint(tmp_path / "ok")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text((tmp_path / "ok" / "config.json").read_text())
    w2 = dict(w)
    w2.pop("fc.weight")
    w2["layers.0.self_attn.q_proj.weight"] = torch.zeros(3, 3)
    w2["extra.weight"] = torch.zeros(1)
    save_file(w2, str(bad / "model.safetensors"))
    with pytest.raises(ValueError) as e:
        DFlashDraft.from_pretrained(bad)
    msg = str(e.value)
    assert "fc.weight" in msg and "extra.weight" in msg and "q_proj" in msg
    with pytest.raises(FileNotFoundError):
        DFlashDraft.from_pretrained(tmp_path / "nowhere")
    ours = DFlashDraft.from_pretrained(tmp_path / "ok")
    ours.save_pretrained(tmp_path / "again")
    assert json.loads((tmp_path / "again" / "config.json").read_text())["dflash_config"]["target_layer_ids"] == TAPS
