"""ALSpec scoring of text requests on the reference model: the engine behind the lm-eval wrapper
(:mod:`models.alspec.lm_eval_model`), with no dependency on lm-eval itself.

ALSpec speculates the attention of decode steps only, so every request is split the same way:

* **prefilled** (one forward over several tokens, exact attention, as ALSpec leaves prefill alone): the
  *context*: for :meth:`ALSpecScorer.loglikelihood` the context tokens (with the prefix token first, see
  below); for :meth:`ALSpecScorer.generate_until` the prompt; for :meth:`ALSpecScorer.loglikelihood_rolling`
  the prefix token of the first window (the context of later windows of a document longer than
  ``max_length``).
* **decoded** (one decode step per token, through :class:`~models.alspec.reference.ALSpecAttention` when
  ``lambda_`` is a number, exact when it is ``None``): every continuation token but the last is fed through a
  decode step, teacher-forced, as :func:`models.alspec.reference.teacher_forced` does.  So the first
  continuation token is predicted by the prefill (exact) and continuation token ``i >= 1`` by the decode step
  that consumed token ``i - 1`` (speculative on a hit).  Generation: the first new token comes from the
  prefill, each later one from the decode step that consumed the previous one (as
  :func:`models.alspec.reference.generate`).

Tokenisation follows the harness's convention for causal LMs: trailing whitespace of a loglikelihood context
moves to the front of the continuation, ``continuation = encode(context + continuation)[len(encode(context)):]``
(so a code line after a newline tokenises as in training, ``"\\n   " + " return"``), and ``prefix_token``
(the tokenizer's BOS, for the project's checkpoints ``<|endoftext|>``, the document separator they were trained
with) goes first when ``add_bos`` (default) or when the context is empty.  Over-long inputs are cut from the left
to ``max_length`` (default: the checkpoint's ``max_position_embeddings``).

Each distinct context is prefilled once, alone (no padding), and copied into the batch's KV cache (requests
sharing a context, e.g. the choices of a multiple-choice question, share its prefill; a :class:`PrefillCache`
shares prefills across scorers).  Decode steps are batched (``batch_size`` users per forward, idle users
``num_valid`` 0), grouped by task and sorted by length; the results come back in request order.  Batching
changes the floating-point order of the matmuls only; ALSpec's verdict is per (layer, user), so a user's
verdicts do not depend on the others'.
With ``lambda_ = 0`` a step hits only where the approximation is bit-identical to the exact attention, so every
result equals ALSpec off (``None``) bit for bit.

Statistics per task (:attr:`ALSpecScorer.tasks`): the :class:`~models.alspec.reference.ALSpecStats` of the
decode steps (hit rate per layer; users are the task's requests in the order scored), the number of decode
steps and of those *covered* (``P = round_up(pos + 1, 32) <= 2S``: sink + recent chunks hold every key, so the
approximation is the exact attention and the step hits at any lambda), and the prefilled tokens.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from reference.attention import round_up
from reference.decoder import Decoder, KVCache

from .reference import ALSpecAttention, ALSpecStats, check_chunk, check_lambda

DEFAULT_TASK = "default"


@dataclass
class TaskStats:
    """ALSpec figures of one task's decode steps."""

    stats: ALSpecStats
    requests: int = 0        # users scored (one per request; rolling: one per window)
    decode_steps: int = 0    # tokens fed through a decode step (per user)
    covered_steps: int = 0   # of which P <= 2S (the approximation is exact there)
    prefill_tokens: int = 0  # context tokens prefilled exactly

    def summary(self) -> dict:
        s = self.stats.summary() if self.stats.decisions else {"hit_rate": None, "decisions": 0,
                                                                "layer_hit_rates": self.stats.layer_hit_rates()}
        s.pop("user_hit_rates", None)  # one entry per request: too long for a results file
        return {**s, "requests": self.requests, "decode_steps": self.decode_steps,
                "covered_steps": self.covered_steps,
                "covered_fraction": self.covered_steps / self.decode_steps if self.decode_steps else None,
                "prefill_tokens": self.prefill_tokens}


