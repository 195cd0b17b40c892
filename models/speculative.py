"""Speculative decoding: one loop for every draft kind and every backend.

A draft proposes k tokens; the target scores the last verified token plus the k proposals in ONE forward
over its KV cache; rejection sampling (:func:`models.sampling.verify`) accepts a prefix and produces one
more token (the correction or the bonus); the target cache is cropped to the verified length.  At
temperature 0 the output equals plain greedy decoding of the target token for token; at T > 0 the emitted
tokens follow the target's (temperature / top-k / top-p processed) distribution.

The loop is written against the protocols of :mod:`models.protocols` only (:class:`~models.protocols.Target`:
:class:`models.targets.TorchTarget`, :class:`models.kernel_model.KernelTarget`, ALSpec's kernel target), so it
is the same on the ``torch``, ``sim`` and ``device`` backends.  Drafts (:class:`~models.protocols.Draft`):
:class:`AutoregressiveDraft` (a layer-skip self-draft built by :func:`layer_skip`, or a separate small model
with the same tokenizer) and :class:`DFlashRunner` (block draft, :mod:`models.dflash`).
"""

from __future__ import annotations

import copy
import dataclasses
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from reference.decoder import Decoder, DecoderConfig, KVCache
from ttl_kernels.host import to_torch

from .dflash import MAX_BLOCK, DFlashConfig, DFlashDraft
from .protocols import Draft, TapSegment, Target
from .sampling import SamplingParams, greedy_verify, host_logits, last_argmax, probs, sample, verify

GREEDY = SamplingParams()

# ------------------------------------------------------------------------------------------------- drafts


def layer_skip(target: Decoder, n_layers: int) -> Decoder:
    """The target's first ``n_layers`` layers + its final norm + its LM head, sharing the target's weights
    (no copies): tt_transformers' ``draft_layers`` self-draft."""
    if not 1 <= n_layers < target.config.num_layers:
        raise ValueError(
            f"n_layers: expected 1..{target.config.num_layers - 1} (fewer than the target's layers); got {n_layers}"
        )
    body = copy.copy(target.model)
    body._modules = dict(target.model._modules)
    body._modules["layers"] = nn.ModuleList(list(target.model.layers)[:n_layers])
    draft = copy.copy(target)
    draft._modules = dict(target._modules)
    draft._modules["model"] = body
    draft.config = dataclasses.replace(target.config, num_layers=n_layers)
    return draft


def check_vocab(draft_vocab: int, target_vocab: int, draft_tokenizer=None, target_tokenizer=None) -> None:
    if draft_vocab != target_vocab:
        raise ValueError(
            f"draft vocab_size {draft_vocab} does not match the target's {target_vocab}: they must share a tokenizer"
        )
    if (
        draft_tokenizer is not None
        and target_tokenizer is not None
        and draft_tokenizer.get_vocab() != target_tokenizer.get_vocab()
    ):
        raise ValueError(
            "draft tokenizer differs from the target's (different vocabularies): speculation needs one tokenizer"
        )


def check_draft_fits(draft_config: DFlashConfig, target_config: DecoderConfig, block_size: int | None = None) -> int:
    """Check from the configs alone that a DFlash draft fits a target (no weights needed: e.g. z-lab's
    Qwen3-Coder-30B-A3B draft against the published 48-layer target config); returns the block size
    (``block_size``, default the draft's).  :class:`DFlashRunner` runs the same checks.

    ``ValueError`` for a block size outside 2..MAX_BLOCK, a hidden size other than the target's, taps
    (``target_layer_ids``) outside the target's layers, a mask token outside the target's vocabulary, or a
    draft vocab_size other than the target's.  Dense and mixture-of-experts targets alike: the draft reads
    residual-stream taps, which a Qwen3-MoE layer has exactly as a dense one."""
    c, tc = draft_config, target_config
    b = block_size or c.block_size
    if not 2 <= b <= MAX_BLOCK:
        raise ValueError(f"block_size: expected 2..{MAX_BLOCK}; got {b}")
    if c.hidden_size != tc.hidden_size:
        raise ValueError(f"draft hidden_size {c.hidden_size} does not match the target's {tc.hidden_size}")
    bad = [i for i in c.target_layer_ids if not 0 <= i < tc.num_layers]
    if bad:
        raise ValueError(
            f"dflash_config.target_layer_ids {bad} are outside the target's layers 0..{tc.num_layers - 1}"
        )
    if not 0 <= c.mask_token_id < tc.vocab_size:
        raise ValueError(
            f"dflash_config.mask_token_id {c.mask_token_id} is not a token of the target (vocab {tc.vocab_size})"
        )
    if c.vocab_size and c.vocab_size != tc.vocab_size:
        raise ValueError(f"draft vocab_size {c.vocab_size} does not match the target's {tc.vocab_size}")
    return b


