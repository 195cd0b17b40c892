"""Argument checking and device plumbing shared by :func:`flash_decode` and the speculative decode.

Every check runs before anything is copied to the device or compiled, and every ValueError names the
argument (``q``, ``k_cache``, ``v_cache``, ``positions``, ``chunk_size``, ``scale``, ``lambda_``,
``kv_dtype``, ``n_q``) and the expected value.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import torch

from ..host import TileTensor, to_device, torch_dtype_name
from ._layout import MAX_CT, TILE, decode_q_to_tiles, kv_cache_to_tiles

HEAD_DIMS = (64, 128)
Q_DTYPES = ("bf16",)  # the kernels compute in bf16 (one dtype per op in the 1.1.1 compiler)
KV_DTYPES = ("bf16", "bfp8_b")


@dataclass
class DecodeArgs:
    """Checked arguments: sizes in elements, tensors on the device in the kernels' layouts."""

    batch: int
    n_q: int | None  # None when q came as a TileTensor without n_q (flash decode does not need it)
    n_kv: int
    head_dim: int
    s_max: int
    chunk: int
    positions: list[int]
    scale: float
    kv_dtype: str
    torch_io: bool
    shared_kv: bool = False  # all users' queries read one cache region (user 0's)
    q: object = None  # TileTensor, after upload()
    k: object = None
    v: object = None
    _raw: tuple = ()

    @property
    def ct(self) -> int:
        return self.chunk // TILE

    @property
    def dt(self) -> int:
        return self.head_dim // TILE

    @property
    def group(self) -> int:
        return (self.n_q or self.n_kv) // self.n_kv

    def upload(self) -> DecodeArgs:
        q, k, v = self._raw
        if self.torch_io:
            self.q = to_device(decode_q_to_tiles(q, self.n_kv), "bf16")
            self.k = to_device(kv_cache_to_tiles(k), self.kv_dtype)
            self.v = to_device(kv_cache_to_tiles(v), self.kv_dtype)
        else:
            self.q, self.k, self.v = q, k, v
        return self


def check_chunk(chunk_size, arg: str = "chunk_size") -> int:
    is_int = isinstance(chunk_size, int) and not isinstance(chunk_size, bool)
    if not is_int or chunk_size <= 0 or chunk_size % TILE or chunk_size > MAX_CT * TILE:
        raise ValueError(f"{arg}: must be a multiple of 32 between 32 and {MAX_CT * TILE} (tokens per KV chunk); "
                         f"got {chunk_size!r}")
    return chunk_size


def check_scale(scale, head_dim: int) -> float:
    if scale is None:
        return 1.0 / math.sqrt(head_dim)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale: must be a finite positive number (default 1/sqrt(head_dim)); got {scale!r}")
    return float(scale)


def check_lambda(lambda_) -> float:
    if isinstance(lambda_, bool) or not isinstance(lambda_, (int, float)) or not math.isfinite(lambda_) or lambda_ < 0:
        raise ValueError(f"lambda_: must be a finite number >= 0 (the relative L2 tolerance); got {lambda_!r}")
    return float(lambda_)


def _positions(positions, batch: int, s_max: int, arg: str) -> list[int]:
    if isinstance(positions, torch.Tensor):
        if positions.dim() != 1 or positions.dtype.is_floating_point or positions.dtype == torch.bool:
            raise ValueError(f"{arg}: expected a 1-D integer tensor of {batch} entries; "
                             f"got {positions.dtype} shape {tuple(positions.shape)}")
        positions = positions.tolist()
    try:
        pos = list(positions)
    except TypeError:
        raise ValueError(f"{arg}: expected {batch} integers (one per user); got {type(positions).__name__}") from None
    if len(pos) != batch:
        raise ValueError(f"{arg}: expected {batch} entries (one per user); got {len(pos)}")
    out = []
    for p in pos:
        # Python or numpy integers (numbers.Integral); bools (Python or numpy) are not positions
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Integral):
            raise ValueError(f"{arg}: entries must be integers; got {p!r}")
        if not 0 <= p < s_max:
            raise ValueError(f"{arg}: every position must be in [0, S_max - 1] = [0, {s_max - 1}]; got {p}")
        out.append(int(p))
    return out


