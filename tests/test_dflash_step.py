"""The DFlash draft step written once over the decode step's ops (models/dflash_step.py) against the draft
module (models/dflash.py): on torch ops to fp32 rounding, on the TT-Lang kernels (simulator) to the kernels'
tolerance, over block sizes 2..16, context lengths across the kernels' chunk boundaries, and partly valid
context rows (the verify step's taps of rejected rows, written past the length and overwritten).

Tolerances: torch ops vs the module, both fp32: |diff| <= 1e-4 (abs) on logits of order 1 (the two differ only
in the order of fp32 operations).  Kernels (fp32 weights and activations, bf16 KV cache and attention as the
attention kernels take): logits PCC >= 0.999 and the same argmax wherever the reference's top-2 margin exceeds
0.05 (the decode step's tolerance, tests/test_kernel_model.py).
"""

from __future__ import annotations

import pytest
import torch
from _tiny_models import seeded
from conftest import examples
from hypothesis import given
from hypothesis import strategies as st

from models.decoder_step import TorchOps
from models.dflash import DFlashConfig, DFlashDraft
from models.dflash_step import draft_step, draft_weights
from models.protocols import TapSegment
from models.targets import random_decoder
from reference.decoder import KVCache
from ttl_kernels.testing import pcc

MASK = 1


def make(block: int, seed: int = 0, layers: int = 2):
    """A random tiny Qwen3 target (the shipped shape) and a random DFlash draft tapping 3 of its layers."""
    target = random_decoder("tiny-qwen3", seed)
    cfg = DFlashConfig.for_target(target.config, block_size=block, target_layer_ids=[0, 2, 3], mask_token_id=MASK,
                                  num_layers=layers)
    draft = seeded(DFlashDraft, cfg, seed + 1, 0.08, vectors=False)
    return target, draft


def module_steps(target, draft, steps):
    """The module: per step (ctx taps [C, 3H] of which the first ``valid`` are fed, block ids) -> logits."""
    cache = draft.new_cache(1024)
    out = []
    for taps, valid, block in steps:
        h = draft(target.embed(torch.tensor(block))[None].float(), taps[:valid][None], cache)
        out.append(target.lm_head(h[0]).float())
    return out


def ops_steps(ops, dw, lm_head, cache, steps, to_ops=lambda t: t, from_ops=lambda t: t):
    """The same steps through draft_step: each step's taps as one segment of three per-layer [C, H] tensors."""
    out, start = [], 0
    for taps, valid, block in steps:
        seg = TapSegment([to_ops(t.contiguous()) for t in taps.split(256, dim=1)], taps.shape[0])
        logits, start = draft_step(ops, dw, lm_head, cache, start, [(seg, valid)], block)
        cache.lengths.fill_(start)
        out.append(from_ops(logits))
    return out


def plan(block: int, first_ctx: int, later: list[int], seed: int):
    """Steps: a prompt-sized context, then verify-sized contexts (``block`` rows, ``valid`` of them real)."""
    g = torch.Generator().manual_seed(seed)
    H3 = 3 * 256
    steps = [(torch.randn(first_ctx, H3, generator=g), first_ctx, [7] + [MASK] * (block - 1))]
    for valid in later:
        steps.append((torch.randn(block, H3, generator=g), valid, [11 + valid] + [MASK] * (block - 1)))
    return steps


@examples(10)
@given(block=st.integers(2, 16), first_ctx=st.integers(1, 150), data=st.data())
def test_draft_step_on_torch_ops_equals_the_draft_module(block, first_ctx, data):
    later = data.draw(st.lists(st.integers(1, block), min_size=1, max_size=3))
    target, draft = make(block)
    steps = plan(block, first_ctx, later, seed=block)
    want = module_steps(target, draft, steps)
    ops = TorchOps.for_parts(draft.config.layer_config(), target.embed, draft.rope)
    cache = KVCache.empty(draft.config.layer_config(), 1, 1024)
    got = ops_steps(ops, draft_weights(draft, ops), TorchOps.mat(target.lm_head.weight), cache, steps)
    for w, g in zip(want, got):
        assert (w - g).abs().max() <= 1e-4, float((w - g).abs().max())


def test_draft_step_rejects_more_valid_rows_than_given():
    target, draft = make(4)
    ops = TorchOps.for_parts(draft.config.layer_config(), target.embed, draft.rope)
    cache = KVCache.empty(draft.config.layer_config(), 1, 64)
    seg = TapSegment([torch.zeros(2, 256)] * 3, 2)
    with pytest.raises(ValueError, match="valid: expected 0..2"):
        draft_step(ops, draft_weights(draft, ops), TorchOps.mat(target.lm_head.weight), cache, 0, [(seg, 3)],
                   [5, MASK, MASK, MASK])


@pytest.mark.parametrize("block, first_ctx, later", [(4, 40, [2, 4]), (16, 120, [1, 16]), (8, 130, [3])])
def test_draft_step_on_the_kernels_matches_the_module(block, first_ctx, later):
    """fp32 weights on the simulator; contexts cross the 128-token chunk (and the 32-row tile) boundaries."""
    from models.kernel_model import KernelOps
    from ttl_kernels import host

    target, draft = make(block)
    steps = plan(block, first_ctx, later, seed=block)
    want = module_steps(target, draft, steps)
    tops = KernelOps(target, 512, "fp32")
    ops = KernelOps.for_draft(draft, tops)
    cache = ops.new_cache(1)
    got = ops_steps(ops, draft_weights(draft, ops), tops.weights()[2], cache, steps,
                    to_ops=lambda t: host.to_device(t, "fp32"), from_ops=host.to_torch)
    for w, g in zip(want, got):
        assert pcc(w, g) >= 0.999
        top2 = w.topk(2, -1).values
        sure = (top2[:, 0] - top2[:, 1]) > 0.05
        assert torch.equal(w.argmax(-1)[sure], g.argmax(-1)[sure])


@pytest.mark.compile
@pytest.mark.parametrize("arch", ["n150", "p150"])
def test_whole_dflash_step_compiles_lint_clean(arch):
    """Every kernel instance of one DFlash step (verify block + draft forward with its context injection) at the
    tiny shapes and at Qwen3-8B with z-lab's Qwen3-8B-DFlash-b16 draft (5 layers, taps [1, 9, 17, 25, 33])."""
    from ttl_kernels.compile import compile_cases

    drafts = ("tiny-qwen3-dflash-b16", "qwen3-8b-dflash-b16")
    results = compile_cases([f"models.dflash_step:compile_dflash_step:draft={d}" for d in drafts], arch)
    for r in results:
        print(r.line()[:300])
    bad = [r.line() for r in results if not r.clean]
    assert len(results) == 2 and not bad, "\n".join(bad)