class AutoregressiveDraft:
    """A draft that proposes k tokens one at a time with its own KV cache (layer-skip or a small model)."""

    taps: tuple[int, ...] = ()

    def __init__(self, model: Decoder, k: int, name: str, target_vocab: int | None = None):
        if not 1 <= k <= MAX_BLOCK:
            raise ValueError(f"k: expected 1..{MAX_BLOCK} draft tokens per step; got {k}")
        if target_vocab is not None:
            check_vocab(model.config.vocab_size, target_vocab)
        self.model, self.k, self.name = model, k, name

    def start(self, prompt: list[int], prefill_taps, max_len: int) -> None:
        self.cache = KVCache.empty(self.model.config, 1, max_len, self.model.dtype)

    def propose(self, tokens: list[int], params: SamplingParams, gen) -> tuple[list[int], torch.Tensor | None]:
        fed = int(self.cache.lengths[0])
        logits = self.model(torch.tensor([tokens[fed:]]), self.cache, last_only=True).logits[0, -1]
        out, qs = [], []
        for i in range(self.k):
            q = probs(logits[None], params)[0]
            x = sample(q, gen)
            out.append(x)
            qs.append(q)
            if i + 1 < self.k:
                logits = self.model(torch.tensor([[x]]), self.cache).logits[0, -1]
        return out, (None if params.greedy else torch.stack(qs))

    def accepted(self, n_tokens: int, n_accepted: int, verify_taps) -> None:
        # the cache holds the verified tokens and proposals 1..k-1; keep what was accepted
        self.cache.crop(n_tokens + min(n_accepted, self.k - 1))


def concat_taps(segments: list[TapSegment]) -> torch.Tensor:
    """Host taps as the draft module takes them: ``[rows, n_taps * H]`` over all segments (device taps of a
    kernel target are read back: a host draft next to a device target pays that transfer)."""
    def host(t):
        return t if isinstance(t, torch.Tensor) else to_torch(t)

    return torch.cat([torch.cat([host(t) for t in seg.layers], -1) for seg in segments], 0)


class DFlashRunner:
    """Drives a :class:`~models.dflash.DFlashDraft` against a target: one draft forward per step."""

    def __init__(self, draft: DFlashDraft, target, block_size: int | None = None, name: str = "dflash"):
        b = check_draft_fits(draft.config, target.config, block_size)
        self.draft, self.target, self.k, self.name = draft, target, b - 1, name
        self.taps = tuple(draft.config.target_layer_ids)

    def start(self, prompt: list[int], prefill_taps: list[TapSegment], max_len: int) -> None:
        self.cache = self.draft.new_cache(max_len)
        self.pending = concat_taps(prefill_taps)  # target layer outputs of verified tokens the draft has not seen yet

    def propose(self, tokens: list[int], params: SamplingParams, gen) -> tuple[list[int], torch.Tensor | None]:
        block = torch.tensor([tokens[-1]] + [self.draft.config.mask_token_id] * self.k)
        h = self.draft(self.target.embed(block)[None], self.pending[None], self.cache)
        return self.choose(self.target.lm_head(h[0, 1:]), params, gen)

    @staticmethod
    def choose(logits: torch.Tensor, params: SamplingParams, gen) -> tuple[list[int], torch.Tensor | None]:
        """Proposals from the block rows' logits: the argmaxes (greedy: q is one-hot, returned as None) or draws."""
        if params.greedy:
            return logits.argmax(-1).tolist(), None
        q = probs(logits, params)
        return [sample(qi, gen) for qi in q], q

    def accepted(self, n_tokens: int, n_accepted: int, verify_taps: list[TapSegment]) -> None:
        self.pending = concat_taps(verify_taps)[: n_accepted + 1]  # the anchor and the accepted proposals


