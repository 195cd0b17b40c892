"""Split-KV partial attention: each work unit runs flash attention over a run of KV chunks of one
(user, KV head) segment and writes its partial ``(o, m, l)`` to DRAM.

Shapes in tiles (Dt = D / 32, Ct = S / 32; one tile row of Q holds the G query heads of one KV head):

* ``q``      (1, Dt)   decode Q tile row of the segment (layout in :mod:`._layout`), scaled here:
  ``qs = (scale * I) @ q`` (a single-tile fill and a matmul; no multi-tile fill).
* ``k, v``   (Ct, Dt)  one chunk of S tokens of the cache (bf16 or bfloat8_b in DRAM), converted to bf16
  in L1 by two ``typecast`` s through float32 (1.1.1 rejects a typecast to the same dtype and compiles
  both arms of a compile-time ``if``, so one path must serve both cache dtypes); K is then transposed
  in L1 to (Dt, Ct).
* ``mask``   (1, Ct)   additive mask (0 / NEG), read only for the chunks the plan marks as masked.
* ``s``      (1, Ct)   scores ``qs @ K^T (+ mask)``; ``p = exp(s - m)``.
* running state per unit (2-slot ping-pong buffers): ``m`` (1, 1) row max, ``l`` (1, 1) row sum,
  ``acc`` (1, Dt) unnormalised output.  Every (1, 1) value is *row-constant* (the 32 columns of a row hold
  the same value), which makes ``diag(a) = a * I`` a per-row scale: ``acc' = diag(a) @ acc``.
* result per unit: ``o = diag(1 / l) @ acc`` (1, Dt), and ``m``, ``l`` (1 tile each); the merge
  (:mod:`.merge`) weights ``o`` by ``l exp(m - M)``.  A speculative reducer unit writes its ``o`` straight to
  the speculative output: it *is* the normalised sink + recent attention.

All tiles are bf16 (the 1.1.1 compiler requires every operand of an op and its destination buffer to share
one dtype); the simulator computes them in float32 unless told otherwise.  The running max starts at
``NEG = -1e30`` and masked scores are ``s + NEG``, so their ``exp(. - m)`` is exactly 0 in the simulator
(an SFPU ``exp`` of such arguments is expected to flush to 0 too; not checked on silicon).  Every processed
chunk has at least one visible key, so no row's max is ever a masked value.

Portable 1.1.1 dialect (identical semantics on the simulator and the compiler): the row max over a chunk
is the tile-wise max of ``s @ E_i`` (tile selectors), then a 5-step butterfly ``w = max(w, w @ P_k)`` with
cyclic column shifts k = 16, 8, 4, 2, 1; row sums are ``p @ ONES``; the per-row broadcast of ``m`` over the
chunk is ``diag(m) @ ONES``.  Of the constants only ``P_1``, the ``E_i`` and ``I`` come from DRAM
(``4 Ct + 2`` tiles per busy core, 18 at S = 128); ``P_2k = P_k @ P_k``, ``ONES (Ct x 1) = (sum E_i) @ ONES_1``
(a filled tile) and its transpose are derived in L1 once per core.  Every matmul is stored alone (or as ``prev + a @ b``), ``fill`` only touches single
tiles, state goes through 2-slot buffers and no buffer is waited on twice at once.  31 dataflow buffers
(Wormhole allows 32); short-lived temporaries share buffers (``d`` is the butterfly's matmul temp and the
diag tile; ``p`` holds the broadcast max, then ``p``).

Work split (:mod:`._plan`): unit ``u`` runs on core ``u % NC`` of the flattened grid (both coordinates);
the reader, compute and writer threads evaluate the same integer arithmetic to find the unit's segment,
its chunk range ``[lo, hi)`` and its partial slot.
"""

from __future__ import annotations

from functools import cache

from ..runtime import ttl, ttnn
from . import _simcompat
from ._layout import C_EYE, C_PERM, C_SEL_TILE, NEG
from ._plan import PartialPlan


