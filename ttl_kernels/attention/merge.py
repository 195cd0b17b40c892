"""Merge of split-KV partial results (and, for ALSpec, the speculation check).

Second operation of a decode-attention call.  Inputs per (user, KV head) segment: ``NP`` partials written
by :mod:`._partial`, each a normalised ``o_i`` (1 x Dt tiles) with its row max ``m_i`` and row sum ``l_i``
(1 tile each, row-constant).  The exact result is the log-sum-exp merge::

    M = max_i m_i;   d_i = diag(exp(m_i - M) l_i);   L = sum_i d_i @ J;   acc = sum_i d_i @ o_i
    O = diag(1 / L) @ acc          (diag(x) = x * I, x row-constant; J all ones; O = o_0 when NP == 1)

one ``exp`` per partial (in the same store as its weight); the reader sends the ``m_i`` once for the max and
again beside ``l_i`` and ``o_i``.

With ``verify`` (ALSpec) partial 0 of each segment is the speculative partial (its ``o`` read from the
speculative output the partial op wrote), and each segment also computes its share of the check,
``dist2_h = VALID @ ((O - O_spec)^2 @ ONES_D)`` and ``norm2_h = VALID @ (O^2 @ ONES_D)`` (sums over the G valid
query rows and all head_dim columns, by matmuls), written as two uniform tiles to a scratch tensor.  A second,
small operation (one item per user) sums the ``NKV`` shares of each user and writes ``dist2``, ``norm2`` and
``verdict = signbit(-(lambda^2 norm2 - dist2))`` (1 hit, 0 miss; a tie is a hit) as full tiles (every element
equal) in tile row ``user``.  (An item used to be a whole user, its heads merged one after another on one core:
at batch 1 the merge of every segment ran on one core.)  ``O`` passes through a buffer of the output's dtype,
so on a device the sums see exactly the values written.

Reads per segment: NP x (Dt + 3) tiles (+ Dt for the speculative output and Dt + 1 constants when verifying);
writes Dt tiles (+ 2).  Work items are dealt round-robin over the flattened grid.  All tiles bf16 (see
:mod:`._partial`).
"""

from __future__ import annotations

from functools import cache

from ..runtime import ttl
from ..tiling import fit_grid
from ._layout import C_EYE, C_ONES_DT, C_VALID, TILE
from ._plan import MergePlan


class _MergeAndVerify:
    """The speculative merge: the per-segment merge (with each segment's dist2 / norm2 share), then the per-user
    sums and verdicts; called like one operation, ``(o_part, ml_part, spec_out, consts, out, dist, norm,
    verdict)``."""

    def __init__(self, plan: MergePlan, backend: str):
        self.plan = plan
        self.merge = _merge_op(plan, backend)
        self.verify = _verify_op(plan, backend)

    def __call__(self, o_part, ml_part, spec_out, consts, out, dist, norm, verdict):
        from ..host import empty

        p = self.plan
        shares = empty((p.nbu * p.nkv * TILE, 2 * TILE), "bf16")  # per segment: dist2 share, norm2 share
        self.merge(o_part, ml_part, spec_out, consts, out, shares.tt)
        self.verify(shares.tt, dist, norm, verdict)


@cache
def make_merge_op(plan: MergePlan, backend: str):
    """The merge for ``plan``: one operation (flash decode), or the merge and the per-user verdicts (speculative);
    ``backend`` is part of the cache key only.  Called as ``op(o_part, ml_part, spec_out, consts, out, dist,
    norm, verdict)`` (flash decode: any tensors for the last three)."""
    if plan.verify:
        return _MergeAndVerify(plan, backend)
    op = _merge_op(plan, backend)

    def merge(o_part, ml_part, spec_out, consts, out, dist, norm, verdict):
        op(o_part, ml_part, spec_out, consts, out, dist)

    return merge


