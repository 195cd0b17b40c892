"""Compile-time work plans for the decode-attention kernels: which KV chunks each core reads.

There are no runtime scalars in tt-lang 1.1.1, so positions reach the kernels in two parts:

* **compile time** (this module): per group of consecutive users that share the same chunk structure, the
  number of KV chunks each (user, KV head) *segment* needs and how they are split over the cores.  A
  kernel is compiled (and cached) per plan, so a new compile happens only when a user's structure
  changes: for flash decode when ``pos`` crosses a chunk boundary (every S tokens), for the speculative
  kernel when ``P = round_up(pos + 1, 32)`` changes (every 32 tokens; the recent chunk starts at ``P - S``).
* **run time**: an additive mask tensor hides the keys of the boundary chunks that the position excludes
  (see :mod:`._layout`).  Flash decode reads nothing past the chunk holding ``pos`` (at most S - 1 keys
  past it); the speculative kernel nothing past ``P - 1`` (at most 31 keys past ``pos``).

The chunks of a segment form a *virtual sequence* ``v = 0 .. NV-1`` whose KV tile offsets are

    off(v) = v * RT               for v < 2
    off(v) = OB + (v - 2) * CT    for v >= 2          (CT = S / 32 tiles per chunk)

Flash decode: ``RT = CT``, ``OB = 2 CT`` (so ``off(v) = v CT``): chunks ``[0, ceil((pos + 1) / S))``.
Speculative: ``v = 0`` is the sink ``[0, S)``, ``v = 1`` the recent chunk ``[P - S, P)`` (``RT = (P - S) / 32``)
and ``v >= 2`` the middle blocks, aligned to end at ``P - S`` (the first one may overlap the sink; the mask
hides the overlap so no key counts twice).

Work units: a *reducer* unit per segment (speculative only) takes ``v in [0, min(NV, 2))``; the remaining
``v in [VLO, NV)`` of each segment are split into ``NSM`` contiguous *split* units.  Units are numbered
reducers first (``u < NR``), then the split units, and dealt round-robin over the flattened core grid:
core ``k = y * GX + x`` runs units ``k, k + NC, ...``, so the reducers run first, on the first cores.  The
split unit that lands on a reducer's core can be made shorter by the reducer's length (``CRV``; see
:meth:`PartialPlan.unit`, the exact integer arithmetic the kernel threads evaluate).  The planner tries
every ``NSM`` (and ``CRV`` in {0, CR}) and keeps the split with the smallest busiest-core load, counting a
per-unit overhead for Q and the partial results (then the fewest units).  At Llama-3.1-8B heads, batch 1,
on the 8 x 8 grid this gives 64 busy cores with equal KV work from 2K tokens (flash decode from 1K).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..host import TILE_BYTES

TILE = 32


@dataclass(frozen=True)
class PartialPlan:
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

    @property
    def nc(self) -> int:
        return self.gx * self.gy

    @property
    def w(self) -> int:
        """Segments (user, KV head) in the group."""
        return self.nbu * self.nkv

    @property
    def nr(self) -> int:
        return self.w if self.spec else 0

    @property
    def nsm_safe(self) -> int:
        return max(self.nsm, 1)

    @property
    def np(self) -> int:
        """Partial results per segment."""
        return self.spec + self.nsm

    @property
    def nu(self) -> int:
        return self.nr + self.w * self.nsm

    @property
    def iters(self) -> int:
        return -(-self.nu // self.nc)

    # constants of the unit arithmetic (see unit())
    @property
    def wn1(self) -> int:
        return self.w * max(self.nsm - 1, 0)

    @property
    def ns1(self) -> int:
        return max(self.nsm - 1, 1)

    @property
    def big(self) -> int:
        return self.w * self.nsm_safe + 1

    @property
    def span(self) -> int:
        """Length of the virtual sequence the split boundaries are taken from."""
        return self.crv + self.nmid

    def unit(self, u: int) -> tuple[int, int, int, int, int]:
        """``(reducer, seg, lo, hi, p)`` of unit ``u``, with the kernel's integer arithmetic.

        Reducers are units ``[0, NR)``.  Split unit ``j = u - NR``: the ``W (NSM - 1)`` units with ``q >= 1``
        come first (segment-major), the ``W`` units with ``q = 0`` last.  Boundaries ``b_q = q (CRV + NMID) / NSM``
        split ``CRV`` virtual chunks plus the split part of a segment evenly, and unit ``q = 0`` gives up
        the ``CRV`` virtual ones: with ``CRV = CR`` it is as much shorter as the reducer is long, and placed
        last it lands on a reducer's core when ``W NSM`` is a multiple of the core count (the planner's
        search finds such splits when they balance best); ``CRV = 0`` is an even split."""
        nu, nr = self.nu, self.nr
        r = (nr + nu - 1 - u) // nu
        j = u - nr
        z = _cdiv(j + self.big - self.wn1, self.big)
        seg = r * u + (1 - r) * ((1 - z) * _cdiv(j, self.ns1) + z * (j - self.wn1))
        q = (1 - r) * (1 - z) * (1 + _crem(j, self.ns1))
        blo = (q * self.span) // self.nsm_safe
        bhi = ((q + 1) * self.span) // self.nsm_safe
        lo = (1 - r) * (self.vlo + (1 - z) * (blo - self.crv))
        hi = r * self.cr + (1 - r) * (self.vlo + bhi - self.crv)
        p = (1 - r) * (q + self.spec)
        return r, seg, lo, hi, p

    @property
    def cmax(self) -> int:
        """Most chunks any unit runs (the kernel's inner loop bound)."""
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
        loads = [0] * self.nc
        for u in range(self.nu):
            _, _, lo, hi, _ = self.unit(u)
            loads[u % self.nc] += hi - lo
        return loads


def _cdiv(a: int, b: int) -> int:
    """C integer division (truncates toward zero), as the compiled kernels compute it (``arith.divsi``)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _crem(a: int, b: int) -> int:
    return a - b * _cdiv(a, b)


def _overhead(dt: int, ct: int, kv_tile_bytes: int) -> float:
    """Per-unit traffic besides KV (Q read, partial o + lse written and read back), in chunks."""
    per_unit = dt * TILE_BYTES["bf16"] + 2 * (dt * TILE_BYTES["bf16"] + TILE_BYTES["fp32"])
    return per_unit / (2 * ct * dt * kv_tile_bytes)


def _choose_nsm(make, max_units: int, overhead: float, nc: int) -> PartialPlan:
    best = None
    for nsm in range(1, max(1, max_units) + 1):
        for plan in make(nsm):
            if not plan.valid():
                continue
            cost = [0.0] * nc
            for u in range(plan.nu):
                _, _, lo, hi, _ = plan.unit(u)
                cost[u % nc] += hi - lo + overhead
            key = (round(max(cost), 6), plan.nu, -plan.crv)
            if best is None or key < best[0]:
                best = (key, plan)
    return best[1]


def flash_plan(grid, b0: int, nbu: int, nkv: int, dt: int, ct: int, smax_t: int, n_chunks: int, scale: float, kv_tile_bytes: int) -> PartialPlan:
    """Plan for users ``b0 .. b0 + nbu - 1``, each needing ``n_chunks`` chunks of S = 32 ct tokens."""
    gx, gy = grid
    nc = gx * gy
    w = nbu * nkv

    def make(nsm: int) -> list[PartialPlan]:
        return [PartialPlan(gx, gy, b0, nbu, nkv, dt, ct, smax_t, 0, n_chunks, ct, 2 * ct, n_chunks - 1, -1, -1, 0, 0, n_chunks, nsm, 0,
                            b0 * nkv if nsm == 1 else 0, scale, kv_tile_bytes)]

    cap = min(n_chunks, 2 * nc // w + 1)
    return _choose_nsm(make, cap, _overhead(dt, ct, kv_tile_bytes), nc)


def spec_plan(grid, b0: int, nbu: int, nkv: int, dt: int, ct: int, smax_t: int, p_end: int, scale: float, kv_tile_bytes: int) -> PartialPlan:
    """Speculative plan for users sharing ``P = round_up(pos + 1, 32) = p_end`` (tokens)."""
    gx, gy = grid
    nc = gx * gy
    s = ct * TILE
    w = nbu * nkv
    if p_end <= s:
        nv, nm, rt, ob = 1, 0, 0, 0
    else:
        nm = -(-max(p_end - 2 * s, 0) // s)
        nv = 2 + nm
        rt = (p_end - s) // TILE
        ob = (p_end - s - nm * s) // TILE if nm else 2 * ct
    va = 0 if nv == 1 else -1
    vb = 1 if nv >= 2 else -1
    vc = 2 if nm >= 1 and ob < ct else -1
    cr = min(nv, 2)

    def make(nsm: int) -> list[PartialPlan]:
        return [PartialPlan(gx, gy, b0, nbu, nkv, dt, ct, smax_t, 1, nv, rt, ob, va, vb, vc, cr, 2, nm, nsm, crv, 0, scale, kv_tile_bytes)
                for crv in sorted({0, cr if nsm > 1 else 0})]

    if nm == 0:
        return make(0)[0]
    cap = min(nm, 2 * nc // w + 1)
    return _choose_nsm(make, cap, _overhead(dt, ct, kv_tile_bytes), nc)


@dataclass(frozen=True)
class MergePlan:
    """Merge of the partial results: ``items`` work items dealt round-robin over the grid; an item is one
    segment (flash decode) or one user with all its KV heads (speculative, which also sums dist2 / norm2
    over the heads and writes the verdict)."""

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
    def nc(self) -> int:
        return self.gx * self.gy

    @property
    def items(self) -> int:
        return self.nbu if self.verify else self.nbu * self.nkv

    @property
    def hpi(self) -> int:
        """Segments per item."""
        return self.nkv if self.verify else 1

    @property
    def iters(self) -> int:
        return -(-self.items // self.nc)


def groups(keys: list) -> list[tuple[int, int, object]]:
    """Runs of consecutive equal keys: ``[(first, count, key), ...]``."""
    out: list[tuple[int, int, object]] = []
    for b, k in enumerate(keys):
        if out and out[-1][2] == k:
            out[-1] = (out[-1][0], out[-1][1] + 1, k)
        else:
            out.append((b, 1, k))
    return out