def merge_task_stats(parts: Iterable[TaskStats], num_layers: int) -> TaskStats:
    out = TaskStats(ALSpecStats(num_layers))
    for p in parts:
        out.stats.merge(p.stats, user_offset=out.requests)
        out.requests += p.requests
        out.decode_steps += p.decode_steps
        out.covered_steps += p.covered_steps
        out.prefill_tokens += p.prefill_tokens
    return out


class PrefillCache:
    """Exact prefills by context tokens (K, V per layer and the last logits), least recently used dropped beyond
    ``max_tokens`` context tokens.  Prefill does not depend on lambda or S, so the scorers of one model's runs
    (ALSpec off and each lambda) share one and prefill every context once."""

    def __init__(self, max_tokens: int = 1 << 18):
        self.max_tokens = int(max_tokens)
        self.tokens = 0
        self.hits = self.misses = 0
        self._d: OrderedDict[tuple[int, ...], tuple] = OrderedDict()

    def get(self, key: tuple[int, ...]):
        e = self._d.get(key)
        if e is None:
            self.misses += 1
            return None
        self.hits += 1
        self._d.move_to_end(key)
        return e

    def put(self, key: tuple[int, ...], entry) -> None:
        if len(key) > self.max_tokens:
            return
        self._d[key] = entry
        self.tokens += len(key)
        while self.tokens > self.max_tokens:
            k, _ = self._d.popitem(last=False)
            self.tokens -= len(k)


@dataclass
class GenRequest:
    context: str
    until: list[str] = field(default_factory=list)
    max_gen_toks: int | None = None


