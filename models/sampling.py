"""Sampling: temperature, top-k, top-p, and the rejection rule that keeps speculation lossless.

``probs(logits, params)`` turns logits into the distribution a token is drawn from.  Temperature 0 is
greedy: the distribution is one-hot on the argmax (ties go to the lowest id, like ``argmax``).  For
T > 0 the logits are divided by T, then top-k and top-p (nucleus) filtering are applied, as vLLM and HF
do.  Speculative decoding compares the *processed* target distribution with the processed draft one, so
what is preserved is exactly the distribution plain sampling with the same parameters draws from.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.0
    top_k: int | None = None
    top_p: float | None = None

    def __post_init__(self) -> None:
        if not (self.temperature >= 0):
            raise ValueError(f"temperature: expected >= 0; got {self.temperature}")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"top_k: expected >= 1 or None; got {self.top_k}")
        if self.top_p is not None and not (0 < self.top_p <= 1):
            raise ValueError(f"top_p: expected in (0, 1] or None; got {self.top_p}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


def probs(logits: torch.Tensor, params: SamplingParams) -> torch.Tensor:
    """Distribution over the vocabulary for each row of ``logits [..., V]`` (float64)."""
    x = logits.double()
    if params.greedy:
        return torch.nn.functional.one_hot(x.argmax(-1), x.shape[-1]).double()
    x = x / params.temperature
    if params.top_k is not None and params.top_k < x.shape[-1]:
        kth = torch.topk(x, params.top_k, dim=-1).values[..., -1:]
        x = x.masked_fill(x < kth, float("-inf"))
    if params.top_p is not None and params.top_p < 1:
        sorted_x, order = torch.sort(x, dim=-1, descending=True)
        p = torch.softmax(sorted_x, -1)
        # drop a token when the tokens before it already cover top_p (the first one is always kept)
        drop_sorted = (p.cumsum(-1) - p) >= params.top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        x = x.masked_fill(drop, float("-inf"))
    return torch.softmax(x, -1)


def sample(p: torch.Tensor, gen: torch.Generator | None) -> int:
    """One token from a distribution ``p [V]`` (the argmax of a one-hot without using the generator)."""
    if p.max() >= 1.0:
        return int(p.argmax())
    return int(torch.multinomial(p.float(), 1, generator=gen))


def verify(
    proposal: list[int], p: torch.Tensor, q: torch.Tensor | None, gen: torch.Generator | None
) -> tuple[int, int]:
    """Standard speculative rejection sampling (Leviathan et al.; Chen et al.).

    proposal: the k draft tokens; p ``[k + 1, V]``: target distributions at the k proposal positions and
    the bonus position; q ``[k, V]``: the draft distributions the proposals were drawn from (None = the
    draft chose deterministically, i.e. one-hot q).  Token i is accepted with probability
    ``min(1, p_i(x_i) / q_i(x_i))``; the first rejection resamples from ``norm(max(p_i - q_i, 0))``; if
    all k are accepted a bonus token is drawn from ``p_k``.  Returns (number accepted, next token).
    With one-hot p (greedy) this is "accept while the proposal equals the target's argmax".
    """
    k = len(proposal)
    for i, x in enumerate(proposal):
        qi = q[i] if q is not None else torch.nn.functional.one_hot(torch.tensor(x), p.shape[-1]).double()
        px, qx = float(p[i, x]), float(qi[x])
        accept = px >= qx or (qx > 0 and float(torch.rand((), generator=gen, dtype=torch.float64)) < px / qx)
        if not accept:
            residual = (p[i] - qi).clamp_min(0)
            s = residual.sum()
            return i, sample(residual / s if s > 0 else p[i], gen)
    return k, sample(p[k], gen)


class Selectable:
    """Logits that stay where the target computed them (the device) and select tokens there: a target may return
    them instead of a host tensor, and the functions below dispatch to their methods."""

    def last_argmax(self) -> int: ...

    def greedy_accept(self, proposal: list[int]) -> tuple[int, int]: ...

    def to_host(self) -> torch.Tensor: ...


def host_logits(logits) -> torch.Tensor:
    """Host logits of a host tensor or of :class:`Selectable` ones (read back: the sampled path, T > 0)."""
    return logits.to_host() if isinstance(logits, Selectable) else logits


def last_argmax(logits) -> int:
    """The greedy token after the last row of ``logits``."""
    return logits.last_argmax() if isinstance(logits, Selectable) else int(logits[-1].argmax())


def greedy_verify(proposal: list[int], logits) -> tuple[int, int]:
    """:func:`verify` at temperature 0, without building distributions: accept while the proposal equals
    the target's argmax (``logits [k + 1, V]``); the next token is the target's argmax after the accepted
    prefix.  Same result as ``verify(proposal, probs(logits, greedy), None, gen)``.  :class:`Selectable` logits
    decide where they are (on the device: only the kept ids come back)."""
    if isinstance(logits, Selectable):
        return logits.greedy_accept(list(proposal))
    target = logits.argmax(-1).tolist()
    n = 0
    while n < len(proposal) and proposal[n] == target[n]:
        n += 1
    return n, target[n]
