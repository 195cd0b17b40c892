"""ALSpec speculative flash decode: the approximate (sink + recent) attention and the exact attention in one
pass over the KV cache, with the speculation check on the device.

Per user with current position ``pos``, ``P = round_up(pos + 1, 32)`` and chunk size ``S``:

* **speculative partial** (one *reducer* unit per (user, KV head), dealt to the first cores so it runs
  in their first iteration): flash attention over the sink chunk ``[0, S)`` and the recent chunk
  ``[P - S, P)``, keys ``> pos`` masked, and when ``P < 2 S`` the recent chunk's keys ``< S`` masked too (they
  are in the sink already: no key counts twice).  Its normalised output is written immediately as the
  speculative output ``O_spec``; its ``(m, l)`` go to DRAM for the merge.
* **middle partials**: the keys ``[S, P - S)`` as S-token blocks aligned to end at ``P - S`` (the first
  block may reach into the sink; the mask hides that part), split over the remaining work units of the
  whole grid exactly like :func:`~ttl_kernels.attention.flash_decode`.
* **exact output**: the log-sum-exp merge of the speculative partial with the middle partials
  (:mod:`.merge`; nothing is recomputed).  When ``P <= 2 S`` there are no middle blocks, the exact output
  is the speculative output itself and the verdict is a hit for every ``lambda >= 0``.
* **verification** (in the merge op, one core per user): ``dist2 = ||O - O_spec||^2`` and
  ``norm2 = ||O||^2`` summed over all query heads x head_dim of the user, and ``verdict = 1`` (hit) when
  ``dist2 <= lambda^2 norm2``, else 0.

Positions: the plan (which blocks exist, where the recent chunk starts) is compile-time per group of
consecutive users with the same ``P``; the masks are runtime.  So a kernel is compiled per value of ``P``
(every 32 tokens; cached), and nothing past ``P - 1`` (at most 31 keys past ``pos``) is read.

``lambda`` and ``S`` are factory parameters (:func:`make_speculative_decode`); the call mirrors tt-metal's
``ttnn.experimental.speculative_scaled_dot_product_attention_decode`` (exact output, speculative output,
distance, norm; tt-metal's priority convention is available as ``.priority``: 0 hit / 2 miss).
"""

from __future__ import annotations

import dataclasses
from functools import cache, lru_cache
from typing import NamedTuple

import torch

from .. import runtime
from .._api import const_key
from ..host import TILE_BYTES, TileTensor, empty, to_torch
from ._common import DecodeArgs, check_chunk, check_lambda, parse
from ._layout import TILE, chunk_mask, const_tiles, decode_o_from_tiles, fp32_like, mask_tensor
from ._partial import make_partial_op
from ._plan import MergePlan, groups, spec_plan
from .merge import make_merge_op


class SpeculativeDecodeOutput(NamedTuple):
    """Results of one speculative decode-attention call.

    torch API: ``full_output`` and ``speculative_output`` ``[B, n_q, D]`` bf16; ``l2_dist_sq``,
    ``l2_norm_sq`` and ``verdict`` ``[B]`` float32 (verdict 1.0 hit / 0.0 miss).  TileTensor API: the two
    outputs in the decode O layout ``[B * n_kv * 32, D]`` and the per-user values as ``[B * 32, 32]`` tiles
    (tile row ``b`` filled with user ``b``'s value; :func:`per_user` reads them)."""

    full_output: object
    speculative_output: object
    l2_dist_sq: object
    l2_norm_sq: object
    verdict: object

    @property
    def priority(self):
        """tt-metal's sender priority per user: 0 on a hit, 2 on a miss."""
        v = self.verdict if isinstance(self.verdict, torch.Tensor) else per_user(self.verdict)
        return 2.0 * (1.0 - v)


def per_user(t: TileTensor) -> torch.Tensor:
    """``[B * 32, 32]`` per-user tiles -> ``[B]`` float32 (element 0 of each tile row)."""
    return to_torch(t)[::TILE, 0].float().contiguous()


