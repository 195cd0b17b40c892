"""Argmax, second operation: merge the per-unit partials of each tile row into the row's id tile.

Tensors, in tiles (plan: :class:`._plan.MergePlan`; a work item is one tile row ``rt``, dealt round-robin over
the flattened grid):

``part``    ``RT x NUC`` fp32 from :mod:`._argmax_partial`: tile ``(rt, cu)`` holds unit ``cu``'s max ``R`` in
            column 0, its tile ``Tm < 256`` in column 1 and its column ``Lm < 32`` in column 2 (0 elsewhere).
``consts``  :func:`._plan.argmax_consts` (bf16): tiles 1 .. 5, the column coefficients ``H``, ``L`` and the
            column selectors ``S0``, ``S1``, ``S2`` (read once per busy core, cast to fp32 in L1).
``out``     ``RT x 1`` fp32 id tiles: row ``r`` holds the id ``i`` in column 0, ``i // 1024`` in column 1,
            ``i % 1024`` in column 2, 0 in the others (the family's id layout, :mod:`._plan`).

Over the units in column order, on whole partial tiles ``P_cu`` (state ``S`` = the best unit's tile)::

    S = P_0,  ua = 0
    for cu = 1 .. NUC-1:
        g  = relu(sign(P_cu - S)) @ S0               column 0 (the max) decides, copied to every column:
                                                     1 iff strictly greater (a tie keeps the earlier unit)
        S  = S + g * (P_cu - S) + (P_cu - P_cu)      takes the unit's R, Tm, Lm; a NaN partial poisons S
        ua = (ua + 1) (1 - g)                        units since the best one
    ub  = (NUC - 1) - ua                             the best unit
    Tm, Lm = S @ S1, S @ S2                          the best tile and column, in every column
    HI  = floor((32 W ub + 32 Tm + Lm) / 1024)       the global id i = 32 W ub + 32 Tm + Lm, split
    LO  = (32 W ub + 32 Tm + Lm) - 1024 HI
    out = HI * H + LO * L                            columns 0, 1, 2: 1024 HI + LO = i, HI, LO

Exactness: the tiles this op loads hold logit values, unit numbers, ``Tm``, ``Lm``, ``HI``, ``LO`` (all below
2048), ``32 W <= 8192`` (a power of two times 256 at most) and 0 / 1 / 1024, all exact in a tf32 source
register; ``i`` itself (up to 2^24) exists only in DST registers, where the SFPU computes in fp32 (exact for
integers below 2^24; ``/ 1024`` multiplies by a power of two).  Reads 1 tile per unit and 5 constant tiles
per busy core, writes 1 tile per tile row.
"""

from __future__ import annotations

from functools import cache

from ..runtime import ttl, ttnn
from ..tiling import block_writer, buffers_like
from ._plan import ID_BASE, MergePlan


