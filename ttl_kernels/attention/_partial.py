"""Split-KV partial attention: each work unit runs flash attention over a run of KV chunks of one
(user, KV head) segment and writes its partial ``(o, m, l)`` to DRAM.

Shapes in tiles (Dt = D / 32, Ct = S / 32; one tile row of Q holds the G query heads of one KV head):

* ``q``      (1, Dt)   decode Q tile row of the segment (layout in :mod:`._layout`), scaled once per unit:
  ``qs = (scale * I) @ q`` (a single-tile fill and a matmul; no multi-tile fill).
* ``k, v``   (Ct, Dt)  one chunk of S tokens of the cache.  A bf16 cache goes to the matmuls as read; a
  bfloat8_b cache is converted to bf16 in L1 by one ``typecast`` per tile (the 1.1.1 compiler wants one dtype
  per op).  The cache dtype is a compile-time choice made while the operation is traced (:attr:`PartialPlan.cast`):
  1.1.1 compiles both arms of an ``if`` in a thread and rejects a typecast to the same dtype, so the two variants
  differ in which tensors and buffers the never-taken arm names (a bf16 cache: the typecast arm reads an fp32
  buffer fed from the fp32 shape donor; a bfloat8_b cache: the plain arm reads a bf16 buffer fed from the
  constants), never in the thread source.  K is transposed in L1 to (Dt, Ct).
* ``mask``   (1, Ct)   additive mask (0 / NEG), read only for the chunks the plan marks as masked.
* ``s``      (1, Ct)   scores ``qs @ K^T (+ mask)``; ``p = exp(s - m)``.

Two passes per *super-chunk* (up to ``SUPER`` consecutive chunks of the unit; the scores of a super-chunk stay in
L1, ``SUPER * Ct`` tiles):

1. per chunk: ``s = qs @ K^T (+ mask)``, kept in the ``hold`` buffer, and the element-wise running max
   ``w = max(w, s)`` (1 x Ct tiles);
2. once: the row max of ``w`` -- the tile-wise max of its Ct tiles (``w @ E_i``, tile selectors) and a 5-step
   butterfly ``r = max(r, r @ P_k)`` (cyclic column shifts, k = 16 .. 1) -- then the new running max
   ``m' = max(m, r)``, ``alpha = exp(m - m')`` (from the second super-chunk on: ``acc = diag(alpha) @ acc``,
   ``l = diag(alpha) @ l``) and ``m'`` broadcast over a chunk, ``diag(m') @ ONES (1 x Ct)``;
3. per chunk again: ``p = exp(s - m')`` from ``hold``, ``l += p @ ONES (Ct x 1)``, ``acc += p @ V``.

So the row max, the rescale and their hand-offs are paid once per super-chunk instead of once per chunk, and the
exponent of every score uses the final max of its super-chunk.  Every (1, 1) value is *row-constant* (the 32
columns of a row hold the same value), which makes ``diag(a) = a * I`` a per-row scale.
Result per unit: ``o = diag(1 / l) @ acc`` (1, Dt), and ``m``, ``l`` (1 tile each); the merge (:mod:`.merge`)
weights ``o`` by ``l exp(m - M)``.  A speculative reducer unit writes its ``o`` straight to the speculative output:
it *is* the normalised sink + recent attention.

All compute tiles are bf16 (the 1.1.1 compiler requires every operand of an op and its destination buffer to
share one dtype); the simulator computes them in float32 unless told otherwise.  Masked scores are ``s + NEG``
(``NEG = -1e30``), so their ``exp(. - m)`` is exactly 0 in the simulator (an SFPU ``exp`` of such arguments is
expected to flush to 0 too; not checked on silicon).  Every processed chunk has at least one visible key, so no
row's max is ever a masked value.  The plan never reads a tile at or past ``P = round_up(pos + 1, 32)``, so what
a cache holds in whole tiles past a user's position never reaches the arithmetic; inside the tile holding ``pos``
finite values past it are masked (``p = 0`` exactly, and ``0 * v = 0``), but a NaN or Inf there would poison the
sums: IEEE arithmetic (the simulator's torch, and any multiply by a 0 weight) keeps NaN, 1.1.1 has no select,
and copies move whole tiles (``tests/test_kernel_parity_attention.py`` documents it with a strict xfail).

Portable 1.1.1 dialect (identical semantics on the simulator and the compiler): the row max is matmuls with
constant tiles (selectors, shifts) plus element-wise max; row sums are ``p @ ONES``; the per-row broadcast of
``m`` over a chunk is ``diag(m) @ ONES``.  Of the constants only ``P_1``, the ``E_i`` and ``I`` come from DRAM
(``4 Ct + 2`` tiles per busy core, 18 at S = 128); ``P_2k = P_k @ P_k`` and the ``ONES`` blocks (``fill``) are made in
L1 once per core.  Every matmul is stored alone (or as ``prev + a @ b``), ``fill`` is only stored alone, state goes
through 2-slot buffers and no buffer is waited on twice at once.  31 dataflow buffers (Wormhole allows 32).

Work split (:mod:`._plan`): unit ``u`` runs on core ``u % N_CORES`` of the flattened grid (both coordinates);
the reader, compute and writer threads each evaluate the lines of :func:`._plan.unit_chunks` (a thread cannot
call a Python function in 1.1.1) to find the unit's segment, its chunk range ``[lo, hi)`` and its partial slot,
and the reader and compute threads cut ``[lo, hi)`` into ``ceil((hi - lo) / SUPER)`` near-equal super-chunks.
"""

