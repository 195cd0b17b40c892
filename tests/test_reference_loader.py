"""The offline HF checkpoint loader (reference/hf.py) and config parsing (DecoderConfig.from_hf).

Checkpoints are tiny random HF models saved with ``save_pretrained`` (single file and sharded, tied and
untied; built by ``make_hf_model`` from test_reference_models.py).  Loaded weights must equal HF's bit
for bit (fp32) or equal HF's weights cast to bf16; every kind of bad checkpoint must fail before any
tensor is read, with an error that lists every problem.  The network is blocked (socket connect and
name resolution raise) while loading, so an accidental download attempt fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import socket

import pytest
import torch
from _hf_parity import built_once
from safetensors.torch import load_file, save_file
from test_reference_models import make_hf_model, save_hf_model

from reference import BF16, FP32
from reference.decoder import DecoderConfig
from reference.hf import CheckpointError, load_pretrained, load_tokenizer, weight_index
from reference.llama import LlamaModel
from reference.qwen3 import Qwen3Model

WORDS = "the quick brown fox jumps over lazy dog a b c".split()


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("network access attempted during an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _build(name: str, d):
    hf = make_hf_model(name)
    save_hf_model(hf, name, d)
    _save_tokenizer(d)
    return d, hf


ckpt = built_once(_build)  # name -> (pristine checkpoint dir with a tokenizer, HF model); copy before modifying


def _save_tokenizer(d) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["[UNK]", "<s>", "</s>"] + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", bos_token="<s>", eos_token="</s>")
    fast.save_pretrained(str(d))


def _copy(src, tmp_path, name="ck"):
    dst = tmp_path / name
    shutil.copytree(src, dst)
    return dst


def _edit_config(d, **changes) -> None:
    p = d / "config.json"
    cfg = json.loads(p.read_text())
    for k, v in changes.items():
        if v is None:
            cfg.pop(k, None)
        else:
            cfg[k] = v
    p.write_text(json.dumps(cfg))


# ----------------------------------------------------------------------------------------------------------
# good checkpoints
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["llama_gqa_llama3_untied", "llama_mha_tied", "qwen3_gqa_tied", "qwen3_mqa_untied"])
def test_reference_loader_weights_equal_hf_single_and_sharded(ckpt, name):
    d, hf = ckpt(name)
    sharded = (d / "model.safetensors.index.json").is_file()
    assert sharded != (d / "model.safetensors").is_file()
    if sharded:
        assert len(set(weight_index(d).values())) > 1
    model, cfg = load_pretrained(d, FP32)
    assert isinstance(model, LlamaModel if cfg.arch == "llama" else Qwen3Model)
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    ours, theirs = model.state_dict(), hf.state_dict()
    assert set(ours) == set(theirs)
    for k, t in theirs.items():
        assert ours[k].dtype == FP32 and torch.equal(ours[k], t), k
    m16, _ = load_pretrained(d, "bf16")
    for k, t in m16.state_dict().items():
        assert t.dtype == BF16 and torch.equal(t, theirs[k].to(BF16)), k
    if cfg.tie_word_embeddings:
        assert model.lm_head.weight is model.model.embed_tokens.weight
        assert "lm_head.weight" not in weight_index(d)  # HF omits it; we re-tie
    else:
        assert model.lm_head.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr()


def test_reference_loader_config_fields_from_hf(ckpt):
    d, hf = ckpt("llama_gqa_llama3_untied")
    cfg = DecoderConfig.from_hf(d)
    assert (cfg.arch, cfg.num_layers, cfg.num_heads, cfg.num_kv_heads, cfg.head_dim) == ("llama", 3, 4, 2, 16)
    assert cfg.rope_theta == 500000.0 and cfg.rope_scaling["rope_type"] == "llama3"
    assert cfg.rope_scaling["original_max_position_embeddings"] == 64 and not cfg.qk_norm
    assert cfg.rms_norm_eps == 1e-5 and cfg.eos_token_ids == [2]
    assert DecoderConfig.from_hf(hf.config) == cfg  # from an HF config object too
    q = DecoderConfig.from_hf(ckpt("qwen3_gqa_tied")[0] / "config.json")
    assert (q.arch, q.qk_norm, q.head_dim, q.tie_word_embeddings, q.rope_theta, q.rope_scaling) == (
        "qwen3", True, 32, True, 1000000.0, None)


def test_reference_loader_config_old_and_new_rope_spelling_agree():
    base = {"architectures": ["LlamaForCausalLM"], "vocab_size": 128, "hidden_size": 64, "intermediate_size": 128,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "max_position_embeddings": 4096}
    llama3 = {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
    new = DecoderConfig.from_hf({**base, "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, **llama3}})
    old = DecoderConfig.from_hf({**base, "rope_theta": 500000.0, "rope_scaling": {"rope_type": "llama3", **llama3}})
    older = DecoderConfig.from_hf({**base, "rope_theta": 500000.0, "rope_scaling": {"type": "llama3", **llama3}})
    assert new == old == older and new.rope_scaling == {"rope_type": "llama3", **llama3}
    # original_max_position_embeddings falls back to max_position_embeddings (as HF)
    fb = {k: v for k, v in llama3.items() if k != "original_max_position_embeddings"}
    assert DecoderConfig.from_hf({**base, "rope_parameters": {"rope_type": "llama3", "rope_theta": 5e5, **fb}}
                                 ).rope_scaling["original_max_position_embeddings"] == 4096
    plain_new = DecoderConfig.from_hf({**base, "rope_parameters": {"rope_type": "default", "rope_theta": 1e6}})
    plain_old = DecoderConfig.from_hf({**base, "rope_theta": 1e6})
    assert plain_new == plain_old and plain_new.rope_scaling is None and plain_new.rope_theta == 1e6
    assert DecoderConfig.from_hf(base).rope_theta == 10000.0  # HF default_theta
    unnamed = {k: v for k, v in base.items() if k != "architectures"}
    assert DecoderConfig.from_hf({**unnamed, "model_type": "qwen3"}).qk_norm
    # HF's own parse of both spellings agrees with ours
    from transformers import LlamaConfig

    hf_old = LlamaConfig(**{k: v for k, v in base.items() if k != "architectures"}, rope_theta=500000.0,
                         rope_scaling={"rope_type": "llama3", **llama3})
    assert DecoderConfig.from_hf(hf_old).rope_scaling == new.rope_scaling


@pytest.mark.parametrize("change, match", [
    ({"rope_parameters": {"rope_type": "yarn", "rope_theta": 1e4, "factor": 4.0}}, "rope type"),
    ({"rope_parameters": {"rope_type": "llama3", "rope_theta": 1e4, "factor": 4.0}}, "low_freq_factor"),
    ({"hidden_act": "gelu"}, "hidden_act"),
    ({"num_key_value_heads": 3}, "num_kv_heads"),
    ({"hidden_size": None}, "hidden_size"),
])
def test_reference_loader_config_rejects_unsupported(change, match):
    base = {"architectures": ["LlamaForCausalLM"], "vocab_size": 128, "hidden_size": 64, "intermediate_size": 128,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}
    d = {**base, **change}
    d = {k: v for k, v in d.items() if v is not None}
    with pytest.raises(ValueError, match=match):
        DecoderConfig.from_hf(d)


def test_reference_loader_config_rejects_qwen3_sliding_window():
    d = {"architectures": ["Qwen3ForCausalLM"], "vocab_size": 128, "hidden_size": 64, "intermediate_size": 128,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
         "use_sliding_window": True, "sliding_window": 4}
    with pytest.raises(ValueError, match="sliding"):
        DecoderConfig.from_hf(d)


# ----------------------------------------------------------------------------------------------------------
# bad checkpoints
# ----------------------------------------------------------------------------------------------------------


def test_reference_loader_lists_every_missing_unexpected_and_misshaped_key(ckpt, tmp_path):
    d = _copy(ckpt("qwen3_mqa_untied")[0], tmp_path)
    sd = load_file(str(d / "model.safetensors"))
    del sd["model.layers.1.self_attn.k_norm.weight"]
    del sd["lm_head.weight"]  # untied: the head is required
    sd["model.layers.0.self_attn.rotary_emb.inv_freq"] = torch.ones(8)  # old-Llama leftover: ignored
    sd["model.layers.7.mlp.gate_proj.weight"] = torch.ones(2, 2)
    sd["model.layers.0.mlp.up_proj.weight"] = sd["model.layers.0.mlp.up_proj.weight"][:-1].clone()
    save_file(sd, str(d / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(CheckpointError) as ei:
        load_pretrained(d, FP32)
    e = ei.value
    assert isinstance(e, ValueError)
    assert e.missing == ["lm_head.weight", "model.layers.1.self_attn.k_norm.weight"]
    assert e.unexpected == ["model.layers.7.mlp.gate_proj.weight"]
    assert len(e.mismatched) == 1 and "model.layers.0.mlp.up_proj.weight" in e.mismatched[0]
    msg = str(e)
    for needle in ("lm_head.weight", "k_norm", "layers.7.mlp.gate_proj", "(191, 96)", "(192, 96)"):
        assert needle in msg, needle


def test_reference_loader_tied_checkpoint_with_explicit_lm_head_is_accepted(ckpt, tmp_path):
    d = _copy(ckpt("llama_mha_tied")[0], tmp_path)
    sd = load_file(str(d / "model.safetensors"))
    sd["lm_head.weight"] = sd["model.embed_tokens.weight"].clone()
    save_file(sd, str(d / "model.safetensors"), metadata={"format": "pt"})
    model, _ = load_pretrained(d, FP32)
    assert model.lm_head.weight is model.model.embed_tokens.weight


def test_reference_loader_sharded_missing_shard_and_wrong_index(ckpt, tmp_path):
    src = ckpt("qwen3_gqa_tied")[0]
    d = _copy(src, tmp_path, "a")
    index = json.loads((d / "model.safetensors.index.json").read_text())
    shards = sorted(set(index["weight_map"].values()))
    (d / shards[1]).unlink()
    (d / shards[-1]).unlink()
    with pytest.raises(FileNotFoundError) as ei:
        load_pretrained(d, FP32)
    assert shards[1] in str(ei.value) and shards[-1] in str(ei.value)

    d = _copy(src, tmp_path, "b")
    key = "model.norm.weight"
    right = index["weight_map"][key]
    wrong = next(s for s in shards if s != right)
    bad = {**index, "weight_map": {**index["weight_map"], key: wrong}}
    (d / "model.safetensors.index.json").write_text(json.dumps(bad))
    with pytest.raises(CheckpointError, match=f"{key}.*{wrong}"):
        load_pretrained(d, FP32)


def test_reference_loader_wrong_architecture_and_missing_files(ckpt, tmp_path):
    src = ckpt("llama_mha_tied")[0]
    d = _copy(src, tmp_path, "gpt2")
    _edit_config(d, architectures=["GPT2LMHeadModel"], model_type="gpt2")
    with pytest.raises(ValueError, match="GPT2LMHeadModel.*LlamaForCausalLM.*Qwen3ForCausalLM"):
        load_pretrained(d, FP32)
    with pytest.raises(ValueError, match="qwen3"):
        load_pretrained(src, FP32, expect_arch="qwen3")
    assert isinstance(load_pretrained(src, FP32, expect_arch="llama")[0], LlamaModel)

    d = _copy(src, tmp_path, "noconfig")
    (d / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_pretrained(d, FP32)

    d = _copy(src, tmp_path, "noweights")
    (d / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        load_pretrained(d, FP32)

    with pytest.raises(FileNotFoundError, match="not a local directory"):
        load_pretrained("meta-llama/Llama-3.2-1B", FP32)  # a hub id: never downloaded
    with pytest.raises(ValueError, match="dtype"):
        load_pretrained(src, torch.float16)


# ----------------------------------------------------------------------------------------------------------
# tokenizer and offline mode
# ----------------------------------------------------------------------------------------------------------


def test_reference_loader_tokenizer_offline(ckpt, tmp_path):
    src = ckpt("llama_mha_tied")[0]
    tok = load_tokenizer(src)
    ids = tok.encode("the quick brown fox", add_special_tokens=False)
    assert ids == [3, 4, 5, 6]
    assert tok.decode(ids) == "the quick brown fox"
    assert tok.encode("zebra", add_special_tokens=False) == [0]  # [UNK]

    d = _copy(src, tmp_path, "jsononly")
    (d / "tokenizer_config.json").unlink()
    assert load_tokenizer(d).encode("lazy dog", add_special_tokens=False) == [9, 10]

    d = _copy(src, tmp_path, "notok")
    for f in ("tokenizer.json", "tokenizer_config.json"):
        (d / f).unlink()
    with pytest.raises(FileNotFoundError, match="tokenizer"):
        load_tokenizer(d)
    load_pretrained(d, FP32)  # weights do not need the tokenizer

    d = _copy(src, tmp_path, "badtok")
    (d / "tokenizer_config.json").unlink()
    (d / "tokenizer.json").write_text("{not json")
    with pytest.raises(ValueError, match="tokenizer"):
        load_tokenizer(d)
    with pytest.raises(FileNotFoundError, match="not a local directory"):
        load_tokenizer("Qwen/Qwen3-0.6B")


def test_reference_loader_leaves_the_environment_alone_and_entry_defaults_go_offline(monkeypatch):
    import importlib

    import reference.hf
    from ttl_kernels import env

    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    before = dict(vars(reference.hf))
    importlib.reload(reference.hf)  # importing the loader writes nothing
    vars(reference.hf).update(before)  # later tests raise and catch the classes they imported (CheckpointError)
    assert "HF_HUB_OFFLINE" not in os.environ and "TRANSFORMERS_OFFLINE" not in os.environ
    env.apply_defaults()  # what every entry point calls first
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"
    with pytest.raises(AssertionError, match="network"):  # the guard itself works
        socket.create_connection(("huggingface.co", 443))
