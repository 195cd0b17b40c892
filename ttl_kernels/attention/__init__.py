"""Decode attention: split-KV flash decode and ALSpec's speculative flash decode.

* :func:`flash_decode` -- exact decode attention (GQA, per-user positions, bf16 or bfp8_b KV cache).
* :func:`speculative_scaled_dot_product_attention_decode` / :func:`make_speculative_decode` -- the exact
  output, the sink + recent approximation, ``||O - O_spec||^2``, ``||O||^2`` and the verdict in one call.
* Layout helpers: :func:`decode_q_to_tiles`, :func:`kv_cache_to_tiles`, :func:`decode_o_from_tiles`.

The registry entries (``flash_decode``, ``speculative_decode``) take their tensors in the kernels' 2-D
tile layouts (``q [B * n_kv * 32, D]``, ``k, v [B * n_kv * S_max, D]``) so that the generic tooling
(``bench/traffic.py``, the compile driver) can put them on the device as they are; their references
compute all 32 rows of each Q tile row (padding rows included) the way the kernels do.
"""

from __future__ import annotations

import torch

from reference import attention as _ref

from .. import runtime
from ..host import TileTensor, to_device, to_torch
from ..registry import KernelSpec, generator
from ..shapes import MODEL_SHAPES
from ._layout import TILE, decode_o_from_tiles, decode_q_to_tiles, kv_cache_to_tiles
from .flash_decode import flash_decode, scaled_dot_product_attention_decode
from .speculative_decode import (
    SpeculativeDecode,
    SpeculativeDecodeOutput,
    make_speculative_decode,
    per_user,
    speculative_scaled_dot_product_attention_decode,
)


def _args(batch: int = 1, n_q: int = 32, n_kv: int = 8, head_dim: int = 128, s_max: int = 1024, seed: int | None = None,
          **_) -> tuple:
    """(q, k, v) as 2-D torch tensors in the kernels' layouts (zeros when ``seed`` is None); Q's padding rows 0."""
    gen = generator(seed)
    shape_q, shape_kv = (batch, n_q, head_dim), (batch, n_kv, s_max, head_dim)
    if gen is None:
        q, k, v = torch.zeros(shape_q), torch.zeros(shape_kv), torch.zeros(shape_kv)
    else:
        q = torch.randn(shape_q, generator=gen)
        k, v = torch.randn(shape_kv, generator=gen), torch.randn(shape_kv, generator=gen)
    bf16 = runtime.TORCH_BF16
    return decode_q_to_tiles(q, n_kv).to(bf16), kv_cache_to_tiles(k).to(bf16), kv_cache_to_tiles(v).to(bf16)


def _kwargs(batch: int = 1, s_max: int = 1024, pos: int | None = None, chunk_size: int = 128, kv_dtype: str = "bf16",
            n_q: int = 32, lambda_: float = 0.2, **_) -> dict:
    positions = [s_max - 1 if pos is None else pos] * batch
    return dict(positions=positions, chunk_size=chunk_size, kv_dtype=kv_dtype, n_q=n_q, lambda_=lambda_)


def _on_device(q, k, v, kv_dtype):
    if isinstance(q, TileTensor):
        return q, k, v, False
    return to_device(q, "bf16"), to_device(k, kv_dtype), to_device(v, kv_dtype), True


def _flash_decode_tiles(q, k, v, positions, chunk_size=128, kv_dtype="bf16", n_q=None, lambda_=None):
    """Registry adapter: flash decode on the 2-D layouts (torch in -> torch out, TileTensor in -> out)."""
    tq, tk, tv, torch_io = _on_device(q, k, v, kv_dtype)
    out = flash_decode(tq, tk, tv, positions, chunk_size=chunk_size)
    if not torch_io:
        return out
    return to_torch(out) if runtime.executes() else None


def _speculative_decode_tiles(q, k, v, positions, chunk_size=128, kv_dtype="bf16", n_q=32, lambda_=0.2):
    """Registry adapter: speculative decode on the 2-D layouts; returns (exact, speculative) outputs in the
    O layout.  (dist2, norm2 and the verdict are written too; tests/test_kernel_parity_speculative_decode.py
    checks them -- a per-user scalar tile is a poor subject for the generic tools' PCC.)"""
    tq, tk, tv, torch_io = _on_device(q, k, v, kv_dtype)
    res = make_speculative_decode(lambda_, chunk_size)(tq, tk, tv, positions, n_q=n_q)
    outs = (res.full_output, res.speculative_output)
    if not torch_io:
        return outs
    return tuple(to_torch(t) for t in outs) if runtime.executes() else None


def _all_rows(q2d, k2d, v2d, positions):
    """(q [B, n_kv*32, D] over every row of each Q tile row, k, v [B, n_kv, S_max, D]) from the 2-D layouts."""
    batch = len(positions)
    D = q2d.shape[1]
    n_kv = q2d.shape[0] // (TILE * batch)
    s_max = k2d.shape[0] // (batch * n_kv)
    q = q2d.float().reshape(batch, n_kv * TILE, D)
    return q, k2d.float().reshape(batch, n_kv, s_max, D), v2d.float().reshape(batch, n_kv, s_max, D), n_kv


def _flash_decode_tiles_ref(q, k, v, positions, chunk_size=128, kv_dtype="bf16", n_q=None, lambda_=None):
    qa, ka, va, _ = _all_rows(q, k, v, positions)
    return _ref.sdpa_decode(qa, ka, va, positions).reshape(q.shape)


def _speculative_decode_tiles_ref(q, k, v, positions, chunk_size=128, kv_dtype="bf16", n_q=32, lambda_=0.2):
    qa, ka, va, _ = _all_rows(q, k, v, positions)
    exact = _ref.sdpa_decode(qa, ka, va, positions)
    spec = _ref.sdpa_decode_speculative(qa, ka, va, positions, chunk_size)
    return exact.reshape(q.shape), spec.reshape(q.shape)


def _cases():
    heads = sorted({(m["n_q"], m["n_kv"], m["head_dim"]) for m in MODEL_SHAPES.values()},
                   key=lambda h: (h[2], h[0]))  # tiny first
    return [dict(batch=1, n_q=nq, n_kv=nkv, head_dim=d, s_max=1024, pos=1023, chunk_size=128, kv_dtype="bf16")
            for nq, nkv, d in heads]


_OPS = ("matmul_block", "transpose_wh_tile", "exp_tile", "binary_max_tile", "recip_tile")  # (bf16 cache: no typecast)

KERNEL_SPECS = [
    # a call lowers two operations (partial attention + merge); the patterns cover both
    # (ttl_kernels.attention.compile_cases lowers and checks each operation alone)
    KernelSpec("flash_decode", _flash_decode_tiles, _flash_decode_tiles_ref, _args, _OPS, _cases, _kwargs),
    KernelSpec("speculative_decode", _speculative_decode_tiles, _speculative_decode_tiles_ref, _args,
               _OPS + ("signbit_tile", "square_tile"), _cases, _kwargs),
]

__all__ = [
    "KERNEL_SPECS",
    "SpeculativeDecode",
    "SpeculativeDecodeOutput",
    "decode_o_from_tiles",
    "decode_q_to_tiles",
    "flash_decode",
    "kv_cache_to_tiles",
    "make_speculative_decode",
    "per_user",
    "scaled_dot_product_attention_decode",
    "speculative_scaled_dot_product_attention_decode",
]
