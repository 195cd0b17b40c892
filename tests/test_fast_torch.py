"""The torch backend's fast path (models/fast_torch.py) against the reference: logits to fp32 rounding, the same
greedy tokens, the same draft proposals, and lossless speculation (on the shipped trained coder and its DFlash
draft, and on a random Llama-3 target, which exercises no QK-norm and llama3 RoPE scaling)."""

from __future__ import annotations

import pytest
import torch

from models.dflash import DFlashDraft
from models.fast_torch import FastDFlashRunner, FastTorchTarget
from models.sampling import SamplingParams
from models.speculative import DFlashRunner, plain_generate, speculative_generate
from models.targets import TorchTarget, random_decoder
from reference import registry
from reference.decoder import greedy_generate
from reference.hf import load_pretrained

PROMPT = list(range(100, 180))


@pytest.fixture(scope="module")
def coder():
    m, _ = load_pretrained(registry.checkpoint("tiny-qwen3-coder"), dtype="fp32")
    d = DFlashDraft.from_pretrained(registry.checkpoint("tiny-qwen3-coder-dflash-b16")).eval()
    return m, d


@pytest.mark.parametrize("arch", ["qwen3", "llama"])
def test_fast_target_logits_and_taps_match_the_reference(arch):
    m = random_decoder(f"tiny-{arch}", seed=3)
    fast, ref = FastTorchTarget(m), TorchTarget(m)
    fc, rc = fast.new_cache(128), ref.new_cache(128)
    a, ta = fast.forward(PROMPT, fc, taps=(0, 2))
    b, tb = ref.forward(PROMPT, rc, taps=(0, 2))
    assert a.shape == (1, m.config.vocab_size)  # a prompt: the last row only
    assert (a[-1] - b[-1]).abs().max() < 1e-4
    for x, y in zip(ta[0].layers, tb[0].layers):
        assert (x - y).abs().max() < 1e-4
    for ids in ([7], [9, 10, 11, 12, 13]):  # a decode token, a verification block
        a, _ = fast.forward(ids, fc)
        b, _ = ref.forward(ids, rc)
        assert a.shape == b.shape and (a - b).abs().max() < 1e-4
    assert fc.lengths.tolist() == rc.lengths.tolist() == [len(PROMPT) + 6]


def test_fast_greedy_and_speculation_equal_the_reference(coder):
    m, d = coder
    fast, ref = FastTorchTarget(m, stop_tokens=[0]), TorchTarget(m, stop_tokens=[0])
    want = greedy_generate(m, torch.tensor([PROMPT]), 40)[0, len(PROMPT):].tolist()
    assert plain_generate(fast, PROMPT, 40).tokens == want
    for block in (16, 8, 4):
        g = speculative_generate(fast, FastDFlashRunner(d, fast, block), PROMPT, 40)
        r = speculative_generate(ref, DFlashRunner(d, ref, block), PROMPT, 40)
        assert g.tokens == want and r.tokens == want
        assert g.histogram == r.histogram  # the same proposals accepted at every step
    s = speculative_generate(fast, FastDFlashRunner(d, fast), PROMPT, 40, SamplingParams(0.8, top_k=20), seed=3)
    assert len(s.tokens) == 40
