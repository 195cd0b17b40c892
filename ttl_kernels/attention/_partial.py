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
(a filled tile) and its transpose are derived in L1 once per core.  Every matmul is stored alone (or as
``prev + a @ b``), ``fill`` only touches single tiles, state goes through 2-slot buffers and no buffer is
waited on twice at once.  31 dataflow buffers
(Wormhole allows 32); short-lived temporaries share buffers (``d`` is the butterfly's matmul temp and the
diag tile; ``p`` holds the broadcast max, then ``p``).

Work split (:mod:`._plan`): unit ``u`` runs on core ``u % N_CORES`` of the flattened grid (both
coordinates); the reader, compute and writer threads each evaluate the lines of
:func:`._plan.unit_chunks` (a thread cannot call a Python function in 1.1.1) to find the unit's segment,
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
    GRID_X, N_CORES = plan.gx, plan.n_cores  # launch grid width; cores of the flattened grid
    # the unit arithmetic (_plan.unit_chunks: the reader, compute and writer threads repeat its lines)
    (N_UNITS,  # work units: the reducers, then the split units
     N_REDUCERS,  # reducer units (speculative: one per segment, the sink + recent chunks; flash decode: 0)
     REDUCER_LEN,  # chunks of a reducer unit
     SPLITS,  # split units per segment (at least 1 in the arithmetic)
     N_LATER,  # split units with split index q >= 1; they come before the q = 0 ones
     LATER_PER_SEG,  # q >= 1 split units per segment (at least 1 in the arithmetic)
     STEP,  # a divisor larger than any split-unit index: (j + STEP - N_LATER) // STEP is 1 iff j >= N_LATER
     SPLIT_FROM,  # first virtual chunk of a segment's split part
     SPAN,  # virtual chunks the split boundaries divide: GIVE_UP + the chunks of the split part
     GIVE_UP,  # chunks the q = 0 unit gives up for the reducer on its core (0 or REDUCER_LEN)
     ) = plan.unit_constants
    SPECULATIVE = plan.spec  # 1: speculative (reducer units), 0: flash decode
    PARTIALS = plan.np  # partial results per segment (rows of o_part / ml_part)
    N_CHUNKS = plan.nv  # chunks in a segment's virtual sequence
    RECENT_AT = plan.rt  # KV tile offset of virtual chunk 1
    MIDDLE_AT = plan.ob  # KV tile offset of virtual chunk 2 (chunk v >= 2 is at MIDDLE_AT + (v - 2) CHUNK)
    CHUNK = plan.ct  # tiles per chunk (S / 32)
    HEAD = plan.dt  # tiles per head (head_dim / 32)
    MASKED_0, MASKED_1, MASKED_2 = plan.va, plan.vb, plan.vc  # virtual chunk that takes mask slot 0/1/2 (-1: none)
    FIRST_USER = plan.b0  # first user of the group
    FIRST_SEG = plan.b0 * plan.nkv  # tile row of the group's first segment in q / the output layout
    N_KV = plan.nkv  # KV heads per user
    SMAX = plan.smax_t  # cache tile rows per segment (S_max / 32)
    O_BASE = plan.obase  # tile row offset of the partial o writes (nonzero when o goes straight to the output)
    SHARED_KV = plan.shared_kv  # 1: every user reads user 0's cache region (block verification)
    SCALE = float(plan.scale)
    START_MAX = NEG  # running max at the start; masked scores are s + NEG
    PERM_AT, SEL_AT, EYE_AT = C_PERM, C_SEL_TILE, C_EYE  # tile columns of P_1, the selectors and I in consts

    @ttl.operation(grid=(plan.gx, plan.gy))
    def partial_attention(q, k, v, mask, consts, f32, o_part, ml_part, spec_out):
        # inputs (reader -> compute)
        q_dfb = ttl.make_dataflow_buffer_like(q, shape=(1, HEAD), block_count=2)
        k_dfb = ttl.make_dataflow_buffer_like(k, shape=(CHUNK, HEAD), block_count=2)
        v_dfb = ttl.make_dataflow_buffer_like(v, shape=(CHUNK, HEAD), block_count=2)
        mask_dfb = ttl.make_dataflow_buffer_like(mask, shape=(1, CHUNK), block_count=1)
        # constant tiles, held by the compute thread for the whole kernel
        p16_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        p8_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        p4_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        p2_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        p1_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        e0_dfb = ttl.make_dataflow_buffer_like(consts, shape=(CHUNK, 1), block_count=1)
        e1_dfb = ttl.make_dataflow_buffer_like(consts, shape=(CHUNK, 1), block_count=1)
        e2_dfb = ttl.make_dataflow_buffer_like(consts, shape=(CHUNK, 1), block_count=1)
        e3_dfb = ttl.make_dataflow_buffer_like(consts, shape=(CHUNK, 1), block_count=1)
        eye_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        onesc_dfb = ttl.make_dataflow_buffer_like(consts, shape=(CHUNK, 1), block_count=2)
        selc_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, CHUNK), block_count=1)
        # compute intermediates (bf16; consts is a large enough 'like' tensor for every block shape)
        kv32_dfb = ttl.make_dataflow_buffer_like(f32, shape=(CHUNK, HEAD), block_count=1)
        kv16_dfb = ttl.make_dataflow_buffer_like(consts, shape=(CHUNK, HEAD), block_count=1)
        qs_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, HEAD), block_count=1)
        kt_dfb = ttl.make_dataflow_buffer_like(consts, shape=(HEAD, CHUNK), block_count=1)
        s_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, CHUNK), block_count=1)
        w_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=2)
        mn_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        p_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, CHUNK), block_count=2)  # m broadcast, then p
        al_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        d_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        # running state (ping-pong)
        mx_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=2)
        l_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=2)
        acc_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, HEAD), block_count=2)
        # results (compute -> writer): o, then m and l one after the other through one 2-slot buffer
        po_dfb = ttl.make_dataflow_buffer_like(o_part, shape=(1, HEAD), block_count=2)
        ml_dfb = ttl.make_dataflow_buffer_like(ml_part, shape=(1, 1), block_count=2)

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            core = y * GRID_X + x
            if core < N_UNITS:
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
                    if CHUNK == 1:
                        cb.store(e0)
                    else:
                        if CHUNK == 2:
                            cb.store(e0 + e1)
                        else:
                            if CHUNK == 3:
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
                for u in range(core, N_UNITS, N_CORES):  # units core, core + N_CORES, ...
                    # unit -> chunk range [lo, hi) (the lines of _plan.unit_chunks)
                    reducer = (N_REDUCERS + N_UNITS - 1 - u) // N_UNITS
                    j = u - N_REDUCERS
                    q0 = (j + STEP - N_LATER) // STEP
                    split = (1 - reducer) * (1 - q0) * (1 + j % LATER_PER_SEG)
                    lo = (1 - reducer) * (SPLIT_FROM + (1 - q0) * ((split * SPAN) // SPLITS - GIVE_UP))
                    hi = reducer * REDUCER_LEN + (1 - reducer) * (SPLIT_FROM + ((split + 1) * SPAN) // SPLITS - GIVE_UP)
                    with mx_dfb.reserve() as m:
                        m.store(ttl.math.fill(m, START_MAX))
                    with l_dfb.reserve() as ls:
                        ls.store(ttl.math.fill(ls, 0.0))
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
                        for vv in range(lo, hi):  # the unit's chunks
                            # s = qs @ K^T (+ mask): (1, Dt) @ (Dt, Ct)
                            # K chunk -> bf16 in L1 (through fp32: a typecast must change the dtype)
                            with k_dfb.wait() as kb, kv32_dfb.reserve() as kw:
                                kw.store(ttl.math.typecast(kb, ttnn.float32))
                            with kv32_dfb.wait() as kw, kv16_dfb.reserve() as kc:
                                kc.store(ttl.math.typecast(kw, ttnn.bfloat16))
                            with kv16_dfb.wait() as kc, kt_dfb.reserve() as kt:
                                kt.store(ttl.math.transpose(kc))
                            with kt_dfb.wait() as kt, s_dfb.reserve() as sn:
                                if (vv == MASKED_0) or (vv == MASKED_1) or (vv == MASKED_2):
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
            core = y * GRID_X + x
            if core < N_UNITS:
                # constants: P_1, the 4 tile selectors (Ct x 1 tiles each; past Ct they repeat E_0) and I
                with e0_dfb.reserve() as c0, e1_dfb.reserve() as c1, e2_dfb.reserve() as c2, e3_dfb.reserve() as c3:
                    t0 = ttl.copy(consts[0:CHUNK, SEL_AT:SEL_AT + 1], c0)
                    t1 = ttl.copy(consts[0:CHUNK, SEL_AT + 1:SEL_AT + 2], c1)
                    t2 = ttl.copy(consts[0:CHUNK, SEL_AT + 2:SEL_AT + 3], c2)
                    t3 = ttl.copy(consts[0:CHUNK, SEL_AT + 3:SEL_AT + 4], c3)
                    t0.wait()
                    t1.wait()
                    t2.wait()
                    t3.wait()
                with eye_dfb.reserve() as c0, p1_dfb.reserve() as c1:
                    t0 = ttl.copy(consts[0:1, EYE_AT:EYE_AT + 1], c0)
                    t1 = ttl.copy(consts[0:1, PERM_AT:PERM_AT + 1], c1)
                    t0.wait()
                    t1.wait()
                for u in range(core, N_UNITS, N_CORES):
                    # unit -> segment and chunk range [lo, hi) (the lines of _plan.unit_chunks)
                    reducer = (N_REDUCERS + N_UNITS - 1 - u) // N_UNITS
                    j = u - N_REDUCERS
                    q0 = (j + STEP - N_LATER) // STEP
                    split = (1 - reducer) * (1 - q0) * (1 + j % LATER_PER_SEG)
                    seg = reducer * u + (1 - reducer) * ((1 - q0) * (j // LATER_PER_SEG) + q0 * (j - N_LATER))
                    lo = (1 - reducer) * (SPLIT_FROM + (1 - q0) * ((split * SPAN) // SPLITS - GIVE_UP))
                    hi = reducer * REDUCER_LEN + (1 - reducer) * (SPLIT_FROM + ((split + 1) * SPAN) // SPLITS - GIVE_UP)
                    row = FIRST_SEG + seg  # the segment's Q tile row
                    user = FIRST_USER + seg // N_KV
                    with q_dfb.reserve() as qb:
                        tq = ttl.copy(q[row:row + 1, 0:HEAD], qb)
                        tq.wait()
                    for vv in range(lo, hi):
                        # chunk vv of the segment: tile offset vv * RECENT_AT (vv < 2) or MIDDLE_AT + (vv - 2) CHUNK
                        ge2 = (vv // 2 + N_CHUNKS) // (N_CHUNKS + 1)  # 1 iff vv >= 2
                        kvrow = SHARED_KV * (seg % N_KV) + (1 - SHARED_KV) * row  # shared: user 0's region
                        r0 = kvrow * SMAX + (1 - ge2) * vv * RECENT_AT + ge2 * (MIDDLE_AT + (vv - 2) * CHUNK)
                        with k_dfb.reserve() as kb:
                            tk = ttl.copy(k[r0:r0 + CHUNK, 0:HEAD], kb)
                            tk.wait()
                        if vv == MASKED_0:
                            with mask_dfb.reserve() as mk:
                                tm = ttl.copy(mask[user:user + 1, 0:CHUNK], mk)
                                tm.wait()
                        if vv == MASKED_1:
                            with mask_dfb.reserve() as mk:
                                tm = ttl.copy(mask[user:user + 1, CHUNK:2 * CHUNK], mk)
                                tm.wait()
                        if vv == MASKED_2:
                            with mask_dfb.reserve() as mk:
                                tm = ttl.copy(mask[user:user + 1, 2 * CHUNK:3 * CHUNK], mk)
                                tm.wait()
                        with v_dfb.reserve() as vb:
                            tv = ttl.copy(v[r0:r0 + CHUNK, 0:HEAD], vb)
                            tv.wait()

        @ttl.datamovement()
        def writer():
            x, y = ttl.node(dims=2)
            for u in range(y * GRID_X + x, N_UNITS, N_CORES):
                # unit -> segment and partial slot (the lines of _plan.unit_chunks)
                reducer = (N_REDUCERS + N_UNITS - 1 - u) // N_UNITS
                j = u - N_REDUCERS
                q0 = (j + STEP - N_LATER) // STEP
                split = (1 - reducer) * (1 - q0) * (1 + j % LATER_PER_SEG)
                seg = reducer * u + (1 - reducer) * ((1 - q0) * (j // LATER_PER_SEG) + q0 * (j - N_LATER))
                prow = seg * PARTIALS + (1 - reducer) * (split + SPECULATIVE)  # the unit's row in the partials
                with po_dfb.wait() as po:
                    if reducer == 1:
                        # speculative reducer: the normalised sink + recent partial is the speculative output
                        tw = ttl.copy(po, spec_out[FIRST_SEG + seg:FIRST_SEG + seg + 1, 0:HEAD])
                        tw.wait()
                    else:
                        tw = ttl.copy(po, o_part[O_BASE + prow:O_BASE + prow + 1, 0:HEAD])
                        tw.wait()
                with ml_dfb.wait() as mb:
                    tm = ttl.copy(mb, ml_part[prow:prow + 1, 0:1])
                    tm.wait()
                with ml_dfb.wait() as lb:
                    tl = ttl.copy(lb, ml_part[prow:prow + 1, 1:2])
                    tl.wait()

    return partial_attention
