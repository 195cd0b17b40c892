"""Decode attention (one new token per user) over a KV cache: split-KV flash decode on the whole core grid.

``B`` users, ``n_q`` query heads sharing ``n_kv`` KV heads (GQA, ``G = n_q / n_kv`` heads per KV head),
``head_dim`` D in {64, 128}, a KV cache ``[B, n_kv, S_max, D]`` in bf16 or bfp8_b, a current position per
user (keys ``0 .. pos`` are visible; the current token's K/V are already in the cache) and
``scale = 1 / sqrt(D)`` unless given.  Tensor layouts: :mod:`._layout`.

Dataflow (two operations):

1. :mod:`._partial` -- every (user, KV head) *segment* needs ``n = ceil((pos + 1) / S)`` chunks of S
   tokens (S = ``chunk_size``, (S/32) x (D/32) tiles each).  The chunks of all segments are cut into
   work units (contiguous chunk runs of near-equal length) dealt round-robin over the flattened grid
   (:mod:`._plan` picks the split that minimises the busiest core's load).  Each unit reads Q (1 x D/32
   tiles) once and each of its K and V chunks once, runs flash attention in L1 and writes a partial
   ``(o, lse)`` to DRAM.
2. :mod:`.merge` -- per segment, the log-sum-exp merge of its partials, normalised, written as O.
   Skipped when a segment is a single unit (the partial then *is* O and goes straight to the output).

Positions: compile-time chunk counts + a runtime mask.  A kernel is compiled per group of consecutive
users with the same ``n`` (cached, so recompiles happen only when a user crosses a chunk boundary, every
S tokens), and an additive mask tile row per user hides keys ``> pos`` in the last chunk.  The kernel
reads at most ``S - 1`` keys past ``pos`` (never more than one chunk).

DRAM traffic per call: K and V once (the minimum), plus per unit Q (D/32 tiles) and the partial
(D/32 bf16 + 1 fp32 tile written, read back by the merge), plus the constant tiles once per busy core.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import torch

from .. import runtime
from .._api import const_key
from ..host import TILE_BYTES, empty, to_torch
from ._common import DecodeArgs, parse
from ._layout import TILE, chunk_mask, const_tiles, decode_o_from_tiles, fp32_like, mask_tensor
from ._partial import make_partial_op
from ._plan import MergePlan, flash_plan, groups
from .merge import make_merge_op


def flash_plans(a: DecodeArgs) -> list:
    """The compile-time plan of each user group (exposed for tests and benchmarks)."""
    grid = runtime.grid()
    n = [(p + 1 + a.chunk - 1) // a.chunk for p in a.positions]
    plans = [flash_plan(grid, b0, nb, a.n_kv, a.dt, a.ct, a.s_max // TILE, key, a.scale, TILE_BYTES[a.kv_dtype])
             for b0, nb, key in groups(n)]
    return [dataclasses.replace(p, shared_kv=int(a.shared_kv)) for p in plans]


def _masks(a: DecodeArgs):
    """Slot 0 of each user: the last chunk (the one holding pos) with keys > pos hidden (slots 1, 2 unused).
    Cached per (positions, chunk): every layer of a step has the same positions, so a step uploads its masks once
    (the step audit counts the bytes)."""
    return _masks_for(tuple(int(p) for p in a.positions), a.chunk, const_key())


@lru_cache(maxsize=4)
def _masks_for(positions: tuple[int, ...], chunk: int, key: str):
    zero = torch.zeros(chunk)
    rows = []
    for p in positions:
        start = (p // chunk) * chunk
        rows.append([chunk_mask(start, chunk, 0, p), zero, zero])
    return mask_tensor(rows, chunk)


def run_flash_decode(a: DecodeArgs):
    """Run the kernels on uploaded arguments; returns the O TileTensor ``[B * n_kv * 32, D]`` (bf16)."""
    consts = const_tiles(a.ct, a.dt, a.group)
    f32 = fp32_like(a.ct, a.dt)
    out = empty((a.batch * a.n_kv * TILE, a.head_dim), "bf16")
    mask = _masks(a)
    be = runtime.backend_name()
    for plan in flash_plans(a):
        ml = empty((plan.w * plan.np * TILE, 2 * TILE), "bf16")  # per partial: m in tile column 0, l in 1
        if plan.np == 1:  # one unit per segment: its normalised partial is O
            make_partial_op(plan, be)(a.q.tt, a.k.tt, a.v.tt, mask.tt, consts.tt, f32.tt, out.tt, ml.tt, out.tt)
            continue
        o_part = empty((plan.w * plan.np * TILE, a.head_dim), "bf16")
        make_partial_op(plan, be)(a.q.tt, a.k.tt, a.v.tt, mask.tt, consts.tt, f32.tt, o_part.tt, ml.tt, o_part.tt)
        mplan = MergePlan(plan.gx, plan.gy, plan.b0, plan.nbu, a.n_kv, a.dt, plan.np, 0)
        make_merge_op(mplan, be)(o_part.tt, ml.tt, o_part.tt, consts.tt, out.tt, ml.tt, ml.tt, ml.tt)
    return out


def flash_decode(q, k_cache, v_cache, positions, *, scale: float | None = None, chunk_size: int = 128,
                 kv_dtype: str | None = None,
                 shared_kv: bool = False, _names=("positions", "chunk_size")):
    """Decode attention for B users with GQA and per-user positions.

    torch in, torch out:
        ``q [B, n_q, D]`` (bf16 or fp32), ``k_cache, v_cache [B, n_kv, S_max, D]`` (bf16 or fp32; stored on
        the device as ``kv_dtype``: ``"bf16"`` (default) or ``"bfp8_b"``), ``positions`` B integers in
        ``[0, S_max)``.  Returns ``O [B, n_q, D]`` bf16: ``softmax(scale q K[:pos+1]^T) V[:pos+1]`` per
        user and head, query head ``i`` using KV head ``i // (n_q / n_kv)``.
    TileTensors in, TileTensor out:
        ``q [B * n_kv * 32, D]``, ``k_cache, v_cache [B * n_kv * S_max, D]`` in the layouts of
        :mod:`ttl_kernels.attention._layout` (build them with ``decode_q_to_tiles`` /
        ``kv_cache_to_tiles``); returns O ``[B * n_kv * 32, D]`` bf16 (``decode_o_from_tiles`` reads it).

    ``chunk_size`` S: tokens per KV chunk, a multiple of 32 up to 128; ``S_max`` must be a multiple of it.
    ``shared_kv``: the B "users" are B query rows of ONE sequence (speculative block verification: row i is
    the token at ``positions[i]``, all reading the same cache, whose batch is then 1).
    In compile-only mode the kernels are lowered and nothing runs (torch callers get ``None``).
    """
    a = parse(q, k_cache, v_cache, positions, chunk_size=chunk_size, scale=scale, kv_dtype=kv_dtype, pos_arg=_names[0],
              chunk_arg=_names[1], shared_kv=shared_kv).upload()
    out = run_flash_decode(a)
    if not a.torch_io:
        return out
    if not runtime.executes():
        return None
    return decode_o_from_tiles(to_torch(out), a.batch, a.n_q, a.n_kv).to(runtime.TORCH_BF16)


def scaled_dot_product_attention_decode(q, k_cache, v_cache, *, cur_pos, scale: float | None = None,
                                        k_chunk_size: int = 128, kv_dtype: str | None = None):
    """ttnn-style spelling of :func:`flash_decode` (``cur_pos`` = positions, ``k_chunk_size`` = S)."""
    return flash_decode(q, k_cache, v_cache, cur_pos, scale=scale, chunk_size=k_chunk_size, kv_dtype=kv_dtype,
                        _names=("cur_pos", "k_chunk_size"))


flash_decode.expected_ops = ("matmul_(block|tiles)", "exp_tile", "binary_max_tile|max_tile", "transpose_wh_tile",
                             "log_tile", "recip_tile")
