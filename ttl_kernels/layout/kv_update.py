"""In-place KV-cache update for one decode token of one user.

The cache is the decode-attention layout ``[B * n_kv * S_max, D]`` (:mod:`ttl_kernels.attention._layout`):
row ``(b * n_kv + h) * S_max + s`` is token ``s`` of KV head ``h`` of user ``b``.  The new K and V come
from the projections with users on rows: ``[B, n_kv * D]``.

Per KV head h (one unit per core), in tiles:

    t    = E @ k_new[b // 32, h*Dt : (h+1)*Dt]          (1,1) @ (1,Dt): row b mod 32 -> row pos mod 32
    kept = cache[tile row of pos] * KEEP                 (1,Dt): every row but pos mod 32 kept
    cache[tile row of pos] = kept + t                    read, combined and written back in place

``E`` (the one-hot (pos mod 32, b mod 32)) and ``KEEP`` (ones with row pos mod 32 zeroed) are tiny
runtime tensors; the cache tile row ``((b * n_kv + h) * S_max + pos) // 32`` is a compile-time constant of
the factory, so an operation is compiled per (user, 32-token window of positions) and reused for the 32
steps inside it.  Only one tile row per head is read and written: the update moves 2 x 2 x n_kv x Dt tiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import torch

from .. import runtime
from ..host import TILE, TileTensor, to_device
from ..runtime import ttl
from ..tiling import ItemsOnGrid, buffers_like, buffers_of, fit_grid


@dataclass(frozen=True)
class KVUpdatePlan(ItemsOnGrid):
    """Compile-time plan of one user's update; the work items are the KV heads."""

    batch: int
    n_kv: int
    smax_t: int  # S_max in tiles
    dt: int
    user: int  # row of k_new / v_new
    region: int  # cache region (user) written: the user itself, or 0 for block verification
    pos_tile: int  # pos // 32
    gx: int
    gy: int

    @property
    def n_items(self) -> int:
        return self.n_kv


@cache
def make_kv_update(plan: KVUpdatePlan, backend: str):
    GX, NC, NKV, DT = plan.gx, plan.n_cores, plan.n_kv, plan.dt
    BASE = plan.region * plan.n_kv * plan.smax_t + plan.pos_tile  # cache tile row of the position in head 0
    SMT = plan.smax_t  # cache tile rows per head
    UROW = plan.user // TILE  # tile row of the user in k_new / v_new

    @ttl.operation(grid=(plan.gx, plan.gy))
    def kv_update(k_cache, v_cache, k_new, v_new, sel, keep):
        e_dfb = ttl.make_dataflow_buffer_like(sel, shape=(1, 1), block_count=1)
        keep_dfb = ttl.make_dataflow_buffer_like(keep, shape=(1, DT), block_count=1)
        new_dfb, old_dfb = buffers_of((k_new, k_cache), (1, DT), block_count=2)  # a new row, the old cache tile row
        t_dfb, kp_dfb = buffers_like(k_cache, 2, (1, DT))  # E @ new, the kept rows
        out_dfb = ttl.make_dataflow_buffer_like(k_cache, shape=(1, DT), block_count=2)

        @ttl.compute()
        def compute():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            if core < NKV:
                e = e_dfb.wait()
                kp = keep_dfb.wait()
                for _h in range(core, NKV, NC):  # heads core, core + NC, ...
                    for _kv in range(2):  # K, then V
                        with new_dfb.wait() as nb, t_dfb.reserve() as t:
                            t.store(e @ nb)
                        with old_dfb.wait() as ob, kp_dfb.reserve() as kept:
                            kept.store(ob * kp)
                        with t_dfb.wait() as t, kp_dfb.wait() as kept, out_dfb.reserve() as o:
                            o.store(kept + t)
                e.pop()
                kp.pop()

        @ttl.datamovement()
        def reader():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            if core < NKV:
                with e_dfb.reserve() as e, keep_dfb.reserve() as kp:
                    te = ttl.copy(sel[0, 0], e)
                    tk = ttl.copy(keep[0, 0:DT], kp)
                    te.wait()
                    tk.wait()
                for h in range(core, NKV, NC):
                    with new_dfb.reserve() as nb, old_dfb.reserve() as ob:  # K: new row, old cache tile row
                        tn = ttl.copy(k_new[UROW, h * DT:(h + 1) * DT], nb)
                        to = ttl.copy(k_cache[BASE + h * SMT, 0:DT], ob)
                        tn.wait()
                        to.wait()
                    with new_dfb.reserve() as nb, old_dfb.reserve() as ob:  # V: the same
                        tn2 = ttl.copy(v_new[UROW, h * DT:(h + 1) * DT], nb)
                        to2 = ttl.copy(v_cache[BASE + h * SMT, 0:DT], ob)
                        tn2.wait()
                        to2.wait()

        @ttl.datamovement()
        def writer():
            cx, cy = ttl.node(dims=2)
            for h in range(cy * GX + cx, NKV, NC):
                with out_dfb.wait() as o:
                    tw = ttl.copy(o, k_cache[BASE + h * SMT, 0:DT])
                    tw.wait()
                with out_dfb.wait() as o:
                    tw2 = ttl.copy(o, v_cache[BASE + h * SMT, 0:DT])
                    tw2.wait()

    return kv_update