class ALSpecScorer:
    """Loglikelihood, rolling loglikelihood and greedy generation on a reference :class:`Decoder` with ALSpec
    on (``lambda_`` a number >= 0, chunk ``S``) or off (``lambda_ = None``): see the module docstring."""

    def __init__(self, model: Decoder, tokenizer, *, lambda_: float | None = None, chunk: int = 128,
                 batch_size: int = 8, max_length: int | None = None, max_gen_toks: int = 256,
                 add_bos: bool = True, prefill_cache: PrefillCache | None = None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.lambda_ = None if lambda_ is None else check_lambda(lambda_)
        self.chunk = check_chunk(chunk)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size: expected a positive int; got {batch_size!r}")
        self.batch_size = batch_size
        cfg = model.config
        self.max_length = int(max_length or cfg.max_position_embeddings)
        if self.max_length < 2:
            raise ValueError(f"max_length: expected >= 2; got {self.max_length}")
        if isinstance(max_gen_toks, bool) or not isinstance(max_gen_toks, int) or max_gen_toks < 1:
            raise ValueError(f"max_gen_toks: expected a positive int; got {max_gen_toks!r}")
        self.max_gen_toks = max_gen_toks
        self.add_bos = bool(add_bos)
        bos = getattr(tokenizer, "bos_token_id", None)
        eos = getattr(tokenizer, "eos_token_id", None)
        self.prefix_token = int(bos if bos is not None else (eos if eos is not None else 0))
        self.eos_ids = {int(eos)} if eos is not None else set()
        self.tasks: dict[str, TaskStats] = {}
        self.prefill_cache = prefill_cache

    @classmethod
    def from_pretrained(cls, path: str | Path, dtype: str = "fp32", **kwargs) -> ALSpecScorer:
        from reference.hf import load_pretrained, load_tokenizer

        model, _ = load_pretrained(path, dtype=dtype)
        return cls(model, load_tokenizer(path), **kwargs)

    # ------------------------------------------------------------------------------------------ stats

    @property
    def num_layers(self) -> int:
        return self.model.config.num_layers

    def _task(self, name: str) -> TaskStats:
        if name not in self.tasks:
            self.tasks[name] = TaskStats(ALSpecStats(self.num_layers))
        return self.tasks[name]

    def reset_stats(self) -> None:
        self.tasks = {}

    def total(self) -> TaskStats:
        return merge_task_stats(self.tasks.values(), self.num_layers)

    def summary(self) -> dict:
        """``{"lambda", "chunk", "all": {...}, "tasks": {name: {...}}}`` (see :meth:`TaskStats.summary`)."""
        return {"lambda": self.lambda_, "chunk": self.chunk, "all": self.total().summary(),
                "tasks": {k: v.summary() for k, v in sorted(self.tasks.items())}}

    def _hook(self) -> ALSpecAttention | None:
        return None if self.lambda_ is None else ALSpecAttention(self.num_layers, self.lambda_, self.chunk)

    def _record(self, task: TaskStats, hook: ALSpecAttention | None, users: int) -> None:
        if hook is not None:
            task.stats.merge(hook.stats, user_offset=task.requests)
        task.requests += users

    def _count_step(self, task: TaskStats, positions: Sequence[int]) -> None:
        """One decode step of the active users at ``positions`` (the position of the token each one feeds)."""
        task.decode_steps += len(positions)
        task.covered_steps += sum(round_up(p + 1) <= 2 * self.chunk for p in positions)

    # ----------------------------------------------------------------------------------- tokenisation

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False)) if text else []

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=False)

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """(context ids with the prefix token, continuation ids) as the module docstring says."""
        n = len(context) - len(context.rstrip())
        if n:
            context, continuation = context[:-n], context[-n:] + continuation
        ctx = self.encode(context)
        cont = self.encode(context + continuation)[len(ctx):]
        if self.add_bos or not ctx:
            ctx = [self.prefix_token] + ctx
        return ctx, cont

    def _fit(self, ctx: list[int], cont: list[int]) -> tuple[list[int], list[int]]:
        """Cut the context from the left so that the input (context + continuation[:-1]) fits ``max_length``."""
        if len(cont) > self.max_length:
            raise ValueError(f"continuation of {len(cont)} tokens exceeds max_length {self.max_length}")
        keep = self.max_length - len(cont) + 1
        return ctx[-keep:], cont

    # ------------------------------------------------------------------------------------ the engine

    def _prefill_one(self, ctx: tuple[int, ...]) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor]:
        """Exact prefill of one context alone (no padding): per-layer K, V ``[n_kv, T, d]`` and the logits ``[V]``
        at its last token; kept in :attr:`prefill_cache` (shared by scorers of the same model) when set."""
        cached = self.prefill_cache.get(ctx) if self.prefill_cache is not None else None
        if cached is not None:
            return cached
        cache = KVCache.empty(self.model.config, 1, len(ctx), self.model.dtype)
        logits = self.model(torch.tensor([ctx], dtype=torch.long), cache, last_only=True).logits[0, -1]
        entry = ([k[0] for k in cache.k], [v[0] for v in cache.v], logits)
        if self.prefill_cache is not None:
            self.prefill_cache.put(ctx, entry)
        return entry

    def _prefill(self, contexts: Sequence[Sequence[int]], cache: KVCache) -> torch.Tensor:
        """Exact prefill of each distinct context (alone), copied into the batch ``cache``; logits ``[B, V]`` at
        each user's last context token."""
        done: dict[tuple[int, ...], tuple] = {}
        logits = []
        for b, c in enumerate(contexts):
            key = tuple(int(t) for t in c)
            if key not in done:
                done[key] = self._prefill_one(key)
            ks, vs, lg = done[key]
            T = len(key)
            for layer in range(self.num_layers):
                cache.k[layer][b, :, :T] = ks[layer]
                cache.v[layer][b, :, :T] = vs[layer]
            cache.lengths[b] = T
            logits.append(lg)
        return torch.stack(logits)

    def _decode(self, feed: torch.Tensor, active: torch.Tensor, cache: KVCache, hook, task: TaskStats):
        """One decode step: ``feed [B]`` for the ``active`` users (the others idle: ``num_valid`` 0)."""
        positions = [int(cache.lengths[b]) for b in range(len(feed)) if bool(active[b])]
        self._count_step(task, positions)
        if hook is not None:
            hook.active = active
        feed = torch.where(active, feed, torch.zeros_like(feed))
        return self.model(feed[:, None], cache, num_valid=active.long(), attention_fn=hook).logits[:, -1]

    @torch.inference_mode()
    def _score_batch(self, pairs: Sequence[tuple[list[int], list[int]]], task: TaskStats
                     ) -> list[tuple[float, bool, list[float]]]:
        """Teacher-forced scoring: ``(sum log p, all greedy, per-token log p)`` of each continuation."""
        ctxs = [c for c, _ in pairs]
        conts = [x for _, x in pairs]
        B = len(pairs)
        n_max = max(len(x) for x in conts)
        cache = KVCache.empty(self.model.config, B, max(len(c) + len(x) - 1 for c, x in pairs), self.model.dtype)
        task.prefill_tokens += sum(len(c) for c in ctxs)
        hook = self._hook()
        logits = self._prefill(ctxs, cache)
        lps: list[list[float]] = [[] for _ in range(B)]
        greedy = [True] * B
        for i in range(n_max):
            logp = torch.log_softmax(logits.float(), -1)
            top = logp.argmax(-1)
            for b in range(B):
                if i < len(conts[b]):
                    t = conts[b][i]
                    lps[b].append(float(logp[b, t]))
                    greedy[b] = greedy[b] and int(top[b]) == t
            if i + 1 < n_max:
                active = torch.tensor([i + 1 < len(x) for x in conts])
                feed = torch.tensor([x[i] if i < len(x) else 0 for x in conts], dtype=torch.long)
                logits = self._decode(feed, active, cache, hook, task)
        self._record(task, hook, B)
        return [(sum(lp), g, lp) for lp, g in zip(lps, greedy)]

    def _batches(self, items: Sequence, key) -> Iterable[list[int]]:
        """Index batches of ``items`` sorted by ``key`` descending (similar lengths together)."""
        order = sorted(range(len(items)), key=lambda i: -key(items[i]))
        for s in range(0, len(order), self.batch_size):
            yield order[s:s + self.batch_size]

    def score_tokens(self, pairs: Sequence[tuple[list[int], list[int]]], task: str = DEFAULT_TASK
                     ) -> list[tuple[float, bool, list[float]]]:
        """Teacher-forced scores of token pairs ``(context ids, continuation ids)``; each context must be
        non-empty and each continuation non-empty."""
        for c, x in pairs:
            if not c or not x:
                raise ValueError("score_tokens: expected a non-empty context and continuation")
        out: list = [None] * len(pairs)
        ts = self._task(task)
        for idx in self._batches(pairs, lambda p: len(p[0]) + len(p[1])):
            for i, r in zip(idx, self._score_batch([pairs[i] for i in idx], ts)):
                out[i] = r
        return out

    # ------------------------------------------------------------------------------------ public API

    def loglikelihood(self, requests: Sequence[tuple[str, str]], tasks: Sequence[str] | None = None
                      ) -> list[tuple[float, bool]]:
        """``(log p(continuation | context), greedy)`` per ``(context, continuation)`` (an empty continuation
        scores 0.0, greedy)."""
        tasks = list(tasks) if tasks is not None else [DEFAULT_TASK] * len(requests)
        out: list = [None] * len(requests)
        by_task: dict[str, list[int]] = {}
        pairs = []
        for i, (ctx, cont) in enumerate(requests):
            c, x = self.encode_pair(ctx, cont)
            pairs.append(self._fit(c, x) if x else (c, x))
            if not x:
                out[i] = (0.0, True)
            else:
                by_task.setdefault(tasks[i], []).append(i)
        for name, idx in by_task.items():
            for i, (lp, g, _) in zip(idx, self.score_tokens([pairs[i] for i in idx], name)):
                out[i] = (lp, g)
        return out

    def rolling_windows(self, ids: Sequence[int]) -> list[tuple[list[int], list[int]]]:
        """Disjoint prediction windows of ``ids`` (each token predicted once): the first is conditioned on the
        prefix token alone, each later one on as many preceding tokens as fit ``max_length``."""
        L, out, start = self.max_length, [], 0
        while start < len(ids):
            n = min(L, len(ids) - start)
            ctx = [self.prefix_token] if start == 0 else list(ids[start + n - L - 1:start])
            out.append((ctx, list(ids[start:start + n])))
            start += n
        return out

    def loglikelihood_rolling(self, texts: Sequence[str], tasks: Sequence[str] | None = None) -> list[float]:
        """Log-likelihood of each whole text (sum over its tokens, each predicted once; see
        :meth:`rolling_windows`)."""
        tasks = list(tasks) if tasks is not None else [DEFAULT_TASK] * len(texts)
        out = [0.0] * len(texts)
        by_task: dict[str, list[tuple[int, tuple[list[int], list[int]]]]] = {}
        for i, text in enumerate(texts):
            for w in self.rolling_windows(self.encode(text)):
                by_task.setdefault(tasks[i], []).append((i, w))
        for name, items in by_task.items():
            for (i, _), (lp, _, _) in zip(items, self.score_tokens([w for _, w in items], name)):
                out[i] += lp
        return out

    @torch.inference_mode()
    def _generate_batch(self, reqs: Sequence[tuple[list[int], list[str], int]], task: TaskStats) -> list[str]:
        B = len(reqs)
        ctxs = [c for c, _, _ in reqs]
        cache = KVCache.empty(self.model.config, B, max(len(c) + m for c, _, m in reqs), self.model.dtype)
        task.prefill_tokens += sum(len(c) for c in ctxs)
        hook = self._hook()
        logits = self._prefill(ctxs, cache)
        gen: list[list[int]] = [[] for _ in range(B)]
        text = [""] * B
        done = [False] * B
        while True:
            nxt = logits.argmax(-1)
            for b, (_, until, max_toks) in enumerate(reqs):
                if done[b]:
                    continue
                t = int(nxt[b])
                if t in self.eos_ids:
                    done[b] = True
                    continue
                gen[b].append(t)
                text[b] = self.decode(gen[b])
                if len(gen[b]) >= max_toks or any(s in text[b] for s in until):
                    done[b] = True
            if all(done):
                break
            active = torch.tensor([not d for d in done])
            logits = self._decode(nxt, active, cache, hook, task)
        self._record(task, hook, B)
        out = []
        for b, (_, until, _) in enumerate(reqs):
            s = text[b]
            cut = min((s.find(u) for u in until if u and u in s), default=len(s))
            out.append(s[:cut])
        return out

    def generate_until(self, requests: Sequence[GenRequest], tasks: Sequence[str] | None = None) -> list[str]:
        """Greedy continuation of each context, cut before the first stop string of ``until``; at most
        ``max_gen_toks`` tokens (default :attr:`max_gen_toks`); stops at the EOS token too."""
        tasks = list(tasks) if tasks is not None else [DEFAULT_TASK] * len(requests)
        items: list[tuple[list[int], list[str], int]] = []
        for r in requests:
            max_toks = int(r.max_gen_toks or self.max_gen_toks)
            if max_toks < 1 or max_toks >= self.max_length:
                raise ValueError(f"max_gen_toks: expected 1 .. {self.max_length - 1}; got {max_toks}")
            ctx = ([self.prefix_token] if self.add_bos else []) + self.encode(r.context)
            ctx = (ctx or [self.prefix_token])[-(self.max_length - max_toks):]
            items.append((ctx, [u for u in r.until if u], max_toks))
        out: list = [None] * len(requests)
        by_task: dict[str, list[int]] = {}
        for i, name in enumerate(tasks):
            by_task.setdefault(name, []).append(i)
        for name, idx in by_task.items():
            ts = self._task(name)
            sub = [items[i] for i in idx]
            for bidx in self._batches(sub, lambda r: len(r[0])):
                for j, s in zip(bidx, self._generate_batch([sub[j] for j in bidx], ts)):
                    out[idx[j]] = s
        return out


__all__ = ["ALSpecScorer", "GenRequest", "PrefillCache", "TaskStats", "merge_task_stats"]