# ----------------------------------------------------------------------------------------------- the loop


@dataclass
class Generation:
    tokens: list[int]  # generated tokens only (not the prompt)
    seconds: float
    verify_steps: int = 0
    proposed: int = 0
    accepted: int = 0
    histogram: list[int] = field(default_factory=list)  # histogram[n] = steps that accepted n proposals
    accepted_at: list[int] = field(default_factory=list)  # accepted_at[i] = steps whose proposal i was accepted
    emitted: int = 0  # tokens the verify steps produced that were kept (the prefill's first token excluded)

    @property
    def tau(self) -> float:
        """Mean tokens kept per target verify step, bonus included (vLLM's acceptance length): tokens a last
        step produced past ``max_new_tokens`` or after a stop token do not count."""
        return self.emitted / self.verify_steps if self.verify_steps else 1.0

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.proposed if self.proposed else 0.0

    def per_position(self) -> list[float]:
        return [a / self.verify_steps for a in self.accepted_at] if self.verify_steps else []


def next_token(logits, params: SamplingParams, gen) -> int:
    """The token after the last row of ``logits`` (argmax at temperature 0, else a draw)."""
    if params.greedy:
        return last_argmax(logits)
    return sample(probs(host_logits(logits)[-1:], params)[0], gen)


def _check_request(prompt: list[int], max_new_tokens: int) -> None:
    if not prompt:
        raise ValueError("prompt: expected at least one token")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens: expected an int >= 1; got {max_new_tokens!r}")


def _finish(tokens: list[int], n_prompt: int, max_new_tokens: int, stop: set[int]) -> list[int]:
    new = tokens[n_prompt:][:max_new_tokens]
    for i, t in enumerate(new):
        if t in stop:
            return new[: i + 1]
    return new


@torch.inference_mode()
def speculative_generate(target: Target, draft: Draft, prompt: list[int], max_new_tokens: int,
                         params: SamplingParams = GREEDY, stop_tokens=(), seed: int = 0) -> Generation:
    """Generate with ``draft`` proposing and ``target`` verifying (see the module docstring)."""
    _check_request(prompt, max_new_tokens)
    gen = torch.Generator().manual_seed(seed)
    stop = set(int(t) for t in stop_tokens)
    k = draft.k
    t0 = time.perf_counter()
    cache = target.new_cache(len(prompt) + max_new_tokens + k + 2)
    logits, taps = target.forward(list(prompt), cache, draft.taps)
    tokens = list(prompt) + [next_token(logits, params, gen)]
    draft.start(list(prompt), taps, cache.max_seq_len)
    g = Generation([], 0.0, histogram=[0] * (k + 1), accepted_at=[0] * k)
    while len(tokens) - len(prompt) < max_new_tokens and tokens[-1] not in stop:
        proposal, q = draft.propose(tokens, params, gen)
        logits, vtaps = target.forward([tokens[-1]] + proposal, cache, draft.taps)
        if params.greedy:
            n, nxt = greedy_verify(proposal, logits)
        else:
            n, nxt = verify(proposal, probs(host_logits(logits), params), q, gen)
        cache.crop(len(tokens) + n)  # keep the anchor and the accepted proposals
        draft.accepted(len(tokens), n, vtaps)
        tokens += proposal[:n] + [nxt]
        g.verify_steps += 1
        g.proposed += k
        g.accepted += n
        g.histogram[n] += 1
        for i in range(n):
            g.accepted_at[i] += 1
    g.tokens = _finish(tokens, len(prompt), max_new_tokens, stop)
    g.emitted = max(len(g.tokens) - 1, 0)  # the first generated token came from the prefill, not a verify step
    g.seconds = time.perf_counter() - t0
    return g