@cache
def _selectors(user: int, row: int, head_dim: int, dtype: str, backend: str) -> tuple[TileTensor, TileTensor]:
    e = torch.zeros(TILE, TILE)
    e[row, user % TILE] = 1.0
    keep = torch.ones(TILE, head_dim)
    keep[row] = 0.0
    return to_device(e, dtype), to_device(keep, dtype)


def kv_update(k_cache: TileTensor, v_cache: TileTensor, k_new: TileTensor, v_new: TileTensor, positions, n_kv: int,
              shared: bool = False) -> None:
    """Write each user's new K and V (``[B, n_kv * D]``) into the caches (``[B * n_kv * S_max, D]``) at the
    user's position, in place.  ``shared``: the B rows are consecutive tokens of ONE sequence (speculative
    block verification) and all go to region 0 of a cache with batch 1, row b at ``positions[b]``."""
    for name, t in (("k_cache", k_cache), ("v_cache", v_cache), ("k_new", k_new), ("v_new", v_new)):
        if not isinstance(t, TileTensor):
            raise ValueError(f"{name}: expected a TileTensor")
    if v_cache.shape != k_cache.shape or v_cache.dtype != k_cache.dtype:
        raise ValueError(f"v_cache: expected the shape and dtype of k_cache {k_cache.shape} {k_cache.dtype}; "
                         f"got {v_cache.shape} {v_cache.dtype}")
    if v_new.shape != k_new.shape:
        raise ValueError(f"v_new: expected the shape of k_new {k_new.shape}; got {v_new.shape}")
    batch, width = k_new.shape
    head_dim = k_cache.shape[1]
    if n_kv < 1 or width != n_kv * head_dim:
        raise ValueError(f"k_new: expected {n_kv} x {head_dim} columns; got {width}")
    rows = k_cache.shape[0]
    regions = 1 if shared else batch
    if rows % (regions * n_kv) or (rows // (regions * n_kv)) % TILE:
        raise ValueError(f"k_cache: expected {regions} x n_kv x S_max rows with S_max a multiple of 32; "
                         f"got {rows} for n_kv={n_kv}")
    s_max = rows // (regions * n_kv)
    positions = [int(p) for p in positions]
    if len(positions) != batch:
        raise ValueError(f"positions: expected {batch} values (one per user); got {len(positions)}")
    for p in positions:
        if not 0 <= p < s_max:
            raise ValueError(f"positions: expected values in [0, {s_max}); got {p}")
    gx, gy = fit_grid(n_kv, runtime.grid())
    be = runtime.backend_name()
    for b, p in enumerate(positions):
        plan = KVUpdatePlan(batch, n_kv, s_max // TILE, head_dim // TILE, b, 0 if shared else b, p // TILE, gx, gy)
        sel, keep = _selectors(b, p % TILE, head_dim, k_cache.dtype, be)
        make_kv_update(plan, be)(k_cache.tt, v_cache.tt, k_new.tt, v_new.tt, sel.tt, keep.tt)
