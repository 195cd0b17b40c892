"""ALSpec "verify-only" on the reference model: both attentions per decode step, the speculative one kept on
a hit.  This is how the paper measured quality (one device, no overlap), and the golden semantics the
two-device protocol must reproduce.

Per decode step (one new token per user) and per layer, :class:`ALSpecAttention` (an ``attention_fn`` for
:meth:`reference.decoder.Decoder.forward`) computes

* the exact attention over the user's keys ``0 .. pos`` (:func:`reference.decoder.attend`, the plain path);
* the approximation over the sink chunk ``[0, S)`` and the recent chunk ``[P - S, P)``,
  ``P = round_up(pos + 1, 32)``, keys beyond ``pos`` hidden (:func:`reference.attention.speculative_keys`);
* the verdict per (layer, user) over all query heads together (:func:`reference.attention.speculation_verdict`):
  ``dist^2 = ||O - O_spec||^2``, ``norm^2 = ||O||^2``, hit when ``dist^2 <= lambda^2 * norm^2``;

and returns the speculative output for users that hit and the exact output for the others.  Prefill
(several new tokens) stays exact.  The two attentions go through the same function with the same
arguments except the key mask, so when ``P <= 2S`` (the chunks cover every key) the speculative output is
the exact output bit for bit, and ``lambda = 0`` accepts only such bit-identical outputs: both cases give
plain decoding exactly.

Measurements (:func:`teacher_forced`, :func:`generate`, :func:`sweep`): hit rate per layer and per user,
token agreement of greedy generation with plain decoding, and the perplexity of teacher-forced decoding
(every token after an exact prefill goes through a decode step) with ALSpec vs exact attention.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from reference.attention import round_up, speculation_verdict, speculative_keys
from reference.decoder import Decoder, KVCache, attend, greedy_generate

TILE = 32


def check_lambda(lambda_) -> float:
    if (
        isinstance(lambda_, bool)
        or not isinstance(lambda_, (int, float))
        or not math.isfinite(float(lambda_))
        or lambda_ < 0
    ):
        raise ValueError(f"lambda_: expected a finite number >= 0 (the paper sweeps 0.05 .. 0.25); got {lambda_!r}")
    return float(lambda_)


def check_chunk(chunk) -> int:
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk <= 0 or chunk % TILE:
        raise ValueError(
            f"chunk: expected a positive multiple of 32 (ALSpec's S, the flash-decode chunk size); got {chunk!r}"
        )
    return chunk


@dataclass
class ALSpecStats:
    """Verdicts recorded per (layer, user): counts and the relative distances ``sqrt(dist^2 / norm^2)``."""

    num_layers: int
    hits: dict[tuple[int, int], int] = field(default_factory=dict)
    steps: dict[tuple[int, int], int] = field(default_factory=dict)
    rel: list[list[float]] = field(default_factory=list)

    def __post_init__(self):
        if not self.rel:
            self.rel = [[] for _ in range(self.num_layers)]

    def record(self, layer: int, users: Sequence[int], hit: Sequence[bool], rel: Sequence[float]) -> None:
        for u, h, r in zip(users, hit, rel):
            key = (layer, int(u))
            self.steps[key] = self.steps.get(key, 0) + 1
            self.hits[key] = self.hits.get(key, 0) + int(bool(h))
            self.rel[layer].append(float(r))

    def _rate(self, keys) -> float | None:
        n = sum(self.steps[k] for k in keys)
        return None if n == 0 else sum(self.hits[k] for k in keys) / n

    def layer_hit_rates(self) -> list[float | None]:
        return [self._rate([k for k in self.steps if k[0] == layer]) for layer in range(self.num_layers)]

    def user_hit_rates(self) -> dict[int, float | None]:
        users = sorted({k[1] for k in self.steps})
        return {u: self._rate([k for k in self.steps if k[1] == u]) for u in users}

    def hit_rate(self) -> float | None:
        return self._rate(list(self.steps))

    @property
    def decisions(self) -> int:
        return sum(self.steps.values())

    def merge(self, other: ALSpecStats, user_offset: int = 0) -> None:
        for (layer, u), n in other.steps.items():
            key = (layer, u + user_offset)
            self.steps[key] = self.steps.get(key, 0) + n
            self.hits[key] = self.hits.get(key, 0) + other.hits[(layer, u)]
        for layer in range(self.num_layers):
            self.rel[layer].extend(other.rel[layer])

    def summary(self) -> dict:
        return {"hit_rate": self.hit_rate(), "decisions": self.decisions, "layer_hit_rates": self.layer_hit_rates(),
                "user_hit_rates": {str(k): v for k, v in self.user_hit_rates().items()},
                "layer_rel_median": [float(torch.tensor(r).median()) if r else None for r in self.rel]}


def speculative_mask(key_mask: torch.Tensor, chunk: int) -> tuple[torch.Tensor, list[int]]:
    """Decode key mask ``[B, 1, S]`` -> (the approximation's mask ``[B, 1, S]``, each user's position).

    A user's position is its last visible key; users with no visible key keep an empty mask (pos -1)."""
    B, _, span = key_mask.shape
    out = torch.zeros_like(key_mask)
    positions = []
    for b in range(B):
        idx = key_mask[b, 0].nonzero()
        pos = int(idx.max()) if idx.numel() else -1
        positions.append(pos)
        if pos >= 0:
            out[b, 0] = speculative_keys(pos, chunk, span) & key_mask[b, 0]
    return out, positions


