"""What the speculative loop needs of a target and of a draft: two ``typing.Protocol`` s, and the one shared
implementation of the host-side token embedding and LM head.

Targets (:class:`Target`): :class:`models.targets.TorchTarget` (the reference model),
:class:`models.kernel_model.KernelTarget` (the TT-Lang kernel model, simulator or device) and
:class:`models.alspec.protocol.ALSpecKernelTarget`.  Drafts (:class:`Draft`):
:class:`models.speculative.AutoregressiveDraft` (layer-skip or a small model) and
:class:`models.speculative.DFlashRunner` (DFlash block draft).  The loop
(:func:`models.speculative.speculative_generate`) is written against these protocols only, so it is the
same on every backend; ``tests/test_protocols.py`` checks every implementation with ``isinstance``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, runtime_checkable

import torch

from reference.config import DecoderConfig
from reference.decoder import Decoder

__all__ = ["Cache", "Draft", "ReferenceHead", "TapSegment", "Target", "TargetInfo"]


class TapSegment(NamedTuple):
    """The residual streams a target step produced for ``rows`` consecutive tokens: ``layers[i]`` is ``[rows, H]``
    after tapped layer i, in the target's own tensor type (torch on the host, TileTensor on the device: a
    kernel draft reads them where they are).  A forward returns one segment per step it ran."""

    layers: list
    rows: int


@runtime_checkable
class Cache(Protocol):
    """A KV cache of one or more users: ``lengths[b]`` positions filled; :meth:`crop` rolls back (in place)."""

    lengths: torch.Tensor

    @property
    def max_seq_len(self) -> int: ...

    def crop(self, new_lengths) -> Cache: ...



class CacheCopies:
    """:class:`Cache` over copies that advance together (``caches``: one per device of a pair or a mesh): lengths
    and capacity are the first copy's, :meth:`crop` crops every copy."""

    caches: Sequence[Cache]

    @property
    def lengths(self) -> torch.Tensor:
        return self.caches[0].lengths

    @property
    def max_seq_len(self) -> int:
        return self.caches[0].max_seq_len

    def crop(self, new_lengths):
        for c in self.caches:
            c.crop(new_lengths)
        return self


@runtime_checkable
class Target(Protocol):
    """The model whose distribution speculation preserves."""

    config: DecoderConfig
    name: str
    backend: str  # "torch", "sim" or "device"
    stop_tokens: tuple[int, ...]  # generation ends after any of these
    mask_token_id: int | None  # the tokenizer's <|MASK|> (DFlash drafts need it), None if it has none

    def new_cache(self, max_len: int) -> Cache:
        """An empty cache for one sequence of up to ``max_len`` tokens."""
        ...

    def forward(
        self, ids: Sequence[int], cache: Cache, taps: Sequence[int] = ()
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Feed ``ids`` after the cached tokens (prefill, a decode step, or a verification block in ONE
        forward); returns logits ``[T, V]`` fp32 and the concatenated residual streams after the ``taps``
        layers ``[T, n_taps * H]`` (None without taps)."""
        ...

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Token embeddings ``[*ids.shape, H]`` (drafts without an embedding of their own use it)."""
        ...

    def lm_head(self, h: torch.Tensor) -> torch.Tensor:
        """Logits ``[..., V]`` fp32 of final hidden states ``[..., H]`` (drafts without a head use it)."""
        ...


@runtime_checkable
class Draft(Protocol):
    """Proposes ``k`` tokens per step; told afterwards how many the target accepted."""

    name: str
    k: int
    taps: tuple[int, ...]  # target layers whose outputs the draft reads (DFlash); () for none

    def start(self, prompt: list[int], prefill_taps: list[TapSegment] | None, max_len: int) -> None: ...

    def propose(self, tokens: list[int], params, gen) -> tuple[list[int], torch.Tensor | None]:
        """``k`` proposals after ``tokens`` and their distributions ``[k, V]`` (None when greedy)."""
        ...

    def accepted(self, n_tokens: int, n_accepted: int, verify_taps: list[TapSegment] | None) -> None: ...


class TargetInfo:
    """The identity every target carries, given at construction (never attached from outside)."""

    def _set_info(self, name: str, stop_tokens: Sequence[int] = (), mask_token_id: int | None = None) -> None:
        self.name = str(name)
        self.stop_tokens = tuple(int(t) for t in stop_tokens)
        self.mask_token_id = None if mask_token_id is None else int(mask_token_id)


class ReferenceHead(TargetInfo):
    """Embedding lookup and LM head of the reference model on the host: the one implementation the targets
    share (``self.model`` is a :class:`reference.decoder.Decoder`)."""

    model: Decoder

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return self.model.embed(ids)

    def lm_head(self, h: torch.Tensor) -> torch.Tensor:
        return self.model.lm_head(h.to(self.model.dtype)).float()
