"""Tiny random models the model-level tests share (speculative decoding on dense and MoE targets, the kernel
model, the DFlash draft step): seeded random weights, DFlash drafts shaped for a target, random prompts."""

from __future__ import annotations

import random

import torch

from models.dflash import DFlashConfig, DFlashDraft

V = 96  # the speculative tests' vocabulary


def seeded(model_cls, cfg, seed: int, std: float | None = None, *, vectors: bool = True):
    """``model_cls(cfg)`` in eval mode, built after ``torch.manual_seed(seed)``, with random weights drawn in
    parameter order: every parameter N(0, ``std``) (``vectors=False``: the matrices only, the norm weights keep
    their 1); without ``std``, the kernel tests' draw (matrices N(0, 0.15), vectors -- the norm weights --
    1 + N(0, 0.5), so no norm hides behind weight 1)."""
    torch.manual_seed(seed)
    model = model_cls(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            if std is None:
                p.normal_(0, 0.15 if p.dim() > 1 else 0.5).add_(1.0 if p.dim() == 1 else 0.0)
            elif vectors or p.dim() > 1:
                p.normal_(0, std)
    return model


def tiny_dflash(target, block: int = 8, seed: int = 1, taps=(0, 2, 3), layers: int = 2) -> DFlashDraft:
    """A random DFlash draft shaped for ``target`` (:meth:`DFlashConfig.for_target`, mask token 1), every parameter
    N(0, 0.3)."""
    cfg = DFlashConfig.for_target(target.config, block_size=block, target_layer_ids=taps, mask_token_id=1,
                                  num_layers=layers)
    return seeded(DFlashDraft, cfg, seed, 0.3)


def prompts(n: int, seed: int = 0, vocab: int = V) -> list[list[int]]:
    """``n`` random prompts of 1..39 ids in ``[3, vocab)``."""
    rng = random.Random(seed)
    return [[rng.randrange(3, vocab) for _ in range(rng.randrange(1, 40))] for _ in range(n)]


def check_two_users_bf16(model, max_seq_len: int, taps=()) -> None:
    """Two users at different lengths (17 and 40 prompt tokens) decode 3 steps together on the kernels in bf16
    (weights and activations): logits PCC >= 0.99 per user and step against the reference model, whose cache is
    built user by user; every tapped residual has the hidden size."""
    from models.kernel_model import KernelTarget
    from reference.decoder import KVCache
    from ttl_kernels.testing import pcc

    ops = KernelTarget(model, max_seq_len=max_seq_len, dtype="bf16").ops
    ref = KVCache.empty(model.config, 2, max_seq_len)
    for b, p in enumerate([list(range(30, 47)), list(range(50, 90))]):
        one = KVCache.empty(model.config, 1, max_seq_len)
        model(torch.tensor([p]), one)
        for i in range(model.config.num_layers):
            ref.k[i][b], ref.v[i][b] = one.k[i][0], one.v[i][0]
        ref.lengths[b] = len(p)
    cache = ops.new_cache(2)
    ops.load_cache(cache, ref)
    ids = [7, 9]
    for _ in range(3):
        a, tapped = ops.decode(cache, ids, taps=taps)
        b = model(torch.tensor(ids)[:, None], ref).logits[:, 0]
        for u in range(2):
            assert pcc(a[u], b[u]) >= 0.99, (u, pcc(a[u], b[u]))
        assert [t.shape for t in tapped] == [(2, model.config.hidden_size)] * len(taps)
        ids = [int(x) for x in b.argmax(-1)]
    assert cache.lengths.tolist() == [20, 43]
