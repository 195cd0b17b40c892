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
from ..tiling import ItemsOnGrid, block_writer, fit_grid


@dataclass(frozen=True)
class RegroupPlan(ItemsOnGrid):
    """Compile-time plan of one regrouping; ``to_heads`` picks the direction, and with it the work units (the
    items dealt over the grid): (user, KV head) pairs for :func:`heads_to_groups`, (tile row of users,
    head) pairs for :func:`groups_to_heads`."""

    batch: int
    n_heads: int
    n_kv: int
    dt: int
    to_heads: int  # 1: groups_to_heads, 0: heads_to_groups
    gx: int
    gy: int

    @property
    def g(self) -> int:
        return self.n_heads // self.n_kv

    @property
    def n_items(self) -> int:
        return -(-self.batch // TILE) * self.n_heads if self.to_heads else self.batch * self.n_kv


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
def make_regroup(plan: RegroupPlan, dtype: str, backend: str):
    """The regrouping op for ``plan`` (either direction); ``backend`` and ``dtype`` are cache keys only.

    Every unit is a sum of one-hot matmuls ``E @ tile``: the compute thread is the same for both directions,
    only the terms' addresses (reader) and the result's place (writer) differ."""
    GX, NC, NU, NKV, G, DT, NH = plan.gx, plan.n_cores, plan.n_items, plan.n_kv, plan.g, plan.dt, plan.n_heads
    B, ROWS = plan.batch, TILE  # users; users per tile row
    TO_HEADS = plan.to_heads
    MAX_TERMS = ROWS if TO_HEADS == 1 else G  # terms of a unit's sum: at most 32 users, or the G query heads

    @ttl.operation(grid=(plan.gx, plan.gy))
    def regroup(src, pick, out):
        x_dfb = ttl.make_dataflow_buffer_like(src, shape=(1, DT), block_count=2)
        e_dfb = ttl.make_dataflow_buffer_like(pick, shape=(1, 1), block_count=2)
        acc_dfb = ttl.make_dataflow_buffer_like(out, shape=(1, DT), block_count=2)  # running sum (compute only)
        out_dfb = ttl.make_dataflow_buffer_like(out, shape=(1, DT), block_count=2)  # finished unit -> writer

        @ttl.compute()
        def compute():
            cx, cy = ttl.node(dims=2)
            for u in range(cy * GX + cx, NU, NC):  # units core, core + NC, ...
                # terms: the G query heads of a (user, KV head) unit, or the users of a (tile row, head) unit
                n_terms = TO_HEADS * (B - (u // NH) * ROWS) + (1 - TO_HEADS) * G
                # acc = E_0 @ x_0 ; acc += E_i @ x_i
                with e_dfb.wait() as e, x_dfb.wait() as xb, acc_dfb.reserve() as a:
                    a.store(e @ xb)
                for i in range(1, MAX_TERMS):
                    if i < n_terms:
                        with e_dfb.wait() as e, x_dfb.wait() as xb, acc_dfb.wait() as prev, acc_dfb.reserve() as a:
                            a.store(prev + e @ xb)
                with acc_dfb.wait() as a, out_dfb.reserve() as r:
                    r.store(a)

        if TO_HEADS == 0:
            _to_groups_reader(src, pick, x_dfb, e_dfb, GX, NC, NU, NKV, G, DT)
            block_writer(out, out_dfb, GX, NC, NU, 1, 1, DT)  # unit u is tile row u (b * n_kv + g)
        else:
            _to_heads_reader(src, pick, x_dfb, e_dfb, GX, NC, NU, NKV, G, DT, NH, B)
            block_writer(out, out_dfb, GX, NC, NU, NH, 1, DT)  # unit (r, h): tile row r, head h's DT columns

    return regroup


def _to_groups_reader(x, pick, x_dfb, e_dfb, GX, NC, NU, NKV, G, DT):
    """Trace time: the reader of :func:`heads_to_groups` (unit ``u`` = (user ``u // NKV``, KV head
    ``u % NKV``); term ``i`` is query head ``(u % NKV) * G + i`` of the user, lifted into row ``i``).  The
    buffers keep the names the compute thread captures them under (the simulator keys buffers by name)."""

    @ttl.datamovement()
    def reader():
        cx, cy = ttl.node(dims=2)
        for u in range(cy * GX + cx, NU, NC):
            b = u // NKV
            for i in range(G):
                c0 = ((u % NKV) * G + i) * DT  # the head's first tile column in x's row of users
                with e_dfb.reserve() as e, x_dfb.reserve() as xb:
                    te = ttl.copy(pick[b, i], e)
                    tx = ttl.copy(x[b // 32, c0:c0 + DT], xb)
                    te.wait()
                    tx.wait()


def _to_heads_reader(o, pick_t, x_dfb, e_dfb, GX, NC, NU, NKV, G, DT, NH, B):
    """Trace time: the reader of :func:`groups_to_heads` (unit ``u`` = (tile row ``u // NH`` of users, head
    ``u % NH``); term ``j`` is user ``32 r + j``'s group tile row, dropped into row ``j``)."""

    @ttl.datamovement()
    def reader():
        cx, cy = ttl.node(dims=2)
        for u in range(cy * GX + cx, NU, NC):
            h = u % NH
            for b in range((u // NH) * 32, (u // NH) * 32 + 32):  # the users of tile row u // NH
                if b < B:
                    with e_dfb.reserve() as e, x_dfb.reserve() as ob:
                        te = ttl.copy(pick_t[b, h % G], e)
                        to = ttl.copy(o[b * NKV + h // G, 0:DT], ob)  # user b's tile row of KV head h // G
                        te.wait()
                        to.wait()


def _plan(batch: int, n_heads: int, n_kv: int, head_dim: int, to_heads: int) -> RegroupPlan:
    plan = RegroupPlan(batch, n_heads, n_kv, head_dim // TILE, to_heads, 1, 1)
    gx, gy = fit_grid(plan.n_items, runtime.grid())
    return RegroupPlan(batch, n_heads, n_kv, head_dim // TILE, to_heads, gx, gy)


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
    plan = _plan(rows, n_heads, n_kv, head_dim, 0)
    out = empty((rows * n_kv * TILE, head_dim), out_dtype or dtype)
    be = runtime.backend_name()
    make_regroup(plan, dtype, be)(x.tt, pickers(rows, plan.g, False, be).tt, out.tt)
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
    plan = _plan(batch, n_heads, n_kv, head_dim, 1)
    out = empty((batch, n_heads * head_dim), out_dtype or dtype)
    be = runtime.backend_name()
    make_regroup(plan, dtype, be)(o.tt, pickers(batch, plan.g, True, be).tt, out.tt)
    return out

