"""Merge of split-KV partial results (and, for ALSpec, the speculation check).

Second operation of a decode-attention call.  Inputs per (user, KV head) segment: ``NP`` partials written
by :mod:`._partial`, each a normalised ``o_i`` (1 x Dt tiles) with its row max ``m_i`` and row sum ``l_i``
(1 tile each, row-constant).  The exact result is the log-sum-exp merge::

    M = max_i m_i;   d_i = diag(exp(m_i - M) l_i);   L = sum_i d_i @ J;   acc = sum_i d_i @ o_i
    O = diag(1 / L) @ acc          (diag(x) = x * I, x row-constant; J all ones; O = o_0 when NP == 1)

one ``exp`` per partial (in the same store as its weight); the reader sends the ``m_i`` once for the max and
again beside ``l_i`` and ``o_i``.

With ``verify`` (ALSpec) an item is one user: its ``NKV`` segments are merged in turn, partial 0 of each
being the speculative partial (its ``o`` read from the speculative output the partial op wrote).  Over
the user's heads it accumulates element-wise ``dsq += (O - O_spec)^2`` and ``nsq += O^2`` (1 x Dt tiles),
then sums them over the G valid query rows and all head_dim columns with matmuls:
``dist2 = VALID @ (dsq @ ONES_D)``, ``norm2 = VALID @ (nsq @ ONES_D)``, and writes ``dist2``, ``norm2`` and
``verdict = signbit(-(lambda^2 norm2 - dist2))`` (1 hit, 0 miss; a tie is a hit) as full tiles (every element equal) in
tile row ``user``.  ``O`` passes through a buffer of the output's dtype, so on a device the sums see
exactly the values written.

Reads per segment: NP x (Dt + 3) tiles (+ Dt for the speculative output when verifying); writes Dt tiles.
Work items are dealt round-robin over the flattened grid.  All tiles bf16 (see :mod:`._partial`).
"""

from __future__ import annotations

from functools import cache

from ..runtime import ttl
from ._layout import C_EYE, C_ONES_DT, C_VALID
from ._plan import MergePlan