@torch.inference_mode()
def plain_generate(target: Target, prompt: list[int], max_new_tokens: int, params: SamplingParams = GREEDY,
                   stop_tokens=(), seed: int = 0) -> Generation:
    """Plain decoding of the target, one token per forward (the baseline speculation must equal)."""
    _check_request(prompt, max_new_tokens)
    gen = torch.Generator().manual_seed(seed)
    stop = set(int(t) for t in stop_tokens)
    t0 = time.perf_counter()
    cache = target.new_cache(len(prompt) + max_new_tokens + 1)
    logits, _ = target.forward(list(prompt), cache)
    tokens = list(prompt) + [next_token(logits, params, gen)]
    while len(tokens) - len(prompt) < max_new_tokens and tokens[-1] not in stop:
        logits, _ = target.forward([tokens[-1]], cache)
        tokens.append(next_token(logits, params, gen))
    return Generation(_finish(tokens, len(prompt), max_new_tokens, stop), time.perf_counter() - t0)


@torch.inference_mode()
def ready_draft(draft, prompt: list[int], taps, max_seq_len: int) -> None:
    """Start ``draft`` after a prefill of ``prompt`` (its ``taps``) and feed it the prompt's context once, so that
    :func:`steady_draft_step` can repeat a steady-state step."""
    draft.start(list(prompt), taps, max_seq_len)
    draft.propose(list(prompt), GREEDY, None)


def steady_draft_step(draft, prompt: list[int], base: int, taps) -> list[int]:
    """One steady-state draft step, repeatable: one accepted context row (at ``base``) goes in again, then the
    proposal (for timing step costs: :func:`choose_block_size`, ``bench/step_profile.py``)."""
    draft.accepted(base, 0, taps)
    return draft.propose(list(prompt), GREEDY, None)[0]


def choose_block_size(target: Target, make_draft, max_block: int, prompt: list[int], new_tokens: int = 48,
                      candidates=(2, 4, 6, 8, 10, 12, 16, 24, 32), reps: int = 5) -> dict:
    """``--block-size auto``: the DFlash block size that maximises modelled tokens per second of this run.

    On a warm-up prompt (not one of the measured ones) the draft runs once at ``max_block`` to measure its
    acceptance: ``reach[i]`` = the fraction of steps whose first ``i`` proposals were all accepted (the draft
    proposes every block position from the same context, so a smaller block's reach is a prefix of this one).
    Then each candidate block b is timed (draft proposal + verification of b tokens, median of ``reps``), and
    tokens per step ``E_b = 1 + sum_{i < b} reach[i]`` over the seconds per step gives the modelled speed.
    Returns the chosen block and every candidate's figures (the run's JSON records them)."""
    g = speculative_generate(target, make_draft(max_block), prompt, new_tokens)
    steps = max(g.verify_steps, 1)
    reach = [a / steps for a in g.accepted_at]
    cache = target.new_cache(len(prompt) + new_tokens + 2 * max_block + 4)
    _, taps = target.forward(list(prompt), cache, make_draft(2).taps)
    base = int(cache.lengths[0])
    rows = []
    for b in sorted({c for c in candidates if 2 <= c <= max_block} | {max_block}):
        draft = make_draft(b)
        ready_draft(draft, prompt, taps, cache.max_seq_len)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            proposal = steady_draft_step(draft, prompt, base, taps)
            target.forward([prompt[-1]] + proposal, cache, draft.taps)
            times.append(time.perf_counter() - t0)
            cache.crop(base)
        sec = sorted(times)[len(times) // 2]
        expected = 1.0 + sum(reach[: b - 1])
        rows.append({"block": b, "seconds_per_step": sec, "tokens_per_step": expected, "tokens_per_s": expected / sec})
    best = max(rows, key=lambda r: r["tokens_per_s"])
    return {"block": best["block"], "reach": reach, "candidates": rows}


def auto_block_size(target: Target, draft, tokenizer, make_runner, name: str, prompt_tokens: int = 128) -> dict:
    """``--block-size auto`` for a DFlash ``draft``: :func:`choose_block_size` up to the draft's trained block, on a
    validation-split warm-up prompt (never one of the held-out prompts a run measures); ``make_runner(draft, target,
    block, name)`` builds the runner of a candidate block."""
    from .corpus import heldout_prompts

    warmup = tokenizer.encode(heldout_prompts(tokenizer, 1, prompt_tokens, split="val")[0])
    return choose_block_size(target, lambda b: make_runner(draft, target, b, name), draft.config.block_size, warmup)