@cache
def make_partial_op(plan: PartialPlan, backend: str):
    """The partial-attention operation for ``plan`` (``backend`` is part of the cache key only)."""
    _simcompat.install()
    GX, NC, NU, ITERS = plan.gx, plan.nc, plan.nu, plan.iters
    NR, NSMS, VLO, CR, SPEC, NP = plan.nr, plan.nsm_safe, plan.vlo, plan.cr, plan.spec, plan.np
    BIG, WN1, NS1, SPAN, CRV = plan.big, plan.wn1, plan.ns1, plan.span, plan.crv
    NV, RT, OB, CT, DT, CMAX = plan.nv, plan.rt, plan.ob, plan.ct, plan.dt, plan.cmax
    VA, VB, VC = plan.va, plan.vb, plan.vc
    B0, B0NKV, NKV, SMAX_T, OBASE = plan.b0, plan.b0 * plan.nkv, plan.nkv, plan.smax_t, plan.obase
    SHKV = plan.shared_kv
    SCALE = float(plan.scale)
    NEGV = NEG
    CP, CS, CE = C_PERM, C_SEL_TILE, C_EYE

    @ttl.operation(grid=(plan.gx, plan.gy))
    def partial_attention(q, k, v, mask, consts, f32, o_part, ml_part, spec_out):
        # inputs (reader -> compute)
        q_dfb = ttl.make_dataflow_buffer_like(q, shape=(1, DT), block_count=2)
        k_dfb = ttl.make_dataflow_buffer_like(k, shape=(CT, DT), block_count=2)
        v_dfb = ttl.make_dataflow_buffer_like(v, shape=(CT, DT), block_count=2)
        mask_dfb = ttl.make_dataflow_buffer_like(mask, shape=(1, CT), block_count=1)
        # constant tiles, held by the compute thread for the whole kernel
        p16_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        p8_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        p4_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        p2_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        p1_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        e0_dfb = ttl.make_dataflow_buffer_like(consts, shape=(CT, 1), block_count=1)
        e1_dfb = ttl.make_dataflow_buffer_like(consts, shape=(CT, 1), block_count=1)
        e2_dfb = ttl.make_dataflow_buffer_like(consts, shape=(CT, 1), block_count=1)
        e3_dfb = ttl.make_dataflow_buffer_like(consts, shape=(CT, 1), block_count=1)
        eye_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        onesc_dfb = ttl.make_dataflow_buffer_like(consts, shape=(CT, 1), block_count=2)
        selc_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, CT), block_count=1)
        # compute intermediates (bf16; consts is a large enough 'like' tensor for every block shape)
        kv32_dfb = ttl.make_dataflow_buffer_like(f32, shape=(CT, DT), block_count=1)
        kv16_dfb = ttl.make_dataflow_buffer_like(consts, shape=(CT, DT), block_count=1)
        qs_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, DT), block_count=1)
        kt_dfb = ttl.make_dataflow_buffer_like(consts, shape=(DT, CT), block_count=1)
        s_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, CT), block_count=1)
        w_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=2)
        mn_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        p_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, CT), block_count=2)  # m broadcast, then p
        al_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        d_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        # running state (ping-pong)
        mx_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=2)
        l_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=2)
        acc_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, DT), block_count=2)
        # results (compute -> writer): o, then m and l one after the other through one 2-slot buffer
        po_dfb = ttl.make_dataflow_buffer_like(o_part, shape=(1, DT), block_count=2)
        ml_dfb = ttl.make_dataflow_buffer_like(ml_part, shape=(1, 1), block_count=2)

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            if core < NU:
                # constant tiles, held for every unit and popped at the end.  DRAM gives P_1, the 4 tile
                # selectors (4 Ct tiles; past Ct they repeat E_0, which leaves the max unchanged) and I; the
                # rest is derived here (a buffer has one producer thread, so these are compute's alone).
                e0 = e0_dfb.wait()
                e1 = e1_dfb.wait()
                e2 = e2_dfb.wait()
                e3 = e3_dfb.wait()
                eye = eye_dfb.wait()
                # cyclic shifts P_2k = P_k @ P_k (exact: one 1 per row and column)
                p1 = p1_dfb.wait()
                with p2_dfb.reserve() as cb:
                    cb.store(p1 @ p1)
                p2 = p2_dfb.wait()
                with p4_dfb.reserve() as cb:
                    cb.store(p2 @ p2)
                p4 = p4_dfb.wait()
                with p8_dfb.reserve() as cb:
                    cb.store(p4 @ p4)
                p8 = p8_dfb.wait()
                with p16_dfb.reserve() as cb:
                    cb.store(p8 @ p8)
                p16 = p16_dfb.wait()
                # ONES (Ct x 1) = (E_0 + .. + E_{Ct-1}) @ ONES_1, and its transpose ONES (1 x Ct)
                with onesc_dfb.reserve() as cb:
                    if CT == 1:
                        cb.store(e0)
                    else:
                        if CT == 2:
                            cb.store(e0 + e1)
                        else:
                            if CT == 3:
                                cb.store(e0 + e1 + e2)
                            else:
                                cb.store(e0 + e1 + e2 + e3)
                with d_dfb.reserve() as d:
                    d.store(ttl.math.fill(d, 1.0))
                with onesc_dfb.wait() as jb, d_dfb.wait() as d, onesc_dfb.reserve() as cb:
                    cb.store(jb @ d)
                onesc = onesc_dfb.wait()
                with selc_dfb.reserve() as cb:
                    cb.store(ttl.math.transpose(onesc))
                selc = selc_dfb.wait()
                for it in range(ITERS):
                    u = it * NC + core
                    if u < NU:
                        # unit -> chunk range [lo, hi): the integer arithmetic of _plan.PartialPlan.unit
                        r = (NR + NU - 1 - u) // NU
                        j = u - NR
                        z = (j + BIG - WN1) // BIG
                        qq = (1 - r) * (1 - z) * (1 + j % NS1)
                        lo = (1 - r) * (VLO + (1 - z) * ((qq * SPAN) // NSMS - CRV))
                        hi = r * CR + (1 - r) * (VLO + ((qq + 1) * SPAN) // NSMS - CRV)
                        with mx_dfb.reserve() as m:
                            m.store(ttl.math.fill(m, NEGV))
                        with l_dfb.reserve() as l:
                            l.store(ttl.math.fill(l, 0.0))
                        # qs = (scale * I) @ q
                        with q_dfb.wait() as qb:
                            with d_dfb.reserve() as d:
                                d.store(ttl.math.fill(d, SCALE))
                            with d_dfb.wait() as d, al_dfb.reserve() as sci:
                                sci.store(d * eye)
                            with al_dfb.wait() as sci, qs_dfb.reserve() as qsn:
                                qsn.store(sci @ qb)
                        with qs_dfb.wait() as qs:
                            # acc = 0 (a zero tile @ qs: no multi-tile fill)
                            with d_dfb.reserve() as d:
                                d.store(ttl.math.fill(d, 0.0))
                            with d_dfb.wait() as d, acc_dfb.reserve() as a:
                                a.store(d @ qs)
                            for i in range(CMAX):
                                vv = lo + i
                                if vv < hi:
                                    # s = qs @ K^T (+ mask): (1, Dt) @ (Dt, Ct)
                                    # K chunk -> bf16 in L1 (through fp32: a typecast must change the dtype)
                                    with k_dfb.wait() as kb, kv32_dfb.reserve() as kw:
                                        kw.store(ttl.math.typecast(kb, ttnn.float32))
                                    with kv32_dfb.wait() as kw, kv16_dfb.reserve() as kc:
                                        kc.store(ttl.math.typecast(kw, ttnn.bfloat16))
                                    with kv16_dfb.wait() as kc, kt_dfb.reserve() as kt:
                                        kt.store(ttl.math.transpose(kc))
                                    with kt_dfb.wait() as kt, s_dfb.reserve() as sn:
                                        if (vv == VA) or (vv == VB) or (vv == VC):
                                            with mask_dfb.wait() as mk:
                                                sn.store(mk + qs @ kt)
                                        else:
                                            sn.store(qs @ kt)
                                    with s_dfb.wait() as sc:
                                        # row max: tile-wise max of the Ct tiles (selectors past Ct pick
                                        # tile 0 again), then the butterfly over the 32 columns
                                        with w_dfb.reserve() as w:
                                            w.store(sc @ e0)
                                        with d_dfb.reserve() as t:
                                            t.store(sc @ e1)
                                        with w_dfb.wait() as wa, d_dfb.wait() as t, w_dfb.reserve() as wb:
                                            wb.store(ttl.math.max(wa, t))
                                        with d_dfb.reserve() as t:
                                            t.store(sc @ e2)
                                        with w_dfb.wait() as wa, d_dfb.wait() as t, w_dfb.reserve() as wb:
                                            wb.store(ttl.math.max(wa, t))
                                        with d_dfb.reserve() as t:
                                            t.store(sc @ e3)
                                        with w_dfb.wait() as wa, d_dfb.wait() as t, w_dfb.reserve() as wb:
                                            wb.store(ttl.math.max(wa, t))
                                        with w_dfb.wait() as wa:
                                            with d_dfb.reserve() as t:
                                                t.store(wa @ p16)
                                            with d_dfb.wait() as t, w_dfb.reserve() as wb:
                                                wb.store(ttl.math.max(wa, t))
                                        with w_dfb.wait() as wa:
                                            with d_dfb.reserve() as t:
                                                t.store(wa @ p8)
                                            with d_dfb.wait() as t, w_dfb.reserve() as wb:
                                                wb.store(ttl.math.max(wa, t))
                                        with w_dfb.wait() as wa:
                                            with d_dfb.reserve() as t:
                                                t.store(wa @ p4)
                                            with d_dfb.wait() as t, w_dfb.reserve() as wb:
                                                wb.store(ttl.math.max(wa, t))
                                        with w_dfb.wait() as wa:
                                            with d_dfb.reserve() as t:
                                                t.store(wa @ p2)
                                            with d_dfb.wait() as t, w_dfb.reserve() as wb:
                                                wb.store(ttl.math.max(wa, t))
                                        with w_dfb.wait() as wa, mx_dfb.wait() as m0:
                                            with d_dfb.reserve() as t:
                                                t.store(wa @ p1)
                                            # new running max, p = exp(s - m_new), alpha = exp(m_old - m_new)
                                            with d_dfb.wait() as t, mn_dfb.reserve() as mn:
                                                mn.store(ttl.math.max(m0, ttl.math.max(wa, t)))
                                            with mn_dfb.wait() as mn:
                                                # per-row broadcast of the new max: diag(m) @ ONES (1 x Ct);
                                                # p_dfb holds it first, then p (2 slots)
                                                with d_dfb.reserve() as d:
                                                    d.store(mn * eye)
                                                with d_dfb.wait() as d, p_dfb.reserve() as mb:
                                                    mb.store(d @ selc)
                                                with p_dfb.wait() as mb, p_dfb.reserve() as pn:
                                                    pn.store(ttl.math.exp(sc - mb))
                                                with al_dfb.reserve() as al:
                                                    al.store(ttl.math.exp(m0 - mn))
                                                with mx_dfb.reserve() as m1:
                                                    m1.store(mn)
                                    # l = alpha l + rowsum(p); acc = diag(alpha) @ acc + p @ V
                                    with al_dfb.wait() as al:
                                        with d_dfb.reserve() as d:
                                            d.store(al * eye)
                                        with l_dfb.wait() as l0, l_dfb.reserve() as l1:
                                            l1.store(al * l0)
                                    with d_dfb.wait() as d, acc_dfb.wait() as a0, acc_dfb.reserve() as a1:
                                        a1.store(d @ a0)
                                    with p_dfb.wait() as pb:
                                        with l_dfb.wait() as l0, l_dfb.reserve() as l1:
                                            l1.store(l0 + pb @ onesc)
                                        with v_dfb.wait() as vb, kv32_dfb.reserve() as vw:
                                            vw.store(ttl.math.typecast(vb, ttnn.float32))
                                        with kv32_dfb.wait() as vw, kv16_dfb.reserve() as vc:
                                            vc.store(ttl.math.typecast(vw, ttnn.bfloat16))
                                        with kv16_dfb.wait() as vc, acc_dfb.wait() as a0, acc_dfb.reserve() as a1:
                                            a1.store(a0 + pb @ vc)
                        # results: o = diag(1 / l) @ acc, then m and l
                        with l_dfb.wait() as lf:
                            with d_dfb.reserve() as d:
                                d.store(ttl.math.recip(lf) * eye)
                            with mx_dfb.wait() as mf, ml_dfb.reserve() as mo:
                                mo.store(mf)
                            with ml_dfb.reserve() as lo_:
                                lo_.store(lf)
                        with d_dfb.wait() as d, acc_dfb.wait() as af, po_dfb.reserve() as po:
                            po.store(d @ af)
                p16.pop()
                p8.pop()
                p4.pop()
                p2.pop()
                p1.pop()
                e0.pop()
                e1.pop()
                e2.pop()
                e3.pop()
                eye.pop()
                onesc.pop()
                selc.pop()

        @ttl.datamovement()
        def reader():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            if core < NU:
                # constants: P_1, the 4 tile selectors (Ct x 1 tiles each; past Ct they repeat E_0) and I
                with e0_dfb.reserve() as c0, e1_dfb.reserve() as c1, e2_dfb.reserve() as c2, e3_dfb.reserve() as c3:
                    t0 = ttl.copy(consts[0:CT, CS:CS + 1], c0)
                    t1 = ttl.copy(consts[0:CT, CS + 1:CS + 2], c1)
                    t2 = ttl.copy(consts[0:CT, CS + 2:CS + 3], c2)
                    t3 = ttl.copy(consts[0:CT, CS + 3:CS + 4], c3)
                    t0.wait()
                    t1.wait()
                    t2.wait()
                    t3.wait()
                with eye_dfb.reserve() as c0, p1_dfb.reserve() as c1:
                    t0 = ttl.copy(consts[0:1, CE:CE + 1], c0)
                    t1 = ttl.copy(consts[0:1, CP:CP + 1], c1)
                    t0.wait()
                    t1.wait()
                for it in range(ITERS):
                    u = it * NC + core
                    if u < NU:
                        r = (NR + NU - 1 - u) // NU
                        j = u - NR
                        z = (j + BIG - WN1) // BIG
                        seg = r * u + (1 - r) * ((1 - z) * (j // NS1) + z * (j - WN1))
                        qq = (1 - r) * (1 - z) * (1 + j % NS1)
                        lo = (1 - r) * (VLO + (1 - z) * ((qq * SPAN) // NSMS - CRV))
                        hi = r * CR + (1 - r) * (VLO + ((qq + 1) * SPAN) // NSMS - CRV)
                        row = B0NKV + seg
                        user = B0 + seg // NKV
                        with q_dfb.reserve() as qb:
                            tq = ttl.copy(q[row:row + 1, 0:DT], qb)
                            tq.wait()
                        for i in range(CMAX):
                            vv = lo + i
                            if vv < hi:
                                # chunk vv of the segment: tile offset v * RT (v < 2) or OB + (v - 2) * CT
                                ge2 = (vv // 2 + NV) // (NV + 1)
                                kvrow = SHKV * (seg % NKV) + (1 - SHKV) * row  # shared: user 0's region
                                r0 = kvrow * SMAX_T + (1 - ge2) * vv * RT + ge2 * (OB + (vv - 2) * CT)
                                with k_dfb.reserve() as kb:
                                    tk = ttl.copy(k[r0:r0 + CT, 0:DT], kb)
                                    tk.wait()
                                if vv == VA:
                                    with mask_dfb.reserve() as mk:
                                        tm = ttl.copy(mask[user:user + 1, 0:CT], mk)
                                        tm.wait()
                                if vv == VB:
                                    with mask_dfb.reserve() as mk:
                                        tm = ttl.copy(mask[user:user + 1, CT:2 * CT], mk)
                                        tm.wait()
                                if vv == VC:
                                    with mask_dfb.reserve() as mk:
                                        tm = ttl.copy(mask[user:user + 1, 2 * CT:3 * CT], mk)
                                        tm.wait()
                                with v_dfb.reserve() as vb:
                                    tv = ttl.copy(v[r0:r0 + CT, 0:DT], vb)
                                    tv.wait()

        @ttl.datamovement()
        def writer():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            for it in range(ITERS):
                u = it * NC + core
                if u < NU:
                    r = (NR + NU - 1 - u) // NU
                    j = u - NR
                    z = (j + BIG - WN1) // BIG
                    seg = r * u + (1 - r) * ((1 - z) * (j // NS1) + z * (j - WN1))
                    qq = (1 - r) * (1 - z) * (1 + j % NS1)
                    prow = seg * NP + (1 - r) * (qq + SPEC)
                    with po_dfb.wait() as po:
                        if r == 1:
                            # speculative reducer: the normalised sink + recent partial is the speculative output
                            srow = B0NKV + seg
                            tw = ttl.copy(po, spec_out[srow:srow + 1, 0:DT])
                            tw.wait()
                        else:
                            orow = OBASE + prow
                            tw = ttl.copy(po, o_part[orow:orow + 1, 0:DT])
                            tw.wait()
                    with ml_dfb.wait() as mb:
                        tm = ttl.copy(mb, ml_part[prow:prow + 1, 0:1])
                        tm.wait()
                    with ml_dfb.wait() as lb:
                        tl = ttl.copy(lb, ml_part[prow:prow + 1, 1:2])
                        tl.wait()

    return partial_attention