@cache
def make_argmax_merge(plan: MergePlan, backend: str):
    """The merge operation for ``plan`` (``backend`` is part of the cache key only)."""
    from ..attention import _simcompat

    _simcompat.install()  # ttl.math.typecast on the 1.1.1 simulator
    GX, NC, RT, NUC = plan.gx, plan.n_cores, plan.rows_t, plan.nuc
    WS = float(plan.w * 32)  # ids per unit (the width of a unit in columns)
    INV = 1.0 / ID_BASE
    BASE = float(ID_BASE)
    ONE = 1.0
    C32 = 32.0
    LAST = float(NUC - 1)

    @ttl.operation(grid=(plan.gx, plan.gy))
    def argmax_merge(part, consts, out):
        p_dfb = ttl.make_dataflow_buffer_like(part, shape=(1, 1), block_count=2)
        k_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=2)
        # constants held by compute for the whole kernel: H, L, S0, S1, S2 (cast to fp32), 32 W, 1 / 1024, 1, 32, 1024
        h_dfb, lc_dfb, s0_dfb, s1_dfb, s2_dfb, ws_dfb, inv_dfb, one_dfb, c32_dfb, base_dfb = buffers_like(part, 10)
        # per tile row: HI, LO; the state S and ua (2 slots); ub, NUC - 1 (a constant), g, g @ S0, Tm, Lm
        hi_dfb, lo_dfb = buffers_like(part, 2)
        st_dfb, ua_dfb = buffers_like(part, 2, block_count=2)
        ub_dfb, last_dfb, g_dfb, gb_dfb, tm_dfb, lm_dfb = buffers_like(part, 6)
        out_dfb = ttl.make_dataflow_buffer_like(out, shape=(1, 1), block_count=2)

        @ttl.datamovement()
        def reader():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            if core < RT:
                for c in range(1, 6):  # consts tiles 1 .. 5: H, L, S0, S1, S2
                    with k_dfb.reserve() as kb:
                        tk = ttl.copy(consts[0:1, c:c + 1], kb)
                        tk.wait()
            for rt in range(core, RT, NC):  # tile rows core, core + NC, ...
                for cu in range(NUC):  # unit cu's partial: tile (rt, cu)
                    with p_dfb.reserve() as pb:
                        tp = ttl.copy(part[rt:rt + 1, cu:cu + 1], pb)
                        tp.wait()

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            if core < RT:
                with k_dfb.wait() as kb, h_dfb.reserve() as cb:
                    cb.store(ttl.math.typecast(kb, ttnn.float32))
                hc = h_dfb.wait()
                with k_dfb.wait() as kb, lc_dfb.reserve() as cb:
                    cb.store(ttl.math.typecast(kb, ttnn.float32))
                lc = lc_dfb.wait()
                with k_dfb.wait() as kb, s0_dfb.reserve() as cb:
                    cb.store(ttl.math.typecast(kb, ttnn.float32))
                s0 = s0_dfb.wait()
                with k_dfb.wait() as kb, s1_dfb.reserve() as cb:
                    cb.store(ttl.math.typecast(kb, ttnn.float32))
                s1 = s1_dfb.wait()
                with k_dfb.wait() as kb, s2_dfb.reserve() as cb:
                    cb.store(ttl.math.typecast(kb, ttnn.float32))
                s2 = s2_dfb.wait()
                with ws_dfb.reserve() as cb:
                    cb.store(ttl.math.fill(cb, WS))
                ws = ws_dfb.wait()
                with inv_dfb.reserve() as cb:
                    cb.store(ttl.math.fill(cb, INV))
                inv = inv_dfb.wait()
                with one_dfb.reserve() as cb:
                    cb.store(ttl.math.fill(cb, ONE))
                one = one_dfb.wait()
                with c32_dfb.reserve() as cb:
                    cb.store(ttl.math.fill(cb, C32))
                c32 = c32_dfb.wait()
                with base_dfb.reserve() as cb:
                    cb.store(ttl.math.fill(cb, BASE))
                base = base_dfb.wait()
                with last_dfb.reserve() as cb:
                    cb.store(ttl.math.fill(cb, LAST))
                last = last_dfb.wait()
                for _rt in range(core, RT, NC):
                    # unit 0 starts the state: S = P_0, ua = 0
                    with p_dfb.wait() as p0, st_dfb.reserve() as sb:
                        sb.store(p0)
                    with ua_dfb.reserve() as uab:
                        uab.store(s0 - one * s0)  # 0 (names s0 and one: every held tile feeds a store)
                    for _cu in range(1, NUC):
                        with p_dfb.wait() as pu, st_dfb.wait() as sv:
                            # g: 1 iff the unit's max (column 0) is strictly greater, in every column
                            with g_dfb.reserve() as gv:
                                gv.store(ttl.math.relu(ttl.math.sign(pu - sv)))
                            with g_dfb.wait() as gv, gb_dfb.reserve() as gbv:
                                gbv.store(gv @ s0)
                            with gb_dfb.wait() as gbv:
                                with st_dfb.reserve() as sn:
                                    sn.store(sv + gbv * (pu - sv) + (pu - pu))
                                with ua_dfb.wait() as u0, ua_dfb.reserve() as u1:
                                    u1.store((u0 + one) * (one - gbv))
                    with ua_dfb.wait() as uaf, ub_dfb.reserve() as ubb:
                        ubb.store(last - uaf)  # the best unit
                    # Tm and Lm copied to every column; a NaN max reaches them through the zero weight
                    with st_dfb.wait() as sf:
                        with tm_dfb.reserve() as tmb:
                            tmb.store(sf @ s1)
                        with lm_dfb.reserve() as lmb:
                            lmb.store(sf @ s2)
                    # i = 32 W ub + 32 Tm + Lm, formed only in DST: HI = i // 1024, LO = i % 1024
                    with ub_dfb.wait() as uf, tm_dfb.wait() as tmb, lm_dfb.wait() as lmb:
                        with hi_dfb.reserve() as hb:
                            hb.store(ttl.math.floor((uf * ws + tmb * c32 + lmb) * inv))
                        with hi_dfb.wait() as hb:
                            with lo_dfb.reserve() as lb:
                                lb.store((uf * ws + tmb * c32 + lmb) - hb * base)
                            with lo_dfb.wait() as lb, out_dfb.reserve() as ob:
                                ob.store(hb * hc + lb * lc)
                hc.pop()
                lc.pop()
                base.pop()
                last.pop()
                s0.pop()
                s1.pop()
                s2.pop()
                ws.pop()
                inv.pop()
                one.pop()
                c32.pop()

        block_writer(out, out_dfb, GX, NC, RT, 1, 1, 1)  # tile row rt's id tile: tile (rt, 0) of out

    return argmax_merge
