"""Every target and draft implements the protocols of models/protocols.py, with its identity given at
construction; and the shapes the project uses come from checkpoint configs through one registry."""

from __future__ import annotations

import json

import pytest
import torch

from models.alspec.protocol import ALSpecKernelTarget
from models.dflash import DFlashConfig, DFlashDraft
from models.kernel_model import KernelTarget
from models.protocols import Cache, Draft, Target
from models.speculative import AutoregressiveDraft, DFlashRunner, layer_skip
from models.targets import TorchTarget, random_decoder
from reference import registry
from ttl_kernels.shapes import MODEL_SHAPES


@pytest.fixture(scope="module")
def model():
    return random_decoder("tiny-qwen3", seed=0)


def test_every_target_is_a_target(model):
    info = dict(name="t", stop_tokens=[0], mask_token_id=1)
    targets = [TorchTarget(model, **info), KernelTarget(model, max_seq_len=64, dtype="fp32", **info),
               ALSpecKernelTarget(model, 0.1, 32, "verify", max_seq_len=64, dtype="fp32", name="t", stop_tokens=[0],
                                  mask_token_id=1)]
    for t in targets:
        assert isinstance(t, Target), type(t).__name__
        assert (t.name, t.stop_tokens, t.mask_token_id) == ("t", (0,), 1)
        assert isinstance(t.new_cache(16), Cache)
        assert torch.equal(t.embed(torch.tensor([3, 4])), model.embed(torch.tensor([3, 4])))


def test_every_draft_is_a_draft(model):
    c = model.config
    cfg = DFlashConfig(
        hidden_size=c.hidden_size,
        intermediate_size=c.intermediate_size,
        num_layers=1,
        num_heads=c.num_heads,
        num_kv_heads=c.num_kv_heads,
        head_dim=c.head_dim,
        block_size=4,
        mask_token_id=1,
        target_layer_ids=[0, 2],
        num_target_layers=c.num_layers,
        vocab_size=c.vocab_size,
    )
    target = TorchTarget(model, mask_token_id=1)
    drafts = [AutoregressiveDraft(layer_skip(model, 2), 3, "skip"), DFlashRunner(DFlashDraft(cfg), target)]
    for d in drafts:
        assert isinstance(d, Draft), type(d).__name__
    assert drafts[1].taps == (0, 2) and drafts[1].k == 3


def test_named_shapes_come_from_checkpoint_configs():
    """The tiny shapes are the shipped checkpoints' config.json, the public ones their published configs; the
    kernel registry's flat view agrees field for field."""
    for name, dirname in registry.CHECKPOINTS.items():
        path = registry.checkpoint(dirname) / "config.json"
        assert path.is_file(), f"{path}: a shipped checkpoint is missing"
        d = json.loads(path.read_text())
        m = MODEL_SHAPES[name]
        assert (m["hidden"], m["intermediate"], m["layers"], m["vocab"]) == (
            d["hidden_size"], d["intermediate_size"], d["num_hidden_layers"], d["vocab_size"])
        rope = d.get("rope_parameters") or {}
        assert m["rope_theta"] == float(rope.get("rope_theta", d.get("rope_theta", 0)))
    for name in registry.PUBLISHED:
        c = registry.config(name)
        assert MODEL_SHAPES[name]["n_kv"] == c.num_kv_heads and MODEL_SHAPES[name]["head_dim"] == c.head_dim
    assert random_decoder("tiny-llama").config == registry.config("tiny-llama")
    with pytest.raises(ValueError, match="model: expected one of"):
        registry.config("gpt-2")
