"""Head regrouping between the projection layout and the decode-attention layout.

Projections produce activations with users on rows: ``[B, n_heads * D]`` (user ``b`` in row ``b``, head
``h`` in columns ``h*D .. h*D+D-1``).  The decode-attention kernels (:mod:`ttl_kernels.attention`) want the
``G = n_q / n_kv`` query heads that share a KV head stacked in the rows of one tile:
``[B * n_kv * 32, D]``, tile row ``b * n_kv + g`` holding query head ``g*G + i`` of user ``b`` in row ``i``.

Both directions are one-hot matmuls on whole tiles (no gather exists in 1.1.1, and a matmul with a 0/1
matrix is exact):

* :func:`heads_to_groups`: unit ``(b, g)``: ``out = sum_i E[i, b] @ x[b // 32, head g*G+i]`` where
  ``E[i, b]`` is the 32 x 32 one-hot with a 1 at (i, b mod 32): it lifts row ``b mod 32`` of the head's
  tiles into row ``i``.  G matmuls of (1,1) @ (1,Dt) tiles per unit.
* :func:`groups_to_heads`: unit ``(tile row r, head h)``: ``out = sum_b E[i, b]^T @ o[b, g]`` over the
  users ``b`` of tile row ``r``: it drops row ``i`` of each user's group tile into row ``b mod 32``.

The one-hot pickers are small host-built tensors (``[B * 32, G * 32]``, tile ``(b, i)`` = ``E[i, b]``),
built once per (B, G) and kept on the device.  Accumulation uses the ``prev + a @ b`` form with ``prev``
a waited 2-slot buffer (the one fused matmul form 1.1.1 compiles correctly).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import torch

from .. import runtime
from .._api import check_2d, tensor_info
from ..host import TILE, TileTensor, empty, to_device
from ..runtime import ttl
from ..tiling import fit_grid


@dataclass(frozen=True)
class RegroupPlan:
    batch: int
    n_heads: int
    n_kv: int
    dt: int
    gx: int
    gy: int

    @property
    def g(self) -> int:
        return self.n_heads // self.n_kv

    @property
    def nc(self) -> int:
        return self.gx * self.gy


@cache
def pickers(batch: int, g: int, transpose: bool, backend: str) -> TileTensor:
    """``[B * 32, g * 32]``: tile ``(b, i)`` is the one-hot E[i, b] (or its transpose)."""
    e = torch.zeros(batch, TILE, g, TILE)
    for b in range(batch):
        for i in range(g):
            if transpose:
                e[b, b % TILE, i, i] = 1.0
            else:
                e[b, i, i, b % TILE] = 1.0
    return to_device(e.reshape(batch * TILE, g * TILE), "bf16")


@cache
def make_heads_to_groups(plan: RegroupPlan, dtype: str, backend: str):
    """Units (b, g) over the flattened grid; ``backend`` and ``dtype`` are cache keys only."""
    GX, NC, NKV, G, DT = plan.gx, plan.nc, plan.n_kv, plan.g, plan.dt
    NU = plan.batch * plan.n_kv
    ITERS = -(-NU // NC)

    @ttl.operation(grid=(plan.gx, plan.gy))
    def heads_to_groups(x, pick, out):
        x_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, DT), block_count=2)
        e_dfb = ttl.make_dataflow_buffer_like(pick, shape=(1, 1), block_count=2)
        acc_dfb = ttl.make_dataflow_buffer_like(out, shape=(1, DT), block_count=2)  # running sum (compute only)
        res_dfb = ttl.make_dataflow_buffer_like(out, shape=(1, DT), block_count=2)  # finished unit -> writer

        @ttl.compute()
        def compute():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            for it in range(ITERS):
                u = it * NC + core
                if u < NU:
                    # acc = E[0, b] @ x_head0 ; acc += E[i, b] @ x_head_i
                    with e_dfb.wait() as e, x_dfb.wait() as xb, acc_dfb.reserve() as a:
                        a.store(e @ xb)
                    for i in range(1, G):
                        with e_dfb.wait() as e, x_dfb.wait() as xb, acc_dfb.wait() as prev, acc_dfb.reserve() as a:
                            a.store(prev + e @ xb)
                    with acc_dfb.wait() as a, res_dfb.reserve() as r:
                        r.store(a)

        @ttl.datamovement()
        def reader():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            for it in range(ITERS):
                u = it * NC + core
                if u < NU:
                    b = u // NKV
                    gg = u % NKV
                    for i in range(G):
                        c0 = (gg * G + i) * DT
                        with e_dfb.reserve() as e, x_dfb.reserve() as xb:
                            te = ttl.copy(pick[b, i], e)
                            tx = ttl.copy(x[b // 32, c0:c0 + DT], xb)
                            te.wait()
                            tx.wait()

        @ttl.datamovement()
        def writer():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            for it in range(ITERS):
                u = it * NC + core
                if u < NU:
                    with res_dfb.wait() as a:
                        tw = ttl.copy(a, out[u, 0:DT])
                        tw.wait()

    return heads_to_groups


@cache
def make_groups_to_heads(plan: RegroupPlan, dtype: str, backend: str):
    """Units (tile row r, head h); each sums over the users of its tile row."""
    GX, NC, NKV, G, DT, NH = plan.gx, plan.nc, plan.n_kv, plan.g, plan.dt, plan.n_heads
    B = plan.batch
    NR = -(-B // TILE)
    NU = NR * NH
    ITERS = -(-NU // NC)

    @ttl.operation(grid=(plan.gx, plan.gy))
    def groups_to_heads(o, pick_t, out):
        o_dfb = ttl.make_dataflow_buffer_like(o, shape=(1, DT), block_count=2)
        e_dfb = ttl.make_dataflow_buffer_like(pick_t, shape=(1, 1), block_count=2)
        acc_dfb = ttl.make_dataflow_buffer_like(out, shape=(1, DT), block_count=2)  # running sum (compute only)
        res_dfb = ttl.make_dataflow_buffer_like(out, shape=(1, DT), block_count=2)  # finished unit -> writer

        @ttl.compute()
        def compute():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            for it in range(ITERS):
                u = it * NC + core
                if u < NU:
                    r = u // NH
                    nb = B - r * 32  # users in this tile row (at most 32)
                    with e_dfb.wait() as e, o_dfb.wait() as ob, acc_dfb.reserve() as a:
                        a.store(e @ ob)
                    for j in range(1, 32):
                        if j < nb:
                            with e_dfb.wait() as e, o_dfb.wait() as ob, acc_dfb.wait() as prev, acc_dfb.reserve() as a:
                                a.store(prev + e @ ob)
                    with acc_dfb.wait() as a, res_dfb.reserve() as rr:
                        rr.store(a)

        @ttl.datamovement()
        def reader():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            for it in range(ITERS):
                u = it * NC + core
                if u < NU:
                    r = u // NH
                    h = u % NH
                    nb = B - r * 32
                    for j in range(32):
                        if j < nb:
                            b = r * 32 + j
                            with e_dfb.reserve() as e, o_dfb.reserve() as ob:
                                te = ttl.copy(pick_t[b, h % G], e)
                                to = ttl.copy(o[b * NKV + h // G, 0:DT], ob)
                                te.wait()
                                to.wait()

        @ttl.datamovement()
        def writer():
            cx, cy = ttl.node(dims=2)
            core = cy * GX + cx
            for it in range(ITERS):
                u = it * NC + core
                if u < NU:
                    r = u // NH
                    h = u % NH
                    with res_dfb.wait() as a:
                        tw = ttl.copy(a, out[r, h * DT:(h + 1) * DT])
                        tw.wait()

    return groups_to_heads


def _plan(batch: int, n_heads: int, n_kv: int, head_dim: int, n_units: int) -> RegroupPlan:
    gx, gy = fit_grid(n_units, runtime.grid())
    return RegroupPlan(batch, n_heads, n_kv, head_dim // TILE, gx, gy)


def _check_heads(n_heads: int, n_kv: int, head_dim: int) -> None:
    if n_kv < 1 or n_heads % n_kv:
        raise ValueError(f"n_kv: expected a divisor of n_heads={n_heads}; got {n_kv}")
    if n_heads // n_kv > TILE:
        raise ValueError(f"n_heads / n_kv: expected at most {TILE} query heads per KV head; got {n_heads // n_kv}")
    if head_dim <= 0 or head_dim % TILE:
        raise ValueError(f"head_dim: expected a positive multiple of {TILE}; got {head_dim}")


def heads_to_groups(x: TileTensor, n_kv: int, head_dim: int, out_dtype: str | None = None) -> TileTensor:
    """``x [B, n_heads * D]`` (users on rows) -> ``[B * n_kv * 32, D]`` (decode-attention Q layout), in
    ``out_dtype`` (default x's; the conversion happens when the result is packed)."""
    shape, dtype = tensor_info(x, "x", ("bf16", "fp32"))
    rows, cols = check_2d(shape, "x")
    if not isinstance(x, TileTensor):
        raise ValueError("x: expected a TileTensor (device-resident activations)")
    if cols % head_dim:
        raise ValueError(f"x: expected n_heads * head_dim columns with head_dim={head_dim}; got {cols}")
    n_heads = cols // head_dim
    _check_heads(n_heads, n_kv, head_dim)
    plan = _plan(rows, n_heads, n_kv, head_dim, rows * n_kv)
    out = empty((rows * n_kv * TILE, head_dim), out_dtype or dtype)
    be = runtime.backend_name()
    make_heads_to_groups(plan, dtype, be)(x.tt, pickers(rows, plan.g, False, be).tt, out.tt)
    return out


def groups_to_heads(o: TileTensor, batch: int, n_heads: int, n_kv: int, out_dtype: str | None = None) -> TileTensor:
    """``o [B * n_kv * 32, D]`` (decode-attention O layout) -> ``[B, n_heads * D]`` (users on rows), in
    ``out_dtype`` (default o's)."""
    shape, dtype = tensor_info(o, "o", ("bf16", "fp32"))
    rows, head_dim = check_2d(shape, "o")
    if not isinstance(o, TileTensor):
        raise ValueError("o: expected a TileTensor (device-resident activations)")
    _check_heads(n_heads, n_kv, head_dim)
    if rows != batch * n_kv * TILE:
        raise ValueError(f"o: expected {batch} x {n_kv} x 32 = {batch * n_kv * TILE} rows; got {rows}")
    plan = _plan(batch, n_heads, n_kv, head_dim, -(-batch // TILE) * n_heads)
    out = empty((batch, n_heads * head_dim), out_dtype or dtype)
    be = runtime.backend_name()
    make_groups_to_heads(plan, dtype, be)(o.tt, pickers(batch, plan.g, True, be).tt, out.tt)
    return out