class ALSpecAttention:
    """``attention_fn`` for :meth:`Decoder.forward` implementing verify-only ALSpec (module docstring).

    ``active``: optional bool ``[B]`` set by a caller's loop; verdicts of inactive users (finished
    generations) are still applied but not recorded.  ``last_hit``: the per-layer ``[B]`` verdicts of the
    most recent decode step (for tests and the protocol's cross-checks)."""

    def __init__(self, num_layers: int, lambda_: float, chunk: int = 128):
        self.lambda_ = check_lambda(lambda_)
        self.chunk = check_chunk(chunk)
        self.stats = ALSpecStats(num_layers)
        self.active: torch.Tensor | None = None
        self.last_hit: dict[int, torch.Tensor] = {}
        self.last_dist2: dict[int, torch.Tensor] = {}
        self.last_norm2: dict[int, torch.Tensor] = {}

    def __call__(self, layer_idx: int, q, k, v, key_mask, scaling):
        exact = attend(q, k, v, key_mask, scaling)
        if q.shape[2] != 1:  # prefill (or a multi-token verify): exact
            return exact
        spec_mask, positions = speculative_mask(key_mask, self.chunk)
        spec = attend(q, k, v, spec_mask, scaling)
        B = q.shape[0]
        nq, d = q.shape[1], q.shape[3]
        dist2, norm2, hit = speculation_verdict(exact.reshape(B, nq, d), spec.reshape(B, nq, d), self.lambda_)
        hit = hit.bool() & torch.tensor([p >= 0 for p in positions])
        self.last_hit[layer_idx], self.last_dist2[layer_idx], self.last_norm2[layer_idx] = hit, dist2, norm2
        users = [b for b in range(B) if positions[b] >= 0 and (self.active is None or bool(self.active[b]))]
        rel = (dist2 / norm2.clamp_min(1e-300)).sqrt()
        self.stats.record(layer_idx, users, [bool(hit[b]) for b in users], [float(rel[b]) for b in users])
        return torch.where(hit[:, None, None], spec, exact)


# ------------------------------------------------------------------------------------------------ decoding


@torch.inference_mode()
def generate(
    model: Decoder,
    input_ids: torch.Tensor,
    max_new_tokens: int,
    lambda_: float | None,
    chunk: int = 128,
    eos_token_id: int | Sequence[int] | None = None,
    pad_token_id: int | None = None,
) -> tuple[torch.Tensor, ALSpecStats | None]:
    """Greedy generation; ``lambda_ = None`` is plain decoding (exactly :func:`reference.decoder.greedy_generate`),
    a number runs every decode step through :class:`ALSpecAttention`.  Returns ``([B, T + n], stats)``."""
    hook = None if lambda_ is None else ALSpecAttention(model.config.num_layers, lambda_, chunk)
    out = greedy_generate(model, input_ids, max_new_tokens, eos_token_id, pad_token_id, attention_fn=hook)
    return out, (hook.stats if hook else None)


@torch.inference_mode()
def teacher_forced(model: Decoder, tokens: torch.Tensor, lambda_: float | None, chunk: int = 128,
                   prefill: int = 1) -> tuple[torch.Tensor, ALSpecStats | None]:
    """Negative log-likelihood of ``tokens [B, N]`` (nats, ``[B, N - prefill]``) when the first ``prefill``
    tokens are prefilled and every later token is fed through a decode step (ALSpec with ``lambda_``, or
    exact with ``None``); the prediction of token ``t`` comes from the step that consumed token ``t - 1``."""
    if tokens.dim() != 2 or tokens.shape[1] <= prefill:
        raise ValueError(f"tokens: expected [B, N] with N > prefill={prefill}; got {tuple(tokens.shape)}")
    hook = None if lambda_ is None else ALSpecAttention(model.config.num_layers, lambda_, chunk)
    B, N = tokens.shape
    cache = KVCache.empty(model.config, B, N, model.dtype)
    logits = model(tokens[:, :prefill], cache, last_only=True, attention_fn=hook).logits[:, -1]
    nll = []
    for t in range(prefill, N):
        nll.append(-torch.log_softmax(logits.float(), -1).gather(1, tokens[:, t:t + 1])[:, 0])
        if t + 1 < N:
            logits = model(tokens[:, t:t + 1], cache, attention_fn=hook).logits[:, -1]
    return torch.stack(nll, 1), (hook.stats if hook else None)