@cache
def _verify_op(plan: MergePlan, backend: str):
    """Per user: ``dist2 = sum_h dist2_h``, ``norm2 = sum_h norm2_h`` over its KV heads, and the verdict."""
    GX, NC, ITEMS, NKV, B0 = gx_nc_items(plan)
    LAM2 = float(plan.lam2)

    @ttl.operation(grid=fit_grid(plan.nbu, (plan.gx, plan.gy)))
    def verify_shares(shares, dist, norm, verdict):
        ds_dfb = ttl.make_dataflow_buffer_like(shares, shape=(1, 1), block_count=2)
        ns_dfb = ttl.make_dataflow_buffer_like(shares, shape=(1, 1), block_count=2)
        dsum_dfb = ttl.make_dataflow_buffer_like(shares, shape=(1, 1), block_count=2)
        nsum_dfb = ttl.make_dataflow_buffer_like(shares, shape=(1, 1), block_count=2)
        lam_dfb = ttl.make_dataflow_buffer_like(shares, shape=(1, 1), block_count=1)
        dsto_dfb = ttl.make_dataflow_buffer_like(dist, shape=(1, 1), block_count=1)
        nrmo_dfb = ttl.make_dataflow_buffer_like(norm, shape=(1, 1), block_count=1)
        vrd_dfb = ttl.make_dataflow_buffer_like(verdict, shape=(1, 1), block_count=1)

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            for _user in range(y * GX + x, ITEMS, NC):  # users core, core + NC, ...
                with ds_dfb.wait() as d0, dsum_dfb.reserve() as da:
                    da.store(d0)
                with ns_dfb.wait() as n0, nsum_dfb.reserve() as na:
                    na.store(n0)
                for _h in range(1, NKV):
                    with ds_dfb.wait() as dh, dsum_dfb.wait() as d0, dsum_dfb.reserve() as da:
                        da.store(d0 + dh)
                    with ns_dfb.wait() as nh, nsum_dfb.wait() as n0, nsum_dfb.reserve() as na:
                        na.store(n0 + nh)
                # verdict = 1 (hit) iff dist2 <= lambda^2 norm2: signbit(-(lambda^2 norm2 - dist2)); the negation
                # turns an exact tie (+0) into -0, so a tie counts as a hit
                with dsum_dfb.wait() as df, nsum_dfb.wait() as nf:
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
            for user in range(y * GX + x, ITEMS, NC):
                for h in range(NKV):
                    row = user * NKV + h
                    with ds_dfb.reserve() as db, ns_dfb.reserve() as nb:
                        t0 = ttl.copy(shares[row:row + 1, 0:1], db)
                        t1 = ttl.copy(shares[row:row + 1, 1:2], nb)
                        t0.wait()
                        t1.wait()

        @ttl.datamovement()
        def writer():
            x, y = ttl.node(dims=2)
            for item in range(y * GX + x, ITEMS, NC):
                user = B0 + item
                with dsto_dfb.wait() as db, nrmo_dfb.wait() as nb, vrd_dfb.wait() as vb:
                    t0 = ttl.copy(db, dist[user:user + 1, 0:1])
                    t1 = ttl.copy(nb, norm[user:user + 1, 0:1])
                    t2 = ttl.copy(vb, verdict[user:user + 1, 0:1])
                    t0.wait()
                    t1.wait()
                    t2.wait()

    return verify_shares


def gx_nc_items(plan: MergePlan) -> tuple[int, int, int, int, int]:
    """``(GX, NC, ITEMS, NKV, B0)`` of the verify operation: one item per user on the grid fitted to them."""
    gx, gy = fit_grid(plan.nbu, (plan.gx, plan.gy))
    return gx, gx * gy, plan.nbu, plan.nkv, plan.b0