from __future__ import annotations

from functools import cache

from ..runtime import ttl, ttnn
from . import _simcompat
from ._layout import C_EYE, C_PERM, C_SEL_TILE
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
    CAST = plan.cast  # 1: bfloat8_b cache (typecast in L1), 0: bf16 cache
    SUPER = plan.sup  # most chunks per super-chunk
    SCALE = float(plan.scale)
    PERM_AT, EYE_AT = C_PERM, C_EYE  # tile columns of P_1 and I in consts
    # tile columns of the selectors E_0 .. E_3 (E_i: the identity in tile row i of a Ct x 1 block); past Ct the
    # kernel reads E_0 again (the max is unchanged), whatever Ct the constants were built for
    SEL_0, SEL_1, SEL_2, SEL_3 = (C_SEL_TILE + (i if i < plan.ct else 0) for i in range(4))

    @ttl.operation(grid=(plan.gx, plan.gy))
    def partial_attention(q, k, v, mask, consts, f32, o_part, ml_part, spec_out):
        # trace time: the cache-dtype variant.  The reader fills kvin (bfloat8_b blocks as stored; compute casts
        # them to kv16) or kvp (bf16 blocks as stored); the arm of `if CAST == 1` that a variant never takes
        # names tensors of the right dtype for the compiler (f32 / consts) but is never executed (and the
        # compiler emits nothing for it).  The simulator's traffic trace names the cache after the local the
        # reader copies from: "k_src" / "v_src" for a bf16 cache, "kc_src" / "vc_src" for bfloat8_b.
        kv_like = k if CAST else f32
        kc_src, vc_src, k_src, v_src = (k, v, consts, consts) if CAST else (f32, f32, k, v)
        # inputs (reader -> compute); K and V chunks share the two KV buffers (K of a super-chunk, then its V)
        q_dfb = ttl.make_dataflow_buffer_like(q, shape=(1, HEAD), block_count=2)
        kvin_dfb = ttl.make_dataflow_buffer_like(kv_like, shape=(CHUNK, HEAD), block_count=2)  # bfloat8_b cache
        kvp_dfb = ttl.make_dataflow_buffer_like(consts, shape=(CHUNK, HEAD), block_count=2)  # bf16 cache
        kv16_dfb = ttl.make_dataflow_buffer_like(consts, shape=(CHUNK, HEAD), block_count=1)  # kvin in bf16
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
        onesc_dfb = ttl.make_dataflow_buffer_like(consts, shape=(CHUNK, 1), block_count=1)
        selc_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, CHUNK), block_count=1)
        # compute intermediates (bf16; consts is a large enough 'like' tensor for every block shape)
        qs_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, HEAD), block_count=1)
        kt_dfb = ttl.make_dataflow_buffer_like(consts, shape=(HEAD, CHUNK), block_count=1)
        s_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, CHUNK), block_count=1)
        hold_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, CHUNK), block_count=SUPER)  # a super-chunk's s
        w_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, CHUNK), block_count=2)  # element-wise running max
        wt_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=2)  # row max being reduced
        d_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)  # temporaries, diag tiles
        mb_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, CHUNK), block_count=1)  # max broadcast
        p_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, CHUNK), block_count=2)
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
                # selectors (4 Ct tiles; past Ct they repeat E_0) and I; the rest is made here (a buffer
                # has one producer thread, so these are compute's alone).
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
                # ONES (Ct x 1) for the row sums and ONES (1 x Ct) for the broadcast of the max
                with onesc_dfb.reserve() as cb:
                    cb.store(ttl.math.fill(cb, 1.0))
                onesc = onesc_dfb.wait()
                with selc_dfb.reserve() as cb:
                    cb.store(ttl.math.fill(cb, 1.0))
                selc = selc_dfb.wait()
                for u in range(core, N_UNITS, N_CORES):  # units core, core + N_CORES, ...
                    # unit -> chunk range [lo, hi) (the lines of _plan.unit_chunks)
                    reducer = (N_REDUCERS + N_UNITS - 1 - u) // N_UNITS
                    j = u - N_REDUCERS
                    q0 = (j + STEP - N_LATER) // STEP
                    split = (1 - reducer) * (1 - q0) * (1 + j % LATER_PER_SEG)
                    lo = (1 - reducer) * (SPLIT_FROM + (1 - q0) * ((split * SPAN) // SPLITS - GIVE_UP))
                    hi = reducer * REDUCER_LEN + (1 - reducer) * (SPLIT_FROM + ((split + 1) * SPAN) // SPLITS - GIVE_UP)
                    n_run = hi - lo
                    n_super = (n_run + SUPER - 1) // SUPER
                    with l_dfb.reserve() as ls:
                        ls.store(ttl.math.fill(ls, 0.0))
                    # qs = (scale * I) @ q
                    with q_dfb.wait() as qb:
                        with d_dfb.reserve() as d:
                            d.store(ttl.math.fill(d, SCALE))
                        with d_dfb.wait() as d, wt_dfb.reserve() as sci:
                            sci.store(d * eye)
                        with wt_dfb.wait() as sci, qs_dfb.reserve() as qsn:
                            qsn.store(sci @ qb)
                    with qs_dfb.wait() as qs:
                        # acc = 0 (a zero tile @ qs: no multi-tile fill)
                        with d_dfb.reserve() as d:
                            d.store(ttl.math.fill(d, 0.0))
                        with d_dfb.wait() as d, acc_dfb.reserve() as a:
                            a.store(d @ qs)
                        for sc in range(n_super):  # super-chunk sc: chunks [c0, c1)
                            c0 = lo + (sc * n_run) // n_super
                            c1 = lo + ((sc + 1) * n_run) // n_super
                            # pass 1: scores into hold, element-wise running max into w
                            for vv in range(c0, c1):
                                if CAST == 1:
                                    with kvin_dfb.wait() as kr, kv16_dfb.reserve() as kc:
                                        kc.store(ttl.math.typecast(kr, ttnn.bfloat16))
                                    with kv16_dfb.wait() as kc, kt_dfb.reserve() as kt:
                                        kt.store(ttl.math.transpose(kc))
                                else:
                                    with kvp_dfb.wait() as kc, kt_dfb.reserve() as kt:
                                        kt.store(ttl.math.transpose(kc))
                                with kt_dfb.wait() as kt, s_dfb.reserve() as sn:
                                    if (vv == MASKED_0) or (vv == MASKED_1) or (vv == MASKED_2):
                                        with mask_dfb.wait() as mk:
                                            sn.store(mk + qs @ kt)
                                    else:
                                        sn.store(qs @ kt)
                                with s_dfb.wait() as sb:
                                    with hold_dfb.reserve() as hb:
                                        hb.store(sb)
                                    if vv == c0:
                                        with w_dfb.reserve() as wn:
                                            wn.store(sb)
                                    else:
                                        with w_dfb.wait() as w0, w_dfb.reserve() as wn:
                                            wn.store(ttl.math.max(w0, sb))
                            # row max: tile-wise max of the Ct tiles of w, then the butterfly over 32 columns
                            with w_dfb.wait() as wf:
                                with wt_dfb.reserve() as t:
                                    t.store(wf @ e0)
                                with d_dfb.reserve() as t:
                                    t.store(wf @ e1)
                                with wt_dfb.wait() as wa, d_dfb.wait() as t, wt_dfb.reserve() as wb:
                                    wb.store(ttl.math.max(wa, t))
                                with d_dfb.reserve() as t:
                                    t.store(wf @ e2)
                                with wt_dfb.wait() as wa, d_dfb.wait() as t, wt_dfb.reserve() as wb:
                                    wb.store(ttl.math.max(wa, t))
                                with d_dfb.reserve() as t:
                                    t.store(wf @ e3)
                                with wt_dfb.wait() as wa, d_dfb.wait() as t, wt_dfb.reserve() as wb:
                                    wb.store(ttl.math.max(wa, t))
                            with wt_dfb.wait() as wa:
                                with d_dfb.reserve() as t:
                                    t.store(wa @ p16)
                                with d_dfb.wait() as t, wt_dfb.reserve() as wb:
                                    wb.store(ttl.math.max(wa, t))
                            with wt_dfb.wait() as wa:
                                with d_dfb.reserve() as t:
                                    t.store(wa @ p8)
                                with d_dfb.wait() as t, wt_dfb.reserve() as wb:
                                    wb.store(ttl.math.max(wa, t))
                            with wt_dfb.wait() as wa:
                                with d_dfb.reserve() as t:
                                    t.store(wa @ p4)
                                with d_dfb.wait() as t, wt_dfb.reserve() as wb:
                                    wb.store(ttl.math.max(wa, t))
                            with wt_dfb.wait() as wa:
                                with d_dfb.reserve() as t:
                                    t.store(wa @ p2)
                                with d_dfb.wait() as t, wt_dfb.reserve() as wb:
                                    wb.store(ttl.math.max(wa, t))
                            with wt_dfb.wait() as wa:
                                with d_dfb.reserve() as t:
                                    t.store(wa @ p1)
                                with d_dfb.wait() as t, wt_dfb.reserve() as rm:
                                    rm.store(ttl.math.max(wa, t))
                            # new running max m', its broadcast diag(m') @ ONES, and (after the first
                            # super-chunk) the rescale of the state by alpha = exp(m - m')
                            if sc == 0:
                                with wt_dfb.wait() as rm:
                                    with d_dfb.reserve() as dd:
                                        dd.store(rm * eye)
                                    with mx_dfb.reserve() as m1:
                                        m1.store(rm)
                                with d_dfb.wait() as dd, mb_dfb.reserve() as mb:
                                    mb.store(dd @ selc)
                            else:
                                with mx_dfb.wait() as m0:
                                    with wt_dfb.wait() as rm, wt_dfb.reserve() as mnb:
                                        mnb.store(ttl.math.max(m0, rm))
                                    with wt_dfb.wait() as mnb:
                                        with d_dfb.reserve() as dd:
                                            dd.store(mnb * eye)
                                        with d_dfb.wait() as dd, mb_dfb.reserve() as mb:
                                            mb.store(dd @ selc)
                                        with d_dfb.reserve() as dd:
                                            dd.store(ttl.math.exp(m0 - mnb) * eye)
                                        with mx_dfb.reserve() as m1:
                                            m1.store(mnb)
                                with d_dfb.wait() as dd:
                                    with l_dfb.wait() as l0, l_dfb.reserve() as l1:
                                        l1.store(dd @ l0)
                                    with acc_dfb.wait() as a0, acc_dfb.reserve() as a1:
                                        a1.store(dd @ a0)
                            # pass 2: p = exp(s - m'), l += rowsum(p), acc += p @ V
                            with mb_dfb.wait() as mb:
                                for _vv in range(c0, c1):
                                    with hold_dfb.wait() as hb, p_dfb.reserve() as pn:
                                        pn.store(ttl.math.exp(hb - mb))
                                    with p_dfb.wait() as pb:
                                        with l_dfb.wait() as l0, l_dfb.reserve() as l1:
                                            l1.store(l0 + pb @ onesc)
                                        if CAST == 1:
                                            with kvin_dfb.wait() as vr, kv16_dfb.reserve() as vc:
                                                vc.store(ttl.math.typecast(vr, ttnn.bfloat16))
                                            with kv16_dfb.wait() as vc, acc_dfb.wait() as a0, acc_dfb.reserve() as a1:
                                                a1.store(a0 + pb @ vc)
                                        else:
                                            with kvp_dfb.wait() as vc, acc_dfb.wait() as a0, acc_dfb.reserve() as a1:
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
                # constants: P_1, the 4 tile selectors (Ct x 1 tiles each) and I
                with e0_dfb.reserve() as c0, e1_dfb.reserve() as c1, e2_dfb.reserve() as c2, e3_dfb.reserve() as c3:
                    t0 = ttl.copy(consts[0:CHUNK, SEL_0:SEL_0 + 1], c0)
                    t1 = ttl.copy(consts[0:CHUNK, SEL_1:SEL_1 + 1], c1)
                    t2 = ttl.copy(consts[0:CHUNK, SEL_2:SEL_2 + 1], c2)
                    t3 = ttl.copy(consts[0:CHUNK, SEL_3:SEL_3 + 1], c3)
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
                    n_run = hi - lo
                    n_super = (n_run + SUPER - 1) // SUPER
                    row = FIRST_SEG + seg  # the segment's Q tile row
                    user = FIRST_USER + seg // N_KV
                    kvrow = SHARED_KV * (seg % N_KV) + (1 - SHARED_KV) * row  # shared: user 0's region
                    with q_dfb.reserve() as qb:
                        tq = ttl.copy(q[row:row + 1, 0:HEAD], qb)
                        tq.wait()
                    for sc in range(n_super):
                        c0 = lo + (sc * n_run) // n_super
                        c1 = lo + ((sc + 1) * n_run) // n_super
                        # the super-chunk's K chunks (pass 1), then its V chunks (pass 2)
                        for vv in range(c0, c1):
                            # chunk vv: tile offset vv * RECENT_AT (vv < 2) or MIDDLE_AT + (vv - 2) CHUNK
                            ge2 = (vv // 2 + N_CHUNKS) // (N_CHUNKS + 1)  # 1 iff vv >= 2
                            r0 = kvrow * SMAX + (1 - ge2) * vv * RECENT_AT + ge2 * (MIDDLE_AT + (vv - 2) * CHUNK)
                            if CAST == 1:
                                with kvin_dfb.reserve() as kb:
                                    tk = ttl.copy(kc_src[r0:r0 + CHUNK, 0:HEAD], kb)
                                    tk.wait()
                            else:
                                with kvp_dfb.reserve() as kb:
                                    tk = ttl.copy(k_src[r0:r0 + CHUNK, 0:HEAD], kb)
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
                        for vv in range(c0, c1):
                            ge2 = (vv // 2 + N_CHUNKS) // (N_CHUNKS + 1)
                            r0 = kvrow * SMAX + (1 - ge2) * vv * RECENT_AT + ge2 * (MIDDLE_AT + (vv - 2) * CHUNK)
                            if CAST == 1:
                                with kvin_dfb.reserve() as vb:
                                    tv = ttl.copy(vc_src[r0:r0 + CHUNK, 0:HEAD], vb)
                                    tv.wait()
                            else:
                                with kvp_dfb.reserve() as vb:
                                    tv = ttl.copy(v_src[r0:r0 + CHUNK, 0:HEAD], vb)
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