# --------------------------------------------------------------------------------------------- measurement


def token_agreement(a: torch.Tensor, b: torch.Tensor, prompt_len: int) -> dict:
    """Generated parts of two ``[B, T + n]`` greedy outputs: fraction of equal positions and, per user, the
    length of the common prefix."""
    n = min(a.shape[1], b.shape[1]) - prompt_len
    ga, gb = a[:, prompt_len:prompt_len + n], b[:, prompt_len:prompt_len + n]
    eq = ga == gb
    prefix = [int(row.long().cumprod(0).sum()) for row in eq]
    return {"agreement": float(eq.float().mean()) if n > 0 else 1.0, "common_prefix": prefix,
            "identical_users": sum(p == n for p in prefix), "users": int(a.shape[0]), "new_tokens": n}




def sweep(model: Decoder, tokens: torch.Tensor, lambdas: Sequence[float], chunks: Sequence[int], *,
          prefill: int = 1, prompt_len: int = 256, new_tokens: int = 64, ppl_batch: int = 8, log=print) -> dict:
    """Hit rates, token agreement and perplexity delta for every (S, lambda) on held-out windows ``tokens``.

    Perplexity: the first ``prefill`` tokens of each window are prefilled (exact, as ALSpec leaves prefill
    alone), every later token goes through a teacher-forced decode step; the NLL is over those tokens.
    Agreement: greedy generation of ``new_tokens`` from the first ``prompt_len`` tokens of each window,
    against plain decoding.  Hit rates are reported for both (``tf_*`` and ``gen_*``)."""
    for lam in lambdas:
        check_lambda(lam)
    for c in chunks:
        check_chunk(c)
    t0 = time.perf_counter()

    def ppl_run(lam, chunk):
        nlls, stats = [], ALSpecStats(model.config.num_layers)
        for i in range(0, tokens.shape[0], ppl_batch):
            nll, st = teacher_forced(model, tokens[i:i + ppl_batch], lam, chunk, prefill=prefill)
            nlls.append(nll)
            if st is not None:
                stats.merge(st, user_offset=i)
        nll = torch.cat(nlls)
        return float(nll.mean()), stats

    base_nll, _ = ppl_run(None, chunks[0])
    prompts = tokens[:, :prompt_len]
    plain, _ = generate(model, prompts, new_tokens, None)
    res = {
        "windows": int(tokens.shape[0]),
        "window_tokens": int(tokens.shape[1]),
        "prefill": prefill,
        "prompt_len": prompt_len,
        "new_tokens": new_tokens,
        "plain_nll": base_nll,
        "plain_ppl": math.exp(base_nll),
        "runs": [],
    }
    log(
        f"plain: ppl {math.exp(base_nll):.4f} over {tokens.shape[0] * (tokens.shape[1] - prefill)} teacher-forced "
        "decode steps"
    )
    for chunk in chunks:
        for lam in lambdas:
            nll, stats = ppl_run(lam, chunk)
            gen, gstats = generate(model, prompts, new_tokens, lam, chunk)
            agree = token_agreement(gen, plain, prompt_len)
            run = {
                "chunk": chunk,
                "lambda": lam,
                "nll": nll,
                "ppl": math.exp(nll),
                "ppl_delta": math.exp(nll) - math.exp(base_nll),
                "ppl_rel_delta": math.exp(nll - base_nll) - 1.0,
                **{f"tf_{k}": v for k, v in stats.summary().items()},
                "gen_hit_rate": gstats.hit_rate(),
                "gen_layer_hit_rates": gstats.layer_hit_rates(),
                **agree,
            }
            res["runs"].append(run)
            log(
                f"S={chunk:>3} lambda={lam:.2f}: hit {run['tf_hit_rate']:.3f} layers "
                f"{' '.join(f'{h:.2f}' for h in run['tf_layer_hit_rates'])}  ppl {run['ppl']:.4f} "
                f"({run['ppl_rel_delta']:+.3%})  "
                f"agreement {agree['agreement']:.3f} ({agree['identical_users']}/{agree['users']} identical)"
            )
    res["seconds"] = time.perf_counter() - t0
    return res


def covering_chunk(pos_max: int) -> int:
    """The smallest S (multiple of 32) for which every position up to ``pos_max`` has P <= 2S."""
    return round_up(-(-round_up(pos_max + 1) // 2))


__all__ = ["ALSpecAttention", "ALSpecStats", "check_chunk", "check_lambda", "covering_chunk", "generate",
           "speculative_mask", "sweep", "teacher_forced", "token_agreement"]
