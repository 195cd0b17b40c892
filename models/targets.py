"""Targets for the speculative loop (:class:`models.protocols.Target`), and how the entry points get one.

:class:`TorchTarget` wraps the reference model; :func:`make_target` builds the target of a backend (the
reference model on ``torch``, the TT-Lang kernel model on ``sim`` / ``device``) from the same weights;
:func:`load_target` loads a checkpoint directory (or, when the default checkpoint is missing, a
deterministic random stand-in of the same registered shape and a byte tokenizer).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from reference import FP32, registry
from reference.decoder import Decoder, KVCache

from .protocols import ReferenceHead, TapSegment

__all__ = ["BACKENDS", "ByteTokenizer", "TorchTarget", "load_target", "make_target", "random_decoder"]

BACKENDS = ("torch", "sim", "device")


class TorchTarget(ReferenceHead):
    """The reference model (plain torch) behind the target protocol."""

    backend = "torch"

    def __init__(self, model: Decoder, *, name: str = "reference", stop_tokens: Sequence[int] = (),
                 mask_token_id: int | None = None):
        self.model = model
        self.config = model.config
        self._set_info(name, stop_tokens, mask_token_id)

    def new_cache(self, max_len: int) -> KVCache:
        return KVCache.empty(self.config, 1, max_len, self.model.dtype)

    def forward(self, ids: Sequence[int], cache: KVCache, taps=()) -> tuple[torch.Tensor, list[TapSegment] | None]:
        out = self.model(torch.tensor([list(ids)]), cache, taps)
        return out.logits[0], ([TapSegment([t[0] for t in out.hidden_taps], len(ids))] if taps else None)


class ByteTokenizer:
    """Fallback when no trained checkpoint exists: bytes 0..255 -> ids 3..258 (0 eot, 1 mask, 2 pad)."""

    eos_token_id = 0

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return [b + 3 for b in text.encode()]

    def decode(self, ids) -> str:
        return bytes(i - 3 for i in ids if 3 <= i < 259).decode(errors="replace")

    def convert_tokens_to_ids(self, tok: str) -> int:
        return {"<|endoftext|>": 0, "<|MASK|>": 1, "<|pad|>": 2}[tok]


def random_decoder(shape: str = "tiny-qwen3", seed: int = 0, std: float = 0.05) -> Decoder:
    """A deterministic random decoder of a registered shape (:mod:`reference.registry`; by default the
    shipped tiny Qwen3 coder's config): the stand-in when no trained checkpoint exists."""
    torch.manual_seed(seed)
    m = Decoder(registry.config(shape)).eval()
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() > 1:
                p.normal_(0, std)
    return m


def make_target(model: Decoder, backend: str, *, name: str = "target", stop_tokens: Sequence[int] = (),
                mask_token_id: int | None = None, max_seq_len: int | None = None, weights_dtype: str = "bf16"):
    """The target of a backend: the reference model itself (``torch``) or the TT-Lang kernel model built from
    the same weights (``sim`` / ``device``; ``max_seq_len`` positions, default the config's
    ``max_position_embeddings``; projections and LM head in ``weights_dtype``, activations in fp32 with fp32
    weights and in bf16 otherwise; greedy token selection on the device)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {BACKENDS}; got {backend!r}")
    info = dict(name=name, stop_tokens=stop_tokens, mask_token_id=mask_token_id)
    if backend == "torch":  # the fast path on the reference weights (models/fast_torch.py)
        from .fast_torch import FastTorchTarget

        return FastTorchTarget(model, **info)
    from ttl_kernels import runtime

    runtime.use_backend(backend)
    from .kernel_model import KernelTarget

    dtype = "fp32" if weights_dtype == "fp32" else "bf16"
    return KernelTarget(model, max_seq_len=max_seq_len, dtype=dtype, weights_dtype=weights_dtype,
                        select_on_device=True, **info)


def _mask_id(tokenizer) -> int | None:
    try:
        return int(tokenizer.convert_tokens_to_ids("<|MASK|>"))
    except (KeyError, TypeError, ValueError):
        return None


def load_target(path: Path | None, default: Path, backend: str = "torch", *, max_seq_len: int | None = None,
                seed: int = 0, weights_dtype: str = "bf16"):
    """(target, tokenizer, notes) for a checkpoint directory ``path`` (None: ``default``, with a random
    stand-in and a note when ``default`` does not exist)."""
    from reference.hf import load_pretrained, load_tokenizer

    notes: list[str] = []
    where = path or default
    if where.exists():
        model, _ = load_pretrained(where, dtype=FP32)
        tokenizer = load_tokenizer(where)
        name = where.name
    elif path is not None:
        raise FileNotFoundError(f"--target: no checkpoint at {str(path)!r}")
    else:
        model, tokenizer, name = random_decoder("tiny-qwen3", seed), ByteTokenizer(), "random tiny qwen3"
        notes.append(f"no trained target at {default}: using a deterministic random tiny Qwen3 and a byte tokenizer; "
                     "generated text and acceptance figures are meaningless until `make train` has run.")
    eos = getattr(tokenizer, "eos_token_id", None)
    target = make_target(model, backend, name=name, stop_tokens=[eos] if eos is not None else [],
                         mask_token_id=_mask_id(tokenizer), max_seq_len=max_seq_len, weights_dtype=weights_dtype)
    return target, tokenizer, notes
