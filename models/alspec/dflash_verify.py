"""ALSpec inside DFlash verification: the target verifies a DFlash block of B rows of one sequence, and every layer's
attention over the long context is ALSpec's for each of the block's rows.

Definition (per layer ``l`` and block row ``t`` at position ``p_t``, ``P_t = round_up(p_t + 1, 32)``, chunk ``S``)
--------------------------------------------------------------------------------------------------------------------
* ``O_exact[l, t]``: the exact causal attention of row ``t`` over keys ``0 .. p_t`` (the earlier block rows'
  keys included: they are in the cache, written by this step's KV update), i.e. what plain DFlash verification
  computes.
* ``O_spec[l, t]``: the same attention over the sink ``[0, S)`` and the recent chunk ``[P_t - S, P_t)`` only, keys
  past ``p_t`` hidden (ALSpec's approximation of a decode token at ``p_t``; each row has its own recent chunk).
* verdict ``hit[l, t]``: ``||O_exact - O_spec||^2 <= lambda^2 ||O_exact||^2`` over all query heads of the row
  (ALSpec's per-user verdict, with the rows as the users).
* **kept on a hit**: row ``t`` continues from ``O_spec[l, t]`` (O projection, residual, MLP, the next layers);
  **on a miss**: from ``O_exact[l, t]``.  Nothing is recomputed: one pass computes both outputs (the speculative
  kernel merges its sink + recent partial into the exact output), and the choice is a per-row select on the
  device.  Everything after the attention follows from the chosen output as in any forward: the next layers' K/V
  of the block rows (written to the cache) and the taps handed to the DFlash draft come from the residual
  streams as they stand, and the verification's accept / reject and cache crop are DFlash's own, unchanged.  So a
  block row's forward is exactly ALSpec's decode forward of that token (verify-only ALSpec, the paper's quality
  semantics), and DFlash with this verification emits ALSpec greedy decoding's tokens (approximate), not plain
  greedy decoding's: ``lambda > 0`` gives up DFlash's losslessness; the runs measure how much.
* **lambda = 0**: a hit needs ``dist^2 = 0``, i.e. ``O_spec`` equal to ``O_exact`` bit for bit (rows whose
  ``P_t <= 2 S``, or where the middle keys change nothing), so every row's chosen output has ``O_exact``'s value:
  exactly today's DFlash output (tested: tokens and logits bit-identical on the reference model).
* The prompt's prefill stays exact (ALSpec speculates decode-time attention only).

In a two-device protocol the same per-row choice holds (the winner of each row's residual stream), but the
sender can skip its post-attention work only when every row of the block hits: the latency model
(:mod:`models.alspec.dflash_runs`) takes a layer's timeline as a hit when all B rows hit, a miss otherwise, and
the runs measure that block-level rate beside the per-row one.

Two implementations
-------------------
* :class:`BlockALSpecAttention` (reference model, an ``attention_fn`` of :meth:`reference.decoder.Decoder.forward`):
  :class:`models.alspec.reference.ALSpecAttention` extended to several rows of one sequence (it leaves multi-token
  forwards exact).  The exact and speculative outputs go through the same :func:`reference.decoder.attend` with
  the same arguments except the key mask, so ``lambda = 0`` is bit-identical to plain verification.
* :class:`KernelBlockALSpecAttention` (TT-Lang kernels, an ``attention`` hook of
  :func:`models.decoder_step.decode_step`): the speculative flash-decode kernel on the block (its reducer and
  split units read the one sequence's cache, ``shared_kv``: the plans take it from the parsed arguments, the call
  API has no such argument, so :func:`speculative_block` parses with it and calls the kernel's ``run``),
  then :func:`ttl_kernels.ccl.group_select` per row from the verdict tiles.  Its exact output is the speculative
  kernel's log-sum-exp merge, which blocks the keys differently from split-KV ``flash_decode``: ``lambda = 0``
  equals verification through that kernel's exact output bit for bit (``select=False``), and today's
  ``flash_decode`` verification to rounding (same tokens, logits PCC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from reference.attention import speculation_verdict, speculative_keys
from reference.decoder import Decoder, KVCache, attend
from ttl_kernels import host, runtime
from ttl_kernels.attention import make_speculative_decode, per_user
from ttl_kernels.attention._common import parse
from ttl_kernels.attention.speculative_decode import SpeculativeDecodeOutput
from ttl_kernels.ccl import group_select
from ttl_kernels.layout import groups_to_heads, heads_to_groups

from ..kernel_model import DeviceLogits, KernelCache, KernelOps, KernelTarget, run_in_chunks
from ..protocols import TapSegment
from ..targets import TorchTarget
from .protocol import check_kernel_chunk
from .reference import check_chunk, check_lambda

TILE = 32


@dataclass
class BlockStats:
    """Verdicts of verification blocks per layer: rows, row hits, rows whose ``P <= 2 S`` (exact by construction),
    blocks and blocks whose rows all hit; hits by row index in the block; relative distances per layer."""

    num_layers: int
    chunk: int
    rows: list[int] = field(default_factory=list)
    row_hits: list[int] = field(default_factory=list)
    trivial_rows: list[int] = field(default_factory=list)
    blocks: list[int] = field(default_factory=list)
    block_hits: list[int] = field(default_factory=list)
    by_index: dict[int, list[int]] = field(default_factory=dict)
    rel: list[list[float]] = field(default_factory=list)

    def __post_init__(self):
        n = self.num_layers
        for name in ("rows", "row_hits", "trivial_rows", "blocks", "block_hits"):
            if not getattr(self, name):
                setattr(self, name, [0] * n)
        if not self.rel:
            self.rel = [[] for _ in range(n)]

    def record(self, layer: int, positions: list[int], hit: list[bool], rel: list[float]) -> None:
        self.rows[layer] += len(hit)
        self.row_hits[layer] += sum(hit)
        self.trivial_rows[layer] += sum(-(-(p + 1) // TILE) * TILE <= 2 * self.chunk for p in positions)
        self.blocks[layer] += 1
        self.block_hits[layer] += int(all(hit))
        for i, h in enumerate(hit):
            e = self.by_index.setdefault(i, [0, 0])
            e[0] += int(h)
            e[1] += 1
        self.rel[layer].extend(rel)

    @staticmethod
    def _rate(a, b) -> float | None:
        return a / b if b else None

    def summary(self) -> dict:
        r = self._rate
        return {
            "row_hit_rate": r(sum(self.row_hits), sum(self.rows)),
            "block_hit_rate": r(sum(self.block_hits), sum(self.blocks)),
            "trivial_row_share": r(sum(self.trivial_rows), sum(self.rows)),
            "layer_row_hit_rates": [r(h, n) for h, n in zip(self.row_hits, self.rows)],
            "layer_block_hit_rates": [r(h, n) for h, n in zip(self.block_hits, self.blocks)],
            "row_index_hit_rates": [r(*self.by_index[i]) for i in sorted(self.by_index)],
            "layer_rel_median": [float(torch.tensor(x).median()) if x else None for x in self.rel],
            "rows": sum(self.rows) // max(self.num_layers, 1),
            "blocks": sum(self.blocks) // max(self.num_layers, 1),
        }

    def merge(self, other: BlockStats) -> None:
        for name in ("rows", "row_hits", "trivial_rows", "blocks", "block_hits"):
            setattr(self, name, [a + b for a, b in zip(getattr(self, name), getattr(other, name))])
        for i, (h, n) in other.by_index.items():
            e = self.by_index.setdefault(i, [0, 0])
            e[0] += h
            e[1] += n
        for a, b in zip(self.rel, other.rel):
            a.extend(b)


# ------------------------------------------------------------------------------------------ reference model


class BlockALSpecAttention:
    """``attention_fn`` for :meth:`Decoder.forward`: ALSpec per row of every forward it is given (module
    docstring), one decode token or a verification block alike.  ``select=False``: the exact output for every
    row (the verdicts still recorded)."""

    def __init__(self, num_layers: int, lambda_: float, chunk: int = 128, select: bool = True):
        self.lambda_ = check_lambda(lambda_)
        self.chunk = check_chunk(chunk)
        self.select = bool(select)
        self.stats = BlockStats(num_layers, self.chunk)
        self.last_hit: dict[int, torch.Tensor] = {}

    def __call__(self, layer_idx: int, q, k, v, key_mask, scaling):
        exact = attend(q, k, v, key_mask, scaling)
        B, T, span = key_mask.shape
        if B != 1:
            raise ValueError(f"q: a verification block is one sequence; got a batch of {B}")
        positions, spec_mask = [], torch.zeros_like(key_mask)
        for t in range(T):
            idx = key_mask[0, t].nonzero()
            pos = int(idx.max()) if idx.numel() else -1
            positions.append(pos)
            if pos >= 0:
                spec_mask[0, t] = speculative_keys(pos, self.chunk, span) & key_mask[0, t]
        spec = attend(q, k, v, spec_mask, scaling)
        nq, d = q.shape[1], q.shape[3]
        dist2, norm2, hit = speculation_verdict(exact.detach().reshape(T, nq, d), spec.detach().reshape(T, nq, d),
                                                self.lambda_)
        hit = hit.bool() & torch.tensor([p >= 0 for p in positions])
        rel = (dist2 / norm2.clamp_min(1e-300)).sqrt()
        self.last_hit[layer_idx] = hit
        self.stats.record(layer_idx, positions, [bool(h) for h in hit], [float(x) for x in rel])
        if not self.select:
            return exact
        return torch.where(hit[None, :, None], spec, exact)


class ALSpecTorchTarget(TorchTarget):
    """The reference target with ALSpec in every forward after the prefill (verification blocks and decode tokens);
    the prefill stays exact.  ``lambda_=None``: plain (the same as :class:`TorchTarget`)."""

    def __init__(self, model: Decoder, lambda_: float | None, chunk: int = 128, *, select: bool = True, **info):
        super().__init__(model, **info)
        self.hook = None if lambda_ is None else BlockALSpecAttention(model.config.num_layers, lambda_, chunk, select)

    def forward(self, ids, cache: KVCache, taps=()):
        prefill = int(cache.lengths[0]) == 0 and len(ids) > 1
        fn = None if prefill else self.hook
        out = self.model(torch.tensor([list(ids)]), cache, taps, attention_fn=fn)
        return out.logits[0], ([TapSegment([t[0] for t in out.hidden_taps], len(ids))] if taps else None)


# ------------------------------------------------------------------------------------------ kernels


def speculative_block(q, k_cache, v_cache, positions, *, lambda_: float, chunk: int, n_q: int, kv_dtype: str,
                      shared: bool) -> SpeculativeDecodeOutput:
    """The speculative flash decode of ``len(positions)`` query rows (TileTensors in the decode layouts): one row per
    user, or (``shared``) the rows of one sequence reading its one cache."""
    op = make_speculative_decode(float(lambda_), int(chunk))
    a = parse(q, k_cache, v_cache, positions, chunk_size=chunk, scale=None, kv_dtype=kv_dtype, n_q=n_q,
              shared_kv=shared).upload()
    return op.run(a)  # the plans take shared_kv from the parsed arguments (spec_plans)


class KernelBlockALSpecAttention:
    """The ``attention`` hook of :func:`models.decoder_step.decode_step` on :class:`KernelOps` for ALSpec in every
    row (module docstring): heads -> groups, the speculative flash decode (one pass; a verification block of one
    sequence reads its one cache), per row the speculative output on a hit and the exact one on a miss
    (``group_select`` on the device, the verdict tile of each row as the condition), groups -> heads.
    ``select=False``: the kernel's exact output for every row (the bit-exact baseline of ``lambda = 0``)."""

    def __init__(self, ops: KernelOps, lambda_: float, chunk: int = 128, select: bool = True, record: bool = True):
        self.lambda_ = check_lambda(lambda_)
        self.chunk = check_kernel_chunk(chunk)
        if ops.chunk != self.chunk:
            raise ValueError(f"chunk: {self.chunk} differs from the kernel model's KV chunk size {ops.chunk} (build "
                             "the target with chunk_size=chunk)")
        self.ops, self.select, self.record = ops, bool(select), bool(record)
        self.stats = BlockStats(ops.config.num_layers, self.chunk)
        self.last: dict[int, Any] = {}

    def __call__(self, layer: int, q, cache: KernelCache, positions):
        c = self.ops.config
        shared = KernelOps.shared(cache, q.shape[0])
        qg = heads_to_groups(q, c.num_kv_heads, c.head_dim, out_dtype="bf16")
        r = speculative_block(qg, cache.k[layer], cache.v[layer], list(positions), lambda_=self.lambda_,
                              chunk=self.chunk, n_q=c.num_heads, kv_dtype=self.ops.kv_dtype, shared=shared)
        og = group_select(r.verdict, r.full_output, r.speculative_output, group=c.num_kv_heads) if self.select \
            else r.full_output
        self.last[layer] = r
        if self.record and runtime.executes():  # statistics only: read back after the fact
            hit = per_user(r.verdict)
            d2, n2 = per_user(r.l2_dist_sq).double(), per_user(r.l2_norm_sq).double()
            rel = torch.where(n2 > 0, (d2 / n2.clamp_min(1e-300)).sqrt(), torch.zeros_like(d2))
            self.stats.record(layer, list(positions), [bool(h > 0.5) for h in hit], [float(x) for x in rel])
        return groups_to_heads(og, q.shape[0], c.num_heads, c.num_kv_heads, out_dtype=self.ops.dtype)