@cache
def _merge_op(plan: MergePlan, backend: str):
    """The per-segment merge operation for ``plan`` (``backend`` is part of the cache key only)."""
    GX, NC, ITEMS = plan.gx, plan.n_cores, plan.n_items
    NP, NPM1, DT, VERIFY, SPEC = plan.np, plan.np - 1, plan.dt, plan.verify, plan.verify
    B0NKV = plan.b0 * plan.nkv
    CE, CD, CV = C_EYE, C_ONES_DT, C_VALID

    @ttl.operation(grid=(plan.gx, plan.gy))
    def merge_partials(o_part, ml_part, spec_out, consts, out, shares):
        ol_dfb = ttl.make_dataflow_buffer_like(o_part, shape=(1, DT), block_count=2)
        ml_dfb = ttl.make_dataflow_buffer_like(ml_part, shape=(1, 1), block_count=2)
        lt_dfb = ttl.make_dataflow_buffer_like(ml_part, shape=(1, 1), block_count=2)  # l_i beside m_i
        os_dfb = ttl.make_dataflow_buffer_like(spec_out, shape=(1, DT), block_count=1)
        eye_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        jt_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)  # all ones: diag(w) @ J = w
        onesd_dfb = ttl.make_dataflow_buffer_like(consts, shape=(DT, 1), block_count=1)
        valid_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        mx_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=2)
        l_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=2)
        acc_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, DT), block_count=2)
        d1_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        ov_dfb = ttl.make_dataflow_buffer_like(out, shape=(1, DT), block_count=1)
        out_dfb = ttl.make_dataflow_buffer_like(out, shape=(1, DT), block_count=2)
        dsq_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, DT), block_count=1)
        nsq_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, DT), block_count=1)
        rs_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        sh_dfb = ttl.make_dataflow_buffer_like(shares, shape=(1, 1), block_count=2)  # dist2 share, norm2 share

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            for _seg in range(y * GX + x, ITEMS, NC):  # segments core, core + NC, ...
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
                        # element-wise (O - O_spec)^2 and O^2 of this segment
                        with os_dfb.wait() as osb, dsq_dfb.reserve() as dn:
                            dn.store(ttl.math.square(ov - osb))
                        with nsq_dfb.reserve() as nn:
                            nn.store(ttl.math.square(ov))
                if VERIFY == 1:
                    # the segment's shares: VALID @ (dsq @ ONES_D), VALID @ (nsq @ ONES_D) (G valid rows x D columns)
                    with onesd_dfb.wait() as onesd, valid_dfb.wait() as valid:
                        with dsq_dfb.wait() as dq, rs_dfb.reserve() as rs:
                            rs.store(dq @ onesd)
                        with rs_dfb.wait() as rs, sh_dfb.reserve() as dd:
                            dd.store(valid @ rs)
                        with nsq_dfb.wait() as nq, rs_dfb.reserve() as rs:
                            rs.store(nq @ onesd)
                        with rs_dfb.wait() as rs, sh_dfb.reserve() as nd:
                            nd.store(valid @ rs)

        @ttl.datamovement()
        def reader():
            x, y = ttl.node(dims=2)
            for seg in range(y * GX + x, ITEMS, NC):  # segments core, core + NC, ...
                srow = B0NKV + seg
                if NP > 1:
                    with eye_dfb.reserve() as eb:
                        te = ttl.copy(consts[0:1, CE:CE + 1], eb)
                        te.wait()
                    for i in range(NP):  # the m_i for the max
                        prow = seg * NP + i
                        with ml_dfb.reserve() as mb:
                            tm = ttl.copy(ml_part[prow:prow + 1, 0:1], mb)
                            tm.wait()
                for i in range(NP):  # then m_i, l_i and o_i per partial
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
                    with onesd_dfb.reserve() as c1, valid_dfb.reserve() as c2:
                        t1 = ttl.copy(consts[0:DT, CD:CD + 1], c1)
                        t2 = ttl.copy(consts[0:1, CV:CV + 1], c2)
                        t1.wait()
                        t2.wait()

        @ttl.datamovement()
        def writer():
            x, y = ttl.node(dims=2)
            for seg in range(y * GX + x, ITEMS, NC):
                orow = B0NKV + seg
                with out_dfb.wait() as ob:
                    tw = ttl.copy(ob, out[orow:orow + 1, 0:DT])
                    tw.wait()
                if VERIFY == 1:
                    with sh_dfb.wait() as db:
                        t0 = ttl.copy(db, shares[seg:seg + 1, 0:1])
                        t0.wait()
                    with sh_dfb.wait() as nb:
                        t1 = ttl.copy(nb, shares[seg:seg + 1, 1:2])
                        t1.wait()

    return merge_partials
