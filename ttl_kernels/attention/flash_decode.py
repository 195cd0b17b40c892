"""Decode attention (one new token per user) over a KV cache: split-KV flash decode on the whole core grid.

``B`` users, ``n_q`` query heads sharing ``n_kv`` KV heads (GQA, ``G = n_q / n_kv`` heads per KV head),
``head_dim`` D in {64, 128}, a KV cache ``[B, n_kv, S_max, D]`` in bf16 or bfp8_b, a current position per
user (keys ``0 .. pos`` are visible; the current token's K/V are already in the cache) and
``scale = 1 / sqrt(D)`` unless given.  Tensor layouts: :mod:`._layout`.

Dataflow (two operations):

1. :mod:`._partial` -- every (user, KV head) *segment* needs the keys ``[0, P)``, ``P = round_up(pos + 1, 32)``,
   read as ``ceil(P / S)`` chunks of S tokens (S = ``chunk_size``, (S/32) x (D/32) tiles each; the last one is
   ``[P - S, P)``, see :mod:`._plan`; one chunk of P tokens when ``P <= S``).  The chunks of all segments are cut
   into work units (contiguous chunk runs of near-equal length) dealt round-robin over the flattened grid
   (:mod:`._plan` picks the split with the smallest modelled time).  Each unit reads Q (1 x D/32 tiles) once and
   each of its K and V chunks once, runs flash attention in L1 (scores of up to 8 chunks at a time held in L1,
   one row max per such super-chunk) and writes a partial ``(o, m, l)`` to DRAM.
2. :mod:`.merge` -- per segment, the log-sum-exp merge of its partials, normalised, written as O.
   Skipped when a segment is a single unit (the partial then *is* O and goes straight to the output).

Positions: compile-time chunk plans + a runtime mask.  A kernel is compiled per group of consecutive users
with the same ``P`` (cached, so a recompile happens when a user's ``P`` changes, every 32 tokens), and an
additive mask tile row per user hides keys ``> pos`` (and keys two chunks share).  The kernel never reads a
tile at or past ``P``: cache slots there may hold anything (NaN, Inf) without changing the output.  Inside the
tile holding ``pos``, finite values past it are masked exactly; NaN / Inf there are not (see :mod:`._partial`).

The cache dtype is a compile-time variant: bf16 goes to the matmuls as read, bfloat8_b through one typecast
per tile in L1.

DRAM traffic per call: K and V once (the minimum; up to S - 32 tokens of a segment read twice where the last
chunk overlaps the one before it), plus per unit Q (D/32 tiles) and the partial (D/32 + 2 bf16 tiles written,
read back by the merge), plus the constant tiles once per busy core.
"""

from __future__ import annotations

import dataclasses

from .. import runtime
from ..host import TILE_BYTES, empty, to_torch
from ._common import DecodeArgs, parse
from ._layout import TILE, const_tiles, decode_o_from_tiles, fp32_like
from ._partial import make_partial_op
from ._plan import MergePlan, flash_plan, groups
from .merge import make_merge_op
from .speculative_decode import _masks as spec_masks
from .speculative_decode import round_up32


def flash_plans(a: DecodeArgs) -> list:
    """The compile-time plan of each group of consecutive users sharing ``P = round_up(pos + 1, 32)`` (exposed
    for tests and benchmarks)."""
    grid = runtime.grid()
    p_end = [round_up32(p + 1) for p in a.positions]
    cast = int(a.kv_dtype == "bfp8_b")
    plans = [flash_plan(grid, b0, nb, a.n_kv, a.dt, a.ct, a.s_max // TILE, key, a.scale, TILE_BYTES[a.kv_dtype], cast)
             for b0, nb, key in groups(p_end)]
    return [dataclasses.replace(p, shared_kv=int(a.shared_kv)) for p in plans]


def _masks(a: DecodeArgs):
    """The masks of the chunk geometry both decode kernels share (:func:`.speculative_decode._masks`)."""
    return spec_masks(a)


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
