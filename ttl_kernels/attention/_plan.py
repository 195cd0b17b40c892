"""Compile-time work plans for the decode-attention kernels: which KV chunks each core reads.

There are no runtime scalars in tt-lang 1.1.1, so positions reach the kernels in two parts:

* **compile time** (this module): per group of consecutive users that share ``P = round_up(pos + 1, 32)``,
  the KV chunks each (user, KV head) *segment* reads and how they are split over the cores.  A kernel is
  compiled (and cached) per plan, so a new compile happens when ``P`` changes (every 32 tokens), for both
  kernels: the last chunk ends at ``P``, so no tile at or past ``P`` is ever read (whatever a device
  allocation holds there, NaN and Inf included, never reaches the arithmetic).
* **run time**: an additive mask tensor hides the keys of the boundary chunks that the position excludes
  (see :mod:`._layout`): keys past ``pos`` (at most 31, in the tile holding ``pos``) and keys a chunk shares
  with another one.

The chunks of a segment form a *virtual sequence* ``v = 0 .. nv-1`` whose KV tile offsets are

    off(v) = v * rt               for v < 2
    off(v) = ob + (v - 2) * ct    for v >= 2          (ct = S / 32 tiles per chunk)

Both kernels (:func:`_geometry`): ``v = 0`` is the sink ``[0, S)``, ``v = 1`` the recent chunk ``[P - S, P)``
(``rt = (P - S) / 32``; when ``P < 2 S`` it overlaps the sink and the mask hides the overlap) and ``v >= 2`` the
middle blocks, aligned to end at ``P - S`` (the first one may overlap the sink; the mask hides the overlap so
no key counts twice).  When ``P <= S`` the one chunk is ``[0, P)``: the plan's chunk is ``P / 32`` tiles.
Flash decode reads ``ceil(P / S)`` chunks (as many as the chunks up to the one holding ``pos``), the
speculative kernel the same; its approximation reads only ``v < 2``.

Work units: a *reducer* unit per segment (speculative only) takes ``v in [0, min(nv, 2))``; the remaining
``v in [vlo, nv)`` of each segment are split into ``nsm`` contiguous *split* units.  Units are numbered
reducers first (``u < nr``), then the split units, and dealt round-robin over the flattened core grid:
core ``k = y * gx + x`` runs units ``k, k + nc, ...``, so the reducers run first, on the first cores.  The
split unit that lands on a reducer's core can be made shorter by the reducer's length (``crv``; see
:func:`unit_chunks`, the exact integer arithmetic the kernel threads evaluate).  The planner tries
every ``nsm`` (and ``crv`` in {0, cr}) and keeps the split with the smallest modelled time (:func:`plan_cost`:
the busiest core's compute and DRAM share, the chip's DRAM floor, and the merge, which grows with ``nsm``), then
the fewest units.  At Llama-3.1-8B heads, batch 1, on the 8 x 8 grid this gives 64 busy cores with equal KV work
from 2K tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..host import TILE_BYTES
from ..tiling import ItemsOnGrid

TILE = 32


def unit_chunks(u, N_UNITS, N_REDUCERS, REDUCER_LEN, SPLITS, N_LATER, LATER_PER_SEG, STEP, SPLIT_FROM, SPAN, GIVE_UP):
    """Work unit ``u`` -> ``(reducer, seg, split, lo, hi)``: the unit's kind (1 reducer, 0 split unit), its
    segment, its split index ``q`` (``split``) and its chunk range ``[lo, hi)`` in the segment's virtual sequence.

    The one definition of the unit arithmetic.  TT-Lang 1.1.1 compiles a thread from its source and has no
    calls to Python functions inside a thread (the compiler stops with ``Function ... not supported``), so
    the reader, compute and writer threads of :mod:`._partial` repeat these lines word for word, branch-free
    integer arithmetic that the simulator evaluates in Python and the compiler in C
    (``tests/test_kernel_parity_attention.py`` checks that the threads' lines are these).

    Units ``[0, N_REDUCERS)`` are the reducers (one per segment, chunks ``[0, REDUCER_LEN)``).  Split unit
    ``j = u - N_REDUCERS``: the ``N_LATER = W (SPLITS - 1)`` units with ``q >= 1`` come first (segment-major,
    ``LATER_PER_SEG`` per segment), the ``W`` units with ``q = 0`` last.  Boundaries
    ``b_q = q SPAN / SPLITS`` split ``GIVE_UP`` virtual chunks plus the split part of a segment (from chunk
    ``SPLIT_FROM``) evenly, and unit ``q = 0`` gives up the ``GIVE_UP`` virtual ones: with
    ``GIVE_UP = REDUCER_LEN`` it is as much shorter as the reducer is long, and placed last it lands on a
    reducer's core when ``W SPLITS`` is a multiple of the core count (the planner's search finds such splits
    when they balance best); ``GIVE_UP = 0`` is an even split.  ``STEP`` is any number larger than every
    ``|j - N_LATER|``, so ``(j + STEP - N_LATER) // STEP`` is 1 exactly when ``j >= N_LATER``.  Python's
    floor division and C's truncating one differ only for negative ``j`` (the reducers), and every such
    term is multiplied by ``1 - reducer = 0``."""
    reducer = (N_REDUCERS + N_UNITS - 1 - u) // N_UNITS  # 1: a reducer unit (u < N_REDUCERS)
    j = u - N_REDUCERS  # index among the split units
    q0 = (j + STEP - N_LATER) // STEP  # 1: a q = 0 split unit (they come after the q >= 1 ones)
    split = (1 - reducer) * (1 - q0) * (1 + j % LATER_PER_SEG)  # split index q inside the segment
    seg = reducer * u + (1 - reducer) * ((1 - q0) * (j // LATER_PER_SEG) + q0 * (j - N_LATER))
    lo = (1 - reducer) * (SPLIT_FROM + (1 - q0) * ((split * SPAN) // SPLITS - GIVE_UP))
    hi = reducer * REDUCER_LEN + (1 - reducer) * (SPLIT_FROM + ((split + 1) * SPAN) // SPLITS - GIVE_UP)
    return reducer, seg, split, lo, hi


@dataclass(frozen=True)
class PartialPlan(ItemsOnGrid):
    """Compile-time plan of one partial-attention operation; its work items are the units."""

    gx: int
    gy: int
    b0: int  # first user of the group
    nbu: int  # users in the group
    nkv: int
    dt: int  # head_dim tiles
    ct: int  # chunk tiles (S / 32)
    smax_t: int  # S_max tiles per segment
    spec: int  # 1: speculative (reducer unit per segment), 0: flash decode
    nv: int  # chunks in a segment's virtual sequence
    rt: int  # tile offset of v = 1
    ob: int  # tile offset of v = 2
    va: int  # v masked with slot 0 (-1: none)
    vb: int  # v masked with slot 1
    vc: int  # v masked with slot 2
    cr: int  # chunks of a reducer unit
    vlo: int  # first v of the split part
    nmid: int  # chunks of the split part
    nsm: int  # split units per segment
    crv: int  # chunks the q = 0 split unit gives up to make room for the reducer on its core (0 or cr)
    obase: int  # row-tile offset of the partial o writes (nonzero when o goes straight to the output)
    scale: float
    kv_tile_bytes: int = field(default=TILE_BYTES["bf16"], compare=False)
    shared_kv: int = 0  # 1: every user's queries read user 0's cache region (speculative block verification)
    cast: int = 0  # 1: the cache is bfloat8_b (one typecast to bf16 per K / V tile in L1); 0: bf16 (no typecast)
    sup: int = 8  # most chunks of a super-chunk (scores held in L1 between the two passes)

    @property
    def nc(self) -> int:
        """Cores of the grid (:attr:`n_cores`)."""
        return self.n_cores

    @property
    def w(self) -> int:
        """Segments (user, KV head) in the group."""
        return self.nbu * self.nkv

    @property
    def nr(self) -> int:
        """Reducer units."""
        return self.w if self.spec else 0

    @property
    def np(self) -> int:
        """Partial results per segment."""
        return self.spec + self.nsm

    @property
    def nu(self) -> int:
        """Work units: the reducers, then ``nsm`` split units per segment."""
        return self.nr + self.w * self.nsm

    @property
    def n_items(self) -> int:
        return self.nu

    @property
    def unit_constants(self) -> tuple[int, ...]:
        """The constants of :func:`unit_chunks` after ``u``, in its order."""
        splits = max(self.nsm, 1)
        n_later = self.w * max(self.nsm - 1, 0)
        return (self.nu, self.nr, self.cr, splits, n_later, max(self.nsm - 1, 1), self.w * splits + 1, self.vlo,
                self.crv + self.nmid, self.crv)

    def unit(self, u: int) -> tuple[int, int, int, int, int]:
        """``(reducer, seg, lo, hi, p)`` of unit ``u`` (:func:`unit_chunks`; ``p`` is its partial slot)."""
        reducer, seg, split, lo, hi = unit_chunks(u, *self.unit_constants)
        return reducer, seg, lo, hi, (1 - reducer) * (split + self.spec)

    @property
    def cmax(self) -> int:
        """Most chunks any unit runs."""
        return max(hi - lo for _, _, lo, hi, _ in (self.unit(u) for u in range(self.nu)))

    def valid(self) -> bool:
        """Every unit has at least one chunk."""
        return all(hi > lo for _, _, lo, hi, _ in (self.unit(u) for u in range(self.nu)))

    def offset(self, v: int) -> int:
        """KV tile offset of chunk ``v`` inside its segment."""
        ge2 = (v // 2 + self.nv) // (self.nv + 1)
        return (1 - ge2) * v * self.rt + ge2 * (self.ob + (v - 2) * self.ct)

    def core_chunks(self) -> list[int]:
        """KV chunks each core of the grid reads."""
        loads = [0] * self.n_cores
        for u in range(self.nu):
            _, _, lo, hi, _ = self.unit(u)
            loads[u % self.n_cores] += hi - lo
        return loads


# Planner cost figures, in cycles of one core (from the cycle model's counts of the kernel at S = 128, head_dim
# 128 on n150; only their ratios to the DRAM time matter, so the p150 clock is folded into its bandwidth).
_CHUNK_CYCLES = 12_500  # pass 1 + pass 2 of one chunk, bf16 cache (per tile of K and V: ~390 cycles)
_CAST_CYCLES = 6_500  # extra per chunk for a bfloat8_b cache (K and V typecast to bf16)
_SUPER_CYCLES = 11_000  # per super-chunk: row max (selectors + butterfly), new max, rescale, broadcast
_UNIT_CYCLES = 7_000  # per unit: Q scaling, state init, the normalised result
_MERGE_PART_CYCLES = 3_500  # merge, per partial of a segment (one exp, the weighted sum)
_MERGE_CYCLES = 6_000  # merge, per segment, plus one launch
# DRAM bytes per cycle of the whole chip and NoC bytes per cycle of one core (n150: 288 GB/s at 1 GHz, 25.3 B/cycle;
# p150: 512 GB/s at 1.35 GHz, 60.9 B/cycle), told apart by the grid size
_DRAM_B_PER_CYCLE = {64: 288.0, 130: 512.0 / 1.35}
_NOC_B_PER_CYCLE = {64: 25.3, 130: 60.9}


def plan_cost(plan: PartialPlan) -> float:
    """Modelled cycles of ``plan`` (partial op + merge): the busiest core's max(compute, DRAM share), floored by
    the chip's DRAM bandwidth over all bytes.  A rough copy of :mod:`ttl_kernels.perf.model` for the planner."""
    nc = plan.n_cores
    bw = _DRAM_B_PER_CYCLE.get(nc, 288.0 * nc / 64)
    noc = _NOC_B_PER_CYCLE.get(nc, 25.3)
    chunk_b = 2 * plan.ct * plan.dt * plan.kv_tile_bytes
    unit_b = (plan.dt + (plan.dt + 2) * (plan.np > 1)) * TILE_BYTES["bf16"]  # Q, and the partial when merged
    const_b = (4 * plan.ct + 2) * TILE_BYTES["bf16"]
    chunk_c = _CHUNK_CYCLES + _CAST_CYCLES * plan.cast
    comp = [0.0] * nc
    byts = [0.0] * nc
    for u in range(plan.nu):
        _, _, lo, hi, _ = plan.unit(u)
        n = hi - lo
        k = u % nc
        comp[k] += n * chunk_c + -(-n // plan.sup) * _SUPER_CYCLES + _UNIT_CYCLES
        byts[k] += n * chunk_b + unit_b + (const_b if byts[k] == 0 else 0.0)
    active = sum(1 for b in byts if b)
    share = max(bw / max(active, 1), 0.0)
    core = max(max(c, b / min(share, noc)) for c, b in zip(comp, byts))
    body = max(core, sum(byts) / bw)
    merge = 0.0
    if plan.np > 1:
        merge = plan.np * _MERGE_PART_CYCLES + _MERGE_CYCLES
    return body + merge


def _choose_nsm(make, max_units: int) -> PartialPlan:
    best = None
    for nsm in range(1, max(1, max_units) + 1):
        for plan in make(nsm):
            if not plan.valid():
                continue
            key = (round(plan_cost(plan), 1), plan.nu, -plan.crv)
            if best is None or key < best[0]:
                best = (key, plan)
    return best[1]


def _geometry(ct: int, p_end: int) -> tuple[int, int, int, int, int, int, int]:
    """``(ct, nv, rt, ob, nm, vb, vc)`` of a segment needing keys ``[0, P)``: the sink ``[0, S)`` (``v = 0``), the
    recent chunk ``[P - S, P)`` (``v = 1``) and ``nm`` middle chunks aligned to end at ``P - S`` (``v >= 2``).  When
    ``P < S`` the only chunk is ``[0, P)``: its block is ``P / 32`` tiles (so no tile at or past ``P`` is ever read)."""
    s = ct * TILE
    if p_end <= s:
        return p_end // TILE, 1, 0, 0, 0, -1, -1
    nm = -(-max(p_end - 2 * s, 0) // s)
    rt = (p_end - s) // TILE
    ob = (p_end - s - nm * s) // TILE if nm else 2 * ct
    vc = 2 if nm >= 1 and ob < ct else -1
    return ct, 2 + nm, rt, ob, nm, 1, vc


def flash_plan(grid, b0: int, nbu: int, nkv: int, dt: int, ct: int, smax_t: int, p_end: int, scale: float,
               kv_tile_bytes: int, cast: int = 0) -> PartialPlan:
    """Plan for users ``b0 .. b0 + nbu - 1`` sharing ``P = round_up(pos + 1, 32) = p_end`` (tokens): the chunks of
    :func:`_geometry` (no tile at or past ``P`` is read), split over the grid into work units."""
    gx, gy = grid
    nc = gx * gy
    w = nbu * nkv
    ct, nv, rt, ob, _, vb, vc = _geometry(ct, p_end)
    va = 0 if nv == 1 else -1

    def make(nsm: int) -> list[PartialPlan]:
        return [PartialPlan(gx, gy, b0, nbu, nkv, dt, ct, smax_t, 0, nv, rt, ob, va, vb, vc, 0, 0, nv, nsm, 0,
                            b0 * nkv if nsm == 1 else 0, scale, kv_tile_bytes, cast=cast)]

    cap = min(nv, 2 * nc // w + 1)
    return _choose_nsm(make, cap)


def spec_plan(grid, b0: int, nbu: int, nkv: int, dt: int, ct: int, smax_t: int, p_end: int, scale: float,
              kv_tile_bytes: int, cast: int = 0) -> PartialPlan:
    """Speculative plan for users sharing ``P = round_up(pos + 1, 32) = p_end`` (tokens)."""
    gx, gy = grid
    nc = gx * gy
    w = nbu * nkv
    ct, nv, rt, ob, nm, vb, vc = _geometry(ct, p_end)
    va = 0 if nv == 1 else -1
    cr = min(nv, 2)

    def make(nsm: int) -> list[PartialPlan]:
        crvs = sorted({0, cr if nsm > 1 else 0})
        return [PartialPlan(gx, gy, b0, nbu, nkv, dt, ct, smax_t, 1, nv, rt, ob, va, vb, vc, cr, 2, nm, nsm, crv, 0,
                            scale, kv_tile_bytes, cast=cast) for crv in crvs]

    if nm == 0:
        return make(0)[0]
    cap = min(nm, 2 * nc // w + 1)
    return _choose_nsm(make, cap)


@dataclass(frozen=True)
class MergePlan(ItemsOnGrid):
    """Merge of the partial results: one work item per segment, dealt round-robin over the grid.  With
    ``verify`` (speculative) each segment also writes its share of dist2 / norm2, and a second operation
    (:func:`.merge.make_merge_op`) sums them per user over the KV heads and writes the verdict."""

    gx: int
    gy: int
    b0: int
    nbu: int
    nkv: int
    dt: int
    np: int
    verify: int
    lam2: float = 0.0

    @property
    def n_items(self) -> int:
        return self.nbu * self.nkv

    @property
    def hpi(self) -> int:
        """Segments per item."""
        return 1


def groups(keys: list) -> list[tuple[int, int, object]]:
    """Runs of consecutive equal keys: ``[(first, count, key), ...]``."""
    out: list[tuple[int, int, object]] = []
    for b, k in enumerate(keys):
        if out and out[-1][2] == k:
            out[-1] = (out[-1][0], out[-1][1] + 1, k)
        else:
            out.append((b, 1, k))
    return out