@cache
def make_merge_op(plan: MergePlan, backend: str):
    """The merge operation for ``plan`` (``backend`` is part of the cache key only)."""
    GX, NC, ITEMS, HPI = plan.gx, plan.n_cores, plan.n_items, plan.hpi
    NP, NPM1, DT, VERIFY, SPEC = plan.np, plan.np - 1, plan.dt, plan.verify, plan.verify
    B0, B0NKV = plan.b0, plan.b0 * plan.nkv
    LAM2 = float(plan.lam2)
    CE, CD, CV = C_EYE, C_ONES_DT, C_VALID

    @ttl.operation(grid=(plan.gx, plan.gy))
    def merge_partials(o_part, ml_part, spec_out, consts, out, dist, norm, verdict):
        ol_dfb = ttl.make_dataflow_buffer_like(o_part, shape=(1, DT), block_count=2)
        ml_dfb = ttl.make_dataflow_buffer_like(ml_part, shape=(1, 1), block_count=2)
        os_dfb = ttl.make_dataflow_buffer_like(spec_out, shape=(1, DT), block_count=1)
        eye_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        onesd_dfb = ttl.make_dataflow_buffer_like(consts, shape=(DT, 1), block_count=1)
        valid_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        mx_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=2)
        l_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=2)
        acc_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, DT), block_count=2)
        lt_dfb = ttl.make_dataflow_buffer_like(ml_part, shape=(1, 1), block_count=2)  # l_i beside m_i
        jt_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)  # all ones: diag(w) @ J = w
        d1_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        ov_dfb = ttl.make_dataflow_buffer_like(out, shape=(1, DT), block_count=1)
        out_dfb = ttl.make_dataflow_buffer_like(out, shape=(1, DT), block_count=2)
        dsq_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, DT), block_count=2)
        nsq_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, DT), block_count=2)
        rs_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        dist_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        norm_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        lam_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        dsto_dfb = ttl.make_dataflow_buffer_like(dist, shape=(1, 1), block_count=1)
        nrmo_dfb = ttl.make_dataflow_buffer_like(norm, shape=(1, 1), block_count=1)
        vrd_dfb = ttl.make_dataflow_buffer_like(verdict, shape=(1, 1), block_count=1)

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            for _item in range(y * GX + x, ITEMS, NC):  # items core, core + NC, ...
                for h in range(HPI):
                    if NP > 1:
                        # the identity tile comes with every segment that has something to merge
                        with eye_dfb.wait() as eye:
                            # M = max_i m_i (the m_i come first, then m_i, l_i, o_i per partial)
                            with ml_dfb.wait() as m0s, mx_dfb.reserve() as m:
                                m.store(m0s)
                            for _i in range(NPM1):
                                with ml_dfb.wait() as mi, mx_dfb.wait() as m0, mx_dfb.reserve() as m1:
                                    m1.store(ttl.math.max(m0, mi))
                            with jt_dfb.reserve() as j:
                                j.store(ttl.math.fill(j, 1.0))
                            with mx_dfb.wait() as mm, jt_dfb.wait() as jt:
                                for i in range(NP):
                                    # d_i = diag(exp(m_i - M) l_i);  L += d_i @ J;  acc += d_i @ o_i
                                    with ml_dfb.wait() as mi, lt_dfb.wait() as li, d1_dfb.reserve() as d1:
                                        d1.store(ttl.math.exp(mi - mm) * li * eye)
                                    with d1_dfb.wait() as d1, ol_dfb.wait() as oi:
                                        if i == 0:
                                            with l_dfb.reserve() as ls:
                                                ls.store(d1 @ jt)
                                            with acc_dfb.reserve() as a:
                                                a.store(d1 @ oi)
                                        else:
                                            with l_dfb.wait() as l0, l_dfb.reserve() as l1:
                                                l1.store(l0 + d1 @ jt)
                                            with acc_dfb.wait() as a0, acc_dfb.reserve() as an:
                                                an.store(a0 + d1 @ oi)
                            # O = diag(1 / L) @ acc
                            with l_dfb.wait() as lf, d1_dfb.reserve() as d1:
                                d1.store(ttl.math.recip(lf) * eye)
                        with d1_dfb.wait() as d1, acc_dfb.wait() as af, ov_dfb.reserve() as ov:
                            ov.store(d1 @ af)
                    else:
                        with ol_dfb.wait() as o0, ov_dfb.reserve() as ov:
                            ov.store(o0)
                    with ov_dfb.wait() as ov:
                        with out_dfb.reserve() as ob:
                            ob.store(ov)
                        if VERIFY == 1:
                            # per-element sums over the user's heads: dsq += (O - O_spec)^2, nsq += O^2
                            with os_dfb.wait() as osb:
                                if h == 0:
                                    with dsq_dfb.reserve() as dn:
                                        dn.store(ttl.math.square(ov - osb))
                                else:
                                    with dsq_dfb.wait() as d0, dsq_dfb.reserve() as dn:
                                        dn.store(d0 + ttl.math.square(ov - osb))
                            if h == 0:
                                with nsq_dfb.reserve() as nn:
                                    nn.store(ttl.math.square(ov))
                            else:
                                with nsq_dfb.wait() as n0, nsq_dfb.reserve() as nn:
                                    nn.store(n0 + ttl.math.square(ov))
                if VERIFY == 1:
                    # dist2 = VALID @ (dsq @ ONES_D), norm2 = VALID @ (nsq @ ONES_D): G valid rows x D columns
                    with onesd_dfb.wait() as onesd, valid_dfb.wait() as valid:
                        with dsq_dfb.wait() as dq, rs_dfb.reserve() as rs:
                            rs.store(dq @ onesd)
                        with rs_dfb.wait() as rs, dist_dfb.reserve() as dd:
                            dd.store(valid @ rs)
                        with nsq_dfb.wait() as nq, rs_dfb.reserve() as rs:
                            rs.store(nq @ onesd)
                        with rs_dfb.wait() as rs, norm_dfb.reserve() as nd:
                            nd.store(valid @ rs)
                    # verdict = 1 (hit) iff dist2 <= lambda^2 norm2: signbit(-(lambda^2 norm2 - dist2)); the
                    # negation turns an exact tie (+0) into -0, so a tie counts as a hit
                    with dist_dfb.wait() as df, norm_dfb.wait() as nf:
                        with lam_dfb.reserve() as lm:
                            lm.store(ttl.math.fill(lm, LAM2))
                        with lam_dfb.wait() as lm, vrd_dfb.reserve() as vd:
                            vd.store(ttl.math.signbit(ttl.math.neg(lm * nf - df)))
                        with dsto_dfb.reserve() as do:
                            do.store(df)
                        with nrmo_dfb.reserve() as no:
                            no.store(nf)

        @ttl.datamovement()
        def reader():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            for item in range(core, ITEMS, NC):  # items core, core + NC, ...
                for h in range(HPI):
                    seg = item * HPI + h
                    srow = B0NKV + seg
                    if NP > 1:
                        with eye_dfb.reserve() as eb:
                            te = ttl.copy(consts[0:1, CE:CE + 1], eb)
                            te.wait()
                    if NP > 1:  # the m_i for the max, then m_i, l_i, o_i per partial
                        for i in range(NP):
                            prow = seg * NP + i
                            with ml_dfb.reserve() as mb:
                                tm = ttl.copy(ml_part[prow:prow + 1, 0:1], mb)
                                tm.wait()
                    for i in range(NP):
                        prow = seg * NP + i
                        if NP > 1:
                            with ml_dfb.reserve() as mb, lt_dfb.reserve() as lb:
                                tm = ttl.copy(ml_part[prow:prow + 1, 0:1], mb)
                                tl = ttl.copy(ml_part[prow:prow + 1, 1:2], lb)
                                tm.wait()
                                tl.wait()
                        with ol_dfb.reserve() as ob:
                            if (SPEC == 1) and (i == 0):
                                tr = ttl.copy(spec_out[srow:srow + 1, 0:DT], ob)
                                tr.wait()
                            else:
                                tr = ttl.copy(o_part[prow:prow + 1, 0:DT], ob)
                                tr.wait()
                    if VERIFY == 1:
                        with os_dfb.reserve() as sb:
                            ts = ttl.copy(spec_out[srow:srow + 1, 0:DT], sb)
                            ts.wait()
                if VERIFY == 1:
                    with onesd_dfb.reserve() as c1, valid_dfb.reserve() as c2:
                        t1 = ttl.copy(consts[0:DT, CD:CD + 1], c1)
                        t2 = ttl.copy(consts[0:1, CV:CV + 1], c2)
                        t1.wait()
                        t2.wait()

        @ttl.datamovement()
        def writer():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            for item in range(core, ITEMS, NC):  # items core, core + NC, ...
                for h in range(HPI):
                    orow = B0NKV + item * HPI + h
                    with out_dfb.wait() as ob:
                        tw = ttl.copy(ob, out[orow:orow + 1, 0:DT])
                        tw.wait()
                if VERIFY == 1:
                    user = B0 + item
                    with dsto_dfb.wait() as db, nrmo_dfb.wait() as nb, vrd_dfb.wait() as vb:
                        t0 = ttl.copy(db, dist[user:user + 1, 0:1])
                        t1 = ttl.copy(nb, norm[user:user + 1, 0:1])
                        t2 = ttl.copy(vb, verdict[user:user + 1, 0:1])
                        t0.wait()
                        t1.wait()
                        t2.wait()

    return merge_partials