class ALSpecVerifyKernelTarget(KernelTarget):
    """:class:`models.kernel_model.KernelTarget` whose forwards after the prefill (verification blocks, decode tokens)
    take their attention from :class:`KernelBlockALSpecAttention`; the prefill runs the plain kernels (exact).
    ``chunk`` is both ALSpec's S and the kernel model's KV chunk."""

    def __init__(self, model: Decoder, lambda_: float, chunk: int = 128, *, select: bool = True,
                 max_seq_len: int | None = None, dtype: str = "bf16", kv_dtype: str = "bf16", **kw):
        check_kernel_chunk(chunk)
        super().__init__(model, max_seq_len=max_seq_len, dtype=dtype, kv_dtype=kv_dtype, chunk_size=chunk, **kw)
        self.hook = KernelBlockALSpecAttention(self.ops, lambda_, chunk, select)

    def _forward(self, ids: list[int], cache: KernelCache, taps: tuple):
        if int(cache.lengths[0]) == 0 and len(ids) > 1:
            return run_in_chunks(self.ops, cache, ids, taps, on_device=self.select_on_device)
        if len(ids) > 32:
            raise ValueError(f"ids: a verification block has at most 32 rows (one tile); got {len(ids)}")
        logits, tapped = self.ops.step(cache, ids, taps, attention=self.hook)
        return ((DeviceLogits(logits) if self.select_on_device else host.to_torch(logits)),
                ([TapSegment(tapped, len(ids))] if taps else None))


def kernel_target(model: Decoder, lambda_: float | None, chunk: int, *, max_seq_len: int, dtype: str = "bf16",
                  select: bool = True, **info) -> KernelTarget:
    """The kernel target of one run: plain (``lambda_=None``: split-KV flash decode at KV chunk ``chunk``) or ALSpec
    in verification."""
    if lambda_ is None:
        return KernelTarget(model, max_seq_len=max_seq_len, dtype=dtype, chunk_size=chunk, **info)
    return ALSpecVerifyKernelTarget(model, lambda_, chunk, select=select, max_seq_len=max_seq_len, dtype=dtype,
                                    **info)


__all__ = ["ALSpecTorchTarget", "ALSpecVerifyKernelTarget", "BlockALSpecAttention", "BlockStats",
           "KernelBlockALSpecAttention", "kernel_target", "speculative_block"]
