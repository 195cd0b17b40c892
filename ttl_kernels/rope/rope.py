"""Rotary position embedding (HF rotate-half convention) of Q and K in one call, with the cos / sin lookup
done on the device.

Shapes: q is ``rows x (n_q * head_dim)``, k is ``rows x (n_kv * head_dim)`` (same rows: one position per
row), head_dim 64 or 128 (any multiple of 64): a head is ``DT = head_dim/32`` tiles whose halves are
``DH = DT/2`` whole tiles.  For each row ``b`` at position ``p_b`` and each head, with ``c``, ``s`` the
first half of the tables' row ``p_b`` (:mod:`.tables`; HF's halves are equal)::

    y[:half] = x[:half] * c - x[half:] * s        y[half:] = x[half:] * c + x[:half] * s

Lookup design (tt-lang 1.1.1 has no runtime scalars: a kernel cannot read a position and compute an
address from it, only compile-time integers drive addresses).  The tables stay on the device; a call
reads, for each tile row of 32 rows (users in decode, tokens in prefill), the table *tile rows*
(32 positions x DH tiles) its positions fall in, and picks each row's position inside them with a
runtime one-hot selector tile ``S`` (``S[b, p_b % 32] = 1``) built on the host per call::

    cos_rows = sum_j S_j @ cos[t_j]      (1 x DH tiles; one matmul per table tile row t_j)

One-hot matmuls are exact, so the kernel uses bit-for-bit the tables' values.  The table tile rows
``t_j`` are compile-time constants of the kernel: per tile row of q/k, ``K`` slots (its distinct table
tile rows, padded), ``t = A0 + u*STEP + j*JSTEP + SLOT[u*KS + j]`` with up to 32 slot values captured as
ints and selected by integer arithmetic (``1 - ((1023 + d*d) >> 10)`` is 1 iff ``d == 0`` for
``|d| < 32``), since captures cannot be tuples and kernels cannot index arrays.

* decode (any positions): ``SLOT`` lists each tile row's distinct table tile rows (at most 32 per
  launch; more user tile rows are split over several launches); the selector, ``(rows_t*32) x (K*32)``,
  is built on the host and copied to the device per call.
* prefill (a run ``start, start+1, ...`` that starts on a tile row, or is longer than the slots allow):
  ``t = start//32 + u + j``, ``K = 1`` when ``start % 32 == 0`` (the table tile row is used as is: no
  selector, no matmul) else 2 (selectors: the two shift matrices, cached on the device, shared by all tile
  rows).  A shorter unaligned run takes the decode path (its tile rows need 1 or 2 slots each).

Compile variants: the kernel is cached per plan, i.e. per tuple of table tile rows.  Decode recompiles
when the set of 32-position table tile rows touched by a batch's users changes: every 32 steps for users
in lockstep, up to every step for a batch with staggered positions (each user crosses a tile-row boundary
every 32 steps).  Prefill compiles once per ``(start // 32, start % 32 != 0, rows)``.  The selector values
(positions inside the tile row) are runtime data and never cause a recompile.

Work split: an *item* is one tile row of q/k times a group of its heads (the ``n_q + n_kv`` heads of Q then
K, split into ``G`` groups); items are dealt round-robin over the flattened grid.  Each item gathers its
cos/sin once (``K * (2*DH + 1)`` tiles: table tiles + selectors; ``2*DH`` in aligned prefill) and rotates
its heads (1 x DH blocks).  9 dataflow buffers.
``G`` minimises the modelled time (:func:`head_groups_by_time`): at decode about one head per core, the
lookup tiles then repeated per item.  Every q/k tile is read once and written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch

from .. import runtime
from .._api import as_tile, check_2d, const_key, result, same, tensor_info, wants_torch
from ..host import TILE, TILE_BYTES, TileTensor, empty, tiles, to_device
from ..runtime import ttl
from ..tiling import HeadGroupsOnGrid, fit_grid
from .tables import ROPE_DTYPES, RopeTables, check_head_dim

NSLOT = 32  # table tile-row slots one launch can name


@dataclass(frozen=True)
class RopePlan(HeadGroupsOnGrid):
    """Compile-time shape of one launch (see the module docstring for the address formula)."""

    dt: int  # tiles per head
    n_q: int
    n_kv: int
    u0: int  # first tile row of q/k this launch handles
    tile_rows: int  # tile rows this launch handles
    k: int  # slots (table tile rows) per tile row
    a0: int
    step: int
    jstep: int
    ks: int
    selstep: int
    clamp: int  # 1: the last tile row's slot j reads tile row t - j (prefill past the table's end)
    slots: tuple[int, ...]  # NSLOT ints
    groups: int
    gx: int
    gy: int

    @property
    def dh(self) -> int:
        return self.dt // 2

    @property
    def n_heads(self) -> int:
        return self.n_q + self.n_kv

    @property
    def ident(self) -> bool:
        """Aligned prefill: each tile row's positions are one table tile row in order (selector = identity,
        so the kernel skips the selector and its matmul)."""
        return self.selstep == 0 and self.k == 1

    @property
    def lookup_tiles(self) -> int:
        """Table + selector tiles read per item."""
        return self.k * (2 * self.dh + (0 if self.ident else 1))


# Planner figures, n150 cycles (from the cycle model's counts of this kernel): per item, the cos / sin gather
# for one slot (selector matmuls, hand-offs); per head, the rotation of its 1 x DT tiles; DRAM 288 B per cycle.
_SLOT_CYCLES = 1_500
_HEAD_CYCLES = 1_400
_DRAM_B_PER_CYCLE = 288.0


def head_groups_by_time(tile_rows: int, n_heads: int, dt: int, lookup_tiles: int, k: int, n_cores: int) -> int:
    """Head groups per tile row with the smallest modelled time: the busiest core's gathers and rotations
    against all traffic (q/k read and written once, the lookup tiles once per item) at the DRAM bandwidth; no
    more items than cores, no empty group, the fewest groups among equal times.  Decode-sized calls take
    about one head per core: a head's rotation costs more than the five lookup tiles its core reads."""
    best = None
    for g in range(1, max(1, min(n_heads, n_cores // tile_rows)) + 1):
        hpg = -(-n_heads // g)
        groups = -(-n_heads // hpg)
        items = tile_rows * groups
        compute = -(-items // n_cores) * (k * _SLOT_CYCLES + hpg * _HEAD_CYCLES)
        traffic = (tile_rows * 2 * n_heads * dt + items * lookup_tiles) * TILE_BYTES["bf16"] / _DRAM_B_PER_CYCLE
        key = (max(compute, traffic), groups)
        if best is None or key < best[0]:
            best = (key, groups)
    return best[1]


def _plan(dt, n_q, n_kv, u0, nu, k, a0, step, jstep, ks, selstep, clamp, slots, grid) -> RopePlan:
    slots = tuple(slots) + (0,) * (NSLOT - len(slots))
    p = RopePlan(dt, n_q, n_kv, u0, nu, k, a0, step, jstep, ks, selstep, clamp, slots, 1, 1, 1)
    g = head_groups_by_time(nu, p.n_heads, dt, p.lookup_tiles, p.k, grid[0] * grid[1])
    gx, gy = fit_grid(nu * g, grid)
    return RopePlan(dt, n_q, n_kv, u0, nu, k, a0, step, jstep, ks, selstep, clamp, slots, g, gx, gy)


def plan_rope(positions: list[int], dt: int, n_q: int, n_kv: int, table_rows_t: int,
              grid: tuple[int, int]) -> list[tuple[RopePlan, torch.Tensor]]:
    """Launches for one call: (plan, selector as float32 host tensor) each."""
    rows = len(positions)
    rt = tiles(rows)
    per_row = [sorted({p // TILE for p in positions[u * TILE:(u + 1) * TILE]}) for u in range(rt)]
    k = max(len(s) for s in per_row)
    start = positions[0]
    contiguous = positions == list(range(start, start + rows))
    if contiguous and (start % TILE == 0 or rt * k > NSLOT):
        o = start % TILE
        kp = 1 if o == 0 else 2
        clamp = 1 if start // TILE + rt > table_rows_t - 1 and kp == 2 else 0
        plan = _plan(dt, n_q, n_kv, 0, rt, kp, start // TILE, 1, 1, 0, 0, clamp, (), grid)
        return [(plan, shift_selector(o))]
    launches = []
    per_launch = NSLOT // k
    for u0 in range(0, rt, per_launch):
        nu = min(per_launch, rt - u0)
        slots: list[int] = []
        sel = torch.zeros(nu * TILE, k * TILE)
        for ul in range(nu):
            trs = per_row[u0 + ul]
            padded = trs + [trs[-1]] * (k - len(trs))  # padding slots re-read a tile row, selector rows 0
            slots += padded
            for b, p in enumerate(positions[(u0 + ul) * TILE:(u0 + ul + 1) * TILE]):
                sel[ul * TILE + b, trs.index(p // TILE) * TILE + p % TILE] = 1.0
        plan = _plan(dt, n_q, n_kv, u0, nu, k, 0, 0, 0, k, 1, 0, slots, grid)
        launches.append((plan, sel))
    return launches


def shift_selector(o: int) -> torch.Tensor:
    """Selectors for a tile row of consecutive positions starting at ``32*t + o``: identity (32 x 32) when
    ``o == 0``, else [S0 | S1] (32 x 64) with ``S0[r, r+o] = 1`` (rows in table tile row t) and
    ``S1[r, r+o-32] = 1`` (rows in t+1)."""
    if o == 0:
        return torch.eye(TILE)
    s = torch.zeros(TILE, 2 * TILE)
    for r in range(TILE):
        s[r, r + o if r + o < TILE else TILE + r + o - TILE] = 1.0
    return s


_SELECTORS: dict = {}


def _selector_device(positions: tuple, plan, dtype: str, key: str, sel: torch.Tensor) -> TileTensor:
    """The per-row selector of one rope launch, uploaded once per (positions, plan): the layers of a step share
    it.  Keeps the last few (a step's launches), like an lru cache keyed without the tensor."""
    k = (positions, plan, dtype, key)
    if k not in _SELECTORS:
        if len(_SELECTORS) >= 8:
            _SELECTORS.pop(next(iter(_SELECTORS)))
        _SELECTORS[k] = to_device(sel, dtype)
    return _SELECTORS[k]


@lru_cache(maxsize=64)
def _shift_selector_device(o: int, dtype: str, key: str) -> TileTensor:
    return to_device(shift_selector(o), dtype)


@lru_cache(maxsize=256)
def make_rope(plan: RopePlan, backend: str):
    """Compile-time constants: the plan (see the module docstring); ``backend`` is part of the cache key."""
    GX, NC, NI = plan.gx, plan.n_cores, plan.n_items
    G, HPG, NQ, NH = plan.groups, plan.heads_per_group, plan.n_q, plan.n_heads
    DT, DH, K = plan.dt, plan.dh, plan.k
    U0, NU, A0, STEP, JSTEP, KS = plan.u0, plan.tile_rows, plan.a0, plan.step, plan.jstep, plan.ks
    SELSTEP, CLAMP = plan.selstep, plan.clamp
    IDENT = 1 if plan.ident else 0
    (S00, S01, S02, S03, S04, S05, S06, S07, S08, S09, S10, S11, S12, S13, S14, S15,
     S16, S17, S18, S19, S20, S21, S22, S23, S24, S25, S26, S27, S28, S29, S30, S31) = plan.slots

    @ttl.operation(grid=(plan.gx, plan.gy))
    def rope_op(q, k, cos, sin, sel, q_out, k_out):
        sel_dfb = ttl.make_dataflow_buffer_like(sel, shape=(1, 1), block_count=2)
        ct_dfb = ttl.make_dataflow_buffer_like(cos, shape=(1, DH), block_count=2)
        st_dfb = ttl.make_dataflow_buffer_like(sin, shape=(1, DH), block_count=2)
        c_dfb = ttl.make_dataflow_buffer_like(cos, shape=(1, DH), block_count=2)
        s_dfb = ttl.make_dataflow_buffer_like(sin, shape=(1, DH), block_count=2)
        x1_dfb = ttl.make_dataflow_buffer_like(q, shape=(1, DH), block_count=2)
        x2_dfb = ttl.make_dataflow_buffer_like(q, shape=(1, DH), block_count=2)
        y1_dfb = ttl.make_dataflow_buffer_like(q_out, shape=(1, DH), block_count=2)
        y2_dfb = ttl.make_dataflow_buffer_like(q_out, shape=(1, DH), block_count=2)

        @ttl.compute()
        def compute():
            cx, cy = ttl.node(dims=2)
            for item in range(cy * GX + cx, NI, NC):  # items core, core + NC, ...
                # gather this tile row's cos / sin: sum over slots of selector @ table tile row
                if IDENT == 1:  # aligned prefill: the table tile row is the gathered one
                    with ct_dfb.wait() as cb, st_dfb.wait() as tb:
                        with c_dfb.reserve() as c0, s_dfb.reserve() as s0:
                            c0.store(cb)
                            s0.store(tb)
                else:
                    with sel_dfb.wait() as sb, ct_dfb.wait() as cb, st_dfb.wait() as tb:
                        with c_dfb.reserve() as c0, s_dfb.reserve() as s0:
                            c0.store(sb @ cb)
                            s0.store(sb @ tb)
                    for _slot in range(K - 1):
                        with sel_dfb.wait() as sb, ct_dfb.wait() as cb, st_dfb.wait() as tb:
                            with c_dfb.wait() as cp, c_dfb.reserve() as c1:
                                c1.store(cp + sb @ cb)
                            with s_dfb.wait() as sp, s_dfb.reserve() as s1:
                                s1.store(sp + sb @ tb)
                # rotate the item's heads, half a head (1 x DH tiles) per block
                with c_dfb.wait() as c, s_dfb.wait() as s:
                    for h in range((item % G) * HPG, (item % G) * HPG + HPG):  # the item's group of heads
                        if h < NH:  # (the last group may be shorter)
                            with x1_dfb.wait() as a, x2_dfb.wait() as b:
                                with y1_dfb.reserve() as o1, y2_dfb.reserve() as o2:
                                    o1.store(a * c - b * s)
                                    o2.store(b * c + a * s)

        @ttl.datamovement()
        def reader():
            cx, cy = ttl.node(dims=2)
            for item in range(cy * GX + cx, NI, NC):  # items core, core + NC, ...
                ul = item // G  # tile row of the launch
                ug = U0 + ul  # tile row of q / k
                for j in range(K):
                    # table tile row of slot j: the formula part plus SLOT[ul * KS + j] (term n is 1 iff sl == n)
                    sl = ul * KS + j
                    t = (A0 + ug * STEP + j * JSTEP - CLAMP * j * ((ul + 1) // NU)
                         + S00 * (1 - ((1023 + sl * sl) >> 10))
                         + S01 * (1 - ((1023 + (sl - 1) * (sl - 1)) >> 10))
                         + S02 * (1 - ((1023 + (sl - 2) * (sl - 2)) >> 10))
                         + S03 * (1 - ((1023 + (sl - 3) * (sl - 3)) >> 10))
                         + S04 * (1 - ((1023 + (sl - 4) * (sl - 4)) >> 10))
                         + S05 * (1 - ((1023 + (sl - 5) * (sl - 5)) >> 10))
                         + S06 * (1 - ((1023 + (sl - 6) * (sl - 6)) >> 10))
                         + S07 * (1 - ((1023 + (sl - 7) * (sl - 7)) >> 10))
                         + S08 * (1 - ((1023 + (sl - 8) * (sl - 8)) >> 10))
                         + S09 * (1 - ((1023 + (sl - 9) * (sl - 9)) >> 10))
                         + S10 * (1 - ((1023 + (sl - 10) * (sl - 10)) >> 10))
                         + S11 * (1 - ((1023 + (sl - 11) * (sl - 11)) >> 10))
                         + S12 * (1 - ((1023 + (sl - 12) * (sl - 12)) >> 10))
                         + S13 * (1 - ((1023 + (sl - 13) * (sl - 13)) >> 10))
                         + S14 * (1 - ((1023 + (sl - 14) * (sl - 14)) >> 10))
                         + S15 * (1 - ((1023 + (sl - 15) * (sl - 15)) >> 10))
                         + S16 * (1 - ((1023 + (sl - 16) * (sl - 16)) >> 10))
                         + S17 * (1 - ((1023 + (sl - 17) * (sl - 17)) >> 10))
                         + S18 * (1 - ((1023 + (sl - 18) * (sl - 18)) >> 10))
                         + S19 * (1 - ((1023 + (sl - 19) * (sl - 19)) >> 10))
                         + S20 * (1 - ((1023 + (sl - 20) * (sl - 20)) >> 10))
                         + S21 * (1 - ((1023 + (sl - 21) * (sl - 21)) >> 10))
                         + S22 * (1 - ((1023 + (sl - 22) * (sl - 22)) >> 10))
                         + S23 * (1 - ((1023 + (sl - 23) * (sl - 23)) >> 10))
                         + S24 * (1 - ((1023 + (sl - 24) * (sl - 24)) >> 10))
                         + S25 * (1 - ((1023 + (sl - 25) * (sl - 25)) >> 10))
                         + S26 * (1 - ((1023 + (sl - 26) * (sl - 26)) >> 10))
                         + S27 * (1 - ((1023 + (sl - 27) * (sl - 27)) >> 10))
                         + S28 * (1 - ((1023 + (sl - 28) * (sl - 28)) >> 10))
                         + S29 * (1 - ((1023 + (sl - 29) * (sl - 29)) >> 10))
                         + S30 * (1 - ((1023 + (sl - 30) * (sl - 30)) >> 10))
                         + S31 * (1 - ((1023 + (sl - 31) * (sl - 31)) >> 10)))
                    if IDENT == 0:
                        with sel_dfb.reserve() as sb:
                            ts = ttl.copy(sel[ul * SELSTEP:ul * SELSTEP + 1, j:j + 1], sb)
                            ts.wait()
                    with ct_dfb.reserve() as cb, st_dfb.reserve() as tb:
                        tc = ttl.copy(cos[t:t + 1, 0:DH], cb)
                        tt = ttl.copy(sin[t:t + 1, 0:DH], tb)
                        tc.wait()
                        tt.wait()
                for h in range((item % G) * HPG, (item % G) * HPG + HPG):  # Q heads, then K heads
                    if h < NQ:
                        with x1_dfb.reserve() as a, x2_dfb.reserve() as b:  # the two halves of the head
                            ta = ttl.copy(q[ug:ug + 1, h * DT:h * DT + DH], a)
                            tb2 = ttl.copy(q[ug:ug + 1, h * DT + DH:h * DT + DT], b)
                            ta.wait()
                            tb2.wait()
                    else:
                        if h < NH:
                            with x1_dfb.reserve() as a, x2_dfb.reserve() as b:
                                tka = ttl.copy(k[ug:ug + 1, (h - NQ) * DT:(h - NQ) * DT + DH], a)
                                tkb = ttl.copy(k[ug:ug + 1, (h - NQ) * DT + DH:(h - NQ) * DT + DT], b)
                                tka.wait()
                                tkb.wait()

        @ttl.datamovement()
        def writer():
            cx, cy = ttl.node(dims=2)
            for item in range(cy * GX + cx, NI, NC):
                ug = U0 + item // G
                for h in range((item % G) * HPG, (item % G) * HPG + HPG):
                    if h < NQ:
                        with y1_dfb.wait() as o1, y2_dfb.wait() as o2:
                            tw1 = ttl.copy(o1, q_out[ug:ug + 1, h * DT:h * DT + DH])
                            tw2 = ttl.copy(o2, q_out[ug:ug + 1, h * DT + DH:h * DT + DT])
                            tw1.wait()
                            tw2.wait()
                    else:
                        if h < NH:
                            with y1_dfb.wait() as o1, y2_dfb.wait() as o2:
                                tk1 = ttl.copy(o1, k_out[ug:ug + 1, (h - NQ) * DT:(h - NQ) * DT + DH])
                                tk2 = ttl.copy(o2, k_out[ug:ug + 1, (h - NQ) * DT + DH:(h - NQ) * DT + DT])
                                tk1.wait()
                                tk2.wait()

    return rope_op


def _positions(positions, rows: int, max_seq_len: int) -> list[int]:
    if isinstance(positions, (str, bytes)):
        raise ValueError(f"positions: expected a sequence of ints; got {type(positions).__name__}")
    if isinstance(positions, torch.Tensor):
        if positions.dtype.is_floating_point or positions.dtype == torch.bool:
            raise ValueError(f"positions: expected integers; got a tensor of {positions.dtype}")
        positions = positions.flatten().tolist()
    try:
        pos = [int(p) for p in positions]
    except (TypeError, ValueError):
        raise ValueError(f"positions: expected a sequence of ints; got {type(positions).__name__}") from None
    if any(not float(p).is_integer() for p in positions):
        raise ValueError("positions: expected integers")
    if len(pos) != rows:
        raise ValueError(f"positions: need one position per row of q ({rows}); got {len(pos)}")
    bad = [p for p in pos if not 0 <= p < max_seq_len]
    if bad:
        raise ValueError(f"positions: must lie in [0, {max_seq_len}) (the tables' max_seq_len); got {bad[:4]}")
    return pos


def rope(q, k, tables: RopeTables, positions, *, n_q_heads: int | None = None, n_kv_heads: int | None = None):
    """Rotate Q and K (HF rotate-half) for one position per row; returns ``(q_rot, k_rot)``.

    q: ``rows x (n_q * head_dim)``, k: ``rows x (n_kv * head_dim)`` (bf16 or fp32, the tables' dtype;
    torch tensors or TileTensors).  tables: :class:`RopeTables` (head_dim, max_seq_len).  positions: one
    int per row in ``[0, max_seq_len)``: per user in decode, ``range(start, start + rows)`` in prefill
    (see :func:`rope_prefill`).  ``n_q_heads`` / ``n_kv_heads``, when given, are checked against the
    widths, and ``n_q_heads`` must be a multiple of ``n_kv_heads`` (grouped-query attention)."""
    if not isinstance(tables, RopeTables):
        raise ValueError(f"tables: expected a RopeTables; got {type(tables).__name__}")
    qshape, qdtype = tensor_info(q, "q", ROPE_DTYPES)
    kshape, kdtype = tensor_info(k, "k", ROPE_DTYPES)
    rows, qcols = check_2d(qshape, "q")
    krows, kcols = check_2d(kshape, "k")
    same({"q": rows, "k": krows}, "rows")
    same({"q": qdtype, "k": kdtype}, "dtype")
    if tables.dtype != qdtype:
        raise ValueError(f"tables: dtype {tables.dtype} does not match q's {qdtype}")
    d = check_head_dim(tables.head_dim, "tables")
    if qcols % d:
        raise ValueError(f"q: width must be n_q_heads * head_dim (head_dim {d}); got {qcols}")
    if kcols % d:
        raise ValueError(f"k: width must be n_kv_heads * head_dim (head_dim {d}); got {kcols}")
    n_q, n_kv = qcols // d, kcols // d
    if n_q_heads is not None and n_q_heads != n_q:
        raise ValueError(f"n_q_heads: {n_q_heads} does not match q's width {qcols} = {n_q} heads x {d}")
    if n_kv_heads is not None and n_kv_heads != n_kv:
        raise ValueError(f"n_kv_heads: {n_kv_heads} does not match k's width {kcols} = {n_kv} heads x {d}")
    if n_q % n_kv:
        raise ValueError(f"n_kv_heads: n_q_heads ({n_q}) must be a multiple of n_kv_heads ({n_kv})")
    pos = _positions(positions, rows, tables.max_seq_len)
    backend = runtime.backend_name()
    tq, tk = as_tile(q, qdtype), as_tile(k, kdtype)
    q_out, k_out = empty((rows, qcols), qdtype), empty((rows, kcols), kdtype)
    for plan, sel in plan_rope(pos, d // TILE, n_q, n_kv, tables.rows_t, runtime.grid()):
        if plan.selstep == 0:
            tsel = _shift_selector_device(pos[0] % TILE, qdtype, const_key())  # cached; no per-call copy
        else:  # one selector per (positions, plan): the layers of a step share it (uploaded once a step)
            tsel = _selector_device(tuple(pos), plan, qdtype, const_key(), sel)
        make_rope(plan, backend)(tq.tt, tk.tt, tables.cos.tt, tables.sin.tt, tsel.tt, q_out.tt, k_out.tt)
    as_torch = wants_torch(q)
    return result(q_out, as_torch), result(k_out, as_torch)


def rope_prefill(q, k, tables: RopeTables, start: int = 0, **kw):
    """:func:`rope` for rows at consecutive positions ``start, start + 1, ...``."""
    if not isinstance(start, int) or start < 0:
        raise ValueError(f"start: must be a non-negative int; got {start!r}")
    shape, _ = tensor_info(q, "q", ROPE_DTYPES)
    return rope(q, k, tables, range(start, start + int(shape[0])), **kw)