def round_up32(x: int) -> int:
    return -(-x // TILE) * TILE


def spec_plans(a: DecodeArgs) -> list:
    """The compile-time plan of each group of users sharing ``P`` (exposed for tests and benchmarks)."""
    grid = runtime.grid()
    p_end = [round_up32(p + 1) for p in a.positions]
    cast = int(a.kv_dtype == "bfp8_b")
    plans = [spec_plan(grid, b0, nb, a.n_kv, a.dt, a.ct, a.s_max // TILE, key, a.scale, TILE_BYTES[a.kv_dtype], cast)
             for b0, nb, key in groups(p_end)]
    return [dataclasses.replace(p, shared_kv=int(a.shared_kv)) for p in plans]


def _masks(a: DecodeArgs):
    """Per user: slot 0 the only chunk when ``P <= S`` (keys > pos hidden), slot 1 the recent chunk ``[P - S, P)``
    (keys > pos, and keys < S when it overlaps the sink), slot 2 the first middle block (its overlap with the sink).
    The chunk geometry of both decode kernels (:func:`._plan._geometry`); cached per (positions, S): every layer
    of a step has the same positions, so a step uploads its masks once."""
    return position_masks(tuple(int(p) for p in a.positions), a.chunk, const_key())


@lru_cache(maxsize=4)
def position_masks(positions: tuple[int, ...], s: int, key: str):
    zero = torch.zeros(s)
    rows = []
    for pos in positions:
        p_end = round_up32(pos + 1)
        sink = chunk_mask(0, s, 0, pos)  # used when P <= S: the sink is the only chunk
        recent = chunk_mask(p_end - s, s, s, pos) if p_end > s else zero  # keys < S are the sink's
        nm = -(-max(p_end - 2 * s, 0) // s)
        first_mid = chunk_mask(p_end - s - nm * s, s, s, p_end - s - 1) if nm else zero
        rows.append([sink, recent, first_mid])
    return mask_tensor(rows, s)


class SpeculativeDecode:
    """ALSpec speculative flash decode with ``lambda_`` and chunk size ``S`` fixed (compile-time)."""

    def __init__(self, lambda_: float = 0.2, chunk_size: int = 128):
        self.lambda_ = check_lambda(lambda_)
        self.chunk_size = check_chunk(chunk_size)

    def __repr__(self) -> str:
        return f"SpeculativeDecode(lambda_={self.lambda_}, chunk_size={self.chunk_size})"

    def run(self, a: DecodeArgs) -> SpeculativeDecodeOutput:
        """Run the kernels on uploaded arguments; TileTensor results."""
        consts = const_tiles(a.ct, a.dt, a.group)
        f32 = fp32_like(a.ct, a.dt)
        full = empty((a.batch * a.n_kv * TILE, a.head_dim), "bf16")
        spec = empty((a.batch * a.n_kv * TILE, a.head_dim), "bf16")
        dist, norm, verdict = (empty((a.batch * TILE, TILE), "bf16") for _ in range(3))
        mask = _masks(a)
        be = runtime.backend_name()
        lam2 = self.lambda_ ** 2
        for plan in spec_plans(a):
            ml = empty((plan.w * plan.np * TILE, 2 * TILE), "bf16")  # per partial: m in tile column 0, l in 1
            o_part = empty((plan.w * plan.np * TILE, a.head_dim), "bf16") if plan.np > 1 else full
            make_partial_op(plan, be)(a.q.tt, a.k.tt, a.v.tt, mask.tt, consts.tt, f32.tt, o_part.tt, ml.tt, spec.tt)
            mplan = MergePlan(plan.gx, plan.gy, plan.b0, plan.nbu, a.n_kv, a.dt, plan.np, 1, lam2)
            make_merge_op(mplan, be)(o_part.tt, ml.tt, spec.tt, consts.tt, full.tt, dist.tt, norm.tt, verdict.tt)
        return SpeculativeDecodeOutput(full, spec, dist, norm, verdict)

    def __call__(self, q, k_cache, v_cache, positions, *, scale: float | None = None, kv_dtype: str | None = None,
                 n_q: int | None = None,
                 _pos_arg: str = "positions") -> SpeculativeDecodeOutput:
        """Speculative decode attention.

        torch in, torch out: ``q [B, n_q, D]``, ``k_cache, v_cache [B, n_kv, S_max, D]`` (stored on the device
        as ``kv_dtype``, bf16 by default, or bfp8_b), ``positions`` B integers in ``[0, S_max)``.
        TileTensors in (decode layouts of :mod:`._layout`; ``n_q`` required): TileTensors out.
        See :class:`SpeculativeDecodeOutput`.  In compile-only mode nothing runs (torch callers get Nones).
        """
        a = parse(q, k_cache, v_cache, positions, chunk_size=self.chunk_size, scale=scale, kv_dtype=kv_dtype, n_q=n_q,
                  pos_arg=_pos_arg)
        if a.n_q is None:
            raise ValueError("n_q: the number of query heads is required when q is a TileTensor")
        res = self.run(a.upload())
        if not a.torch_io:
            return res
        if not runtime.executes():
            return SpeculativeDecodeOutput(None, None, None, None, None)
        bf16 = runtime.TORCH_BF16
        o = decode_o_from_tiles(to_torch(res.full_output), a.batch, a.n_q, a.n_kv).to(bf16)
        s = decode_o_from_tiles(to_torch(res.speculative_output), a.batch, a.n_q, a.n_kv).to(bf16)
        return SpeculativeDecodeOutput(o, s, per_user(res.l2_dist_sq), per_user(res.l2_norm_sq), per_user(res.verdict))


@cache
def make_speculative_decode(lambda_: float = 0.2, chunk_size: int = 128) -> SpeculativeDecode:
    """The speculative decode with ``lambda_`` (relative L2 tolerance, >= 0) and ``chunk_size`` S (a multiple
    of 32 up to 128) baked in."""
    return SpeculativeDecode(lambda_, chunk_size)


def speculative_scaled_dot_product_attention_decode(q, k_cache, v_cache, *, cur_pos, lambda_: float = 0.2,
                                                    scale: float | None = None, k_chunk_size: int = 128,
                                                    kv_dtype: str | None = None,
                                                    n_q: int | None = None) -> SpeculativeDecodeOutput:
    """tt-metal-style entry point: ``(full_output, speculative_output, l2_dist_sq, l2_norm_sq, verdict)``
    for ``cur_pos`` (one position per user), ``lambda_`` (default 0.2, the op default in tt-metal) and
    ``k_chunk_size`` S (default 128).  ``.priority`` gives tt-metal's 0 (hit) / 2 (miss)."""
    check_lambda(lambda_)
    check_chunk(k_chunk_size, "k_chunk_size")
    op = make_speculative_decode(float(lambda_), int(k_chunk_size))
    return op(q, k_cache, v_cache, cur_pos, scale=scale, kv_dtype=kv_dtype, n_q=n_q, _pos_arg="cur_pos")


speculative_scaled_dot_product_attention_decode.expected_ops = ("matmul_(block|tiles)", "exp_tile", "signbit_tile",
                                                                 "recip_tile")