def parse(q, k_cache, v_cache, positions, *, chunk_size, scale, kv_dtype, n_q=None, pos_arg="positions",
          chunk_arg="chunk_size", shared_kv: bool = False) -> DecodeArgs:
    """Check the decode-attention arguments (see :func:`ttl_kernels.attention.flash_decode`); ``pos_arg`` /
    ``chunk_arg`` are the names the caller's API gives the positions and the chunk size."""
    chunk = check_chunk(chunk_size, chunk_arg)
    if kv_dtype is not None and kv_dtype not in KV_DTYPES:
        raise ValueError(f"kv_dtype: must be one of {KV_DTYPES}; got {kv_dtype!r}")
    kinds = {type(t) for t in (q, k_cache, v_cache)}
    for name, t in (("q", q), ("k_cache", k_cache), ("v_cache", v_cache)):
        if not isinstance(t, (torch.Tensor, TileTensor)):
            raise ValueError(f"{name}: expected a torch.Tensor or TileTensor; got {type(t).__name__}")
    if len(kinds) != 1:
        got = [type(t).__name__ for t in (q, k_cache, v_cache)]
        raise ValueError(f"k_cache: q, k_cache and v_cache must all be torch tensors or all TileTensors; got {got}")
    torch_io = isinstance(q, torch.Tensor)
    if torch_io:
        if q.dim() != 3:
            raise ValueError(f"q: expected [B, n_q, head_dim]; got shape {tuple(q.shape)}")
        if k_cache.dim() != 4:
            raise ValueError(f"k_cache: expected [B, n_kv, S_max, head_dim]; got shape {tuple(k_cache.shape)}")
        if tuple(v_cache.shape) != tuple(k_cache.shape):
            raise ValueError(f"v_cache: shape {tuple(v_cache.shape)} does not match k_cache's {tuple(k_cache.shape)}")
        qd = torch_dtype_name(q, "q")
        kd = torch_dtype_name(k_cache, "k_cache")
        vd = torch_dtype_name(v_cache, "v_cache")
        if vd != kd:
            raise ValueError(f"v_cache: dtype {v_cache.dtype} does not match k_cache's {k_cache.dtype}")
        del qd
        batch, nq, head_dim = (int(s) for s in q.shape)
        kb, n_kv, s_max, kdim = (int(s) for s in k_cache.shape)
        if batch == 0:
            raise ValueError(f"q: the batch is empty (shape {tuple(q.shape)}); expected at least one user")
        if n_kv == 0:
            raise ValueError(f"k_cache: expected at least one KV head; got shape {tuple(k_cache.shape)}")
        if kb != (1 if shared_kv else batch):
            note = " (shared_kv: expected 1)" if shared_kv else ""
            raise ValueError(f"k_cache: batch {kb} does not match q's batch {batch}{note}")
        if kdim != head_dim:
            raise ValueError(f"k_cache: head_dim {kdim} does not match q's head_dim {head_dim}")
        if n_q is not None and n_q != nq:
            raise ValueError(f"n_q: {n_q} does not match q's {nq} query heads")
        if nq % n_kv:
            raise ValueError(f"q: the number of query heads ({nq}) must be a multiple of k_cache's KV heads ({n_kv})")
        if nq // n_kv > TILE:
            raise ValueError(f"q: at most 32 query heads per KV head fit a tile row; got {nq // n_kv}")
        kv = kv_dtype or "bf16"
        n_q = nq
    else:
        for name, t, allowed in (("q", q, Q_DTYPES), ("k_cache", k_cache, KV_DTYPES), ("v_cache", v_cache, KV_DTYPES)):
            if t.dtype not in allowed:
                raise ValueError(f"{name}: dtype must be one of {allowed}; got {t.dtype!r}")
        if v_cache.dtype != k_cache.dtype:
            raise ValueError(f"v_cache: dtype {v_cache.dtype} does not match k_cache's {k_cache.dtype}")
        if kv_dtype is not None and kv_dtype != k_cache.dtype:
            raise ValueError(f"kv_dtype: {kv_dtype!r} does not match k_cache's dtype {k_cache.dtype!r}")
        kv = k_cache.dtype
        if v_cache.shape != k_cache.shape:
            raise ValueError(f"v_cache: shape {v_cache.shape} does not match k_cache's {k_cache.shape}")
        head_dim = q.shape[1]
        if k_cache.shape[1] != head_dim:
            raise ValueError(f"k_cache: head_dim {k_cache.shape[1]} does not match q's head_dim {head_dim}")
        batch = len(positions) if hasattr(positions, "__len__") else 0
        if batch == 0:
            raise ValueError(f"{pos_arg}: expected one position per user (at least one)")
        if q.shape[0] % (TILE * batch):
            raise ValueError(f"q: expected [B * n_kv * 32, head_dim] rows for B = {batch} users; got {q.shape[0]} rows")
        n_kv = q.shape[0] // (TILE * batch)
        regions = 1 if shared_kv else batch
        if k_cache.shape[0] % (regions * n_kv):
            users = "1" if shared_kv else "B"
            raise ValueError(f"k_cache: expected [{users} * n_kv * S_max, head_dim] rows (B = {batch}, n_kv = {n_kv}); "
                             f"got {k_cache.shape[0]} rows")
        s_max = k_cache.shape[0] // (regions * n_kv)
        if n_q is not None:
            if isinstance(n_q, bool) or not isinstance(n_q, int) or n_q <= 0 or n_q % n_kv or n_q // n_kv > TILE:
                raise ValueError(f"n_q: must be a positive multiple of n_kv = {n_kv} with at most 32 heads per KV "
                                 f"head; got {n_q!r}")
    if head_dim not in HEAD_DIMS:
        raise ValueError(f"q: head_dim must be one of {HEAD_DIMS}; got {head_dim}")
    if s_max % chunk:
        raise ValueError(f"k_cache: S_max ({s_max}) must be a multiple of chunk_size ({chunk})")
    pos = _positions(positions, batch, s_max, pos_arg)
    return DecodeArgs(batch, n_q, n_kv, head_dim, s_max, chunk, pos, check_scale(scale, head_dim), kv, torch_io,
                      shared_kv,
                      _raw=(q, k_cache, v_cache))


__all__ = ["DecodeArgs", "check_chunk", "check_lambda", "check_scale", "parse"]
