"""Qwen3-MoE routing on the device: softmax over the experts, top-k, optional renormalisation, from the router
logits ``[N, E]`` (a ttnn matmul) to the routing weights, in one operation.

Results (all fp32; rules of :func:`reference.moe_kernels.router_topk`):

* ``weights`` ``[N, E]``: the selected experts' (renormalised) probabilities in their own columns, 0 elsewhere:
  what the all-experts masked compute multiplies each expert's SwiGLU by (:mod:`.expert_scale`);
* ``topw`` ``[N, k]``, ``ids`` ``[N, k]``: the selected weights, largest first, and their expert ids (exact
  float32 integers): the device-side expert list a gathered step reads (see the package docstring).

Tensors, in tiles (plan :class:`._plan.RouterPlan`; a work item is one tile row ``rt`` of 32 token rows, its
``ET = ceil(E / 32)`` logit tiles read once):

``logits``  ``RT x ET`` bf16 or fp32 (the op takes it as ``lg16`` or ``lg32`` and a stand-in of the other dtype
            that only the branch that never runs names, as :mod:`ttl_kernels.sampling`'s argmax does);
``consts``  ``colidx[r, c] = c`` (one bf16 tile, read once per busy core);
``wts``     ``RT x ET``; ``topw``, ``ids``  ``RT x 1`` (k <= 32 columns).

Per tile row, in fp32 tiles (``p`` is a rotating FIFO of the row's ET tiles: each pass takes the front tile and
pushes its new value at the back, so the row never leaves L1; ``g`` walks the global column ids ``col + 32 t``):

    p   = logits, the last tile capped at -FLT_MAX on its padding columns     (cast from bf16 in L1)
    M   = rowmax(p)                          tile-wise max over the ET tiles, then a 5-step butterfly
    e   = exp(p - M);  S = sum_t e_t @ ONES  (every column of S holds the row sum)
    p   = e / S                              the probabilities
    k rounds:
      M   = rowmax(p)                        tile-wise (in the previous pass), then the butterfly
      I   = rowmin(p >= M ? g : 4096)        the lowest expert id holding M (butterfly min)
      topw += M * C_r;  ids += I * C_r        C_r = [colidx == r], from a running tile of r
      oh  = (g == I);  wts += oh * p;  p = p (1 - oh) - oh     the chosen expert drops to -1
    renormalise (norm_topk_prob):  T = topw @ ONES;  topw /= T;  wts /= T

Ties go to the lowest expert id: ``p >= M`` (``1 - relu(sign(M - p))``) is exact equality of fp32 values on the
simulator, where M is one of the p, so equal probabilities are chosen in id order; ``torch.topk`` (transformers,
:func:`reference.moe.route`) picks an implementation-defined set when a tie straddles the k-th place (the
reference module explains; the sets agree otherwise).  Padding columns (expert ids ``>= E``) never win: their
probability is 0, every real unselected expert has ``p >= 0`` and a lower id, and ``k <= E`` leaves one in every
round.  Selected experts hold -1, below every probability.  Logits must be finite (a NaN or infinity makes the
row's results NaN).

Exactness of the ids: every id and key is an integer below 4096, exact in tf32 (the 19-bit format of a Tensix
source register) and fp32; butterflies and column masks are single products with weight 1.  The probabilities
are compared in fp32 on the simulator.  On silicon the butterflies carry them through the source registers
(tf32): testing ``p >= M`` rather than ``p == M`` keeps the maximum's expert a candidate when that conversion
rounds M down, and near-ties within tf32 precision go to the lowest id; a conversion rounding M up past every p
would leave no candidate (id 4096).  Not checked on hardware.

Cost per tile row: ET typecasts (bf16), ET divisions (+ ET + 1 with renormalisation), ET exps, 5 + 2 x 5 x k
butterfly matmuls, about 12 k ET element-wise tile ops and the FIFO copies; DRAM: the logits once, one constant
tile per core, the results once.  Modelled (``ttl_kernels.perf``) at 128 experts, k = 8, one tile row: about
260 us on n150, 170 us on p150, compute- and hand-off-bound.
"""

from __future__ import annotations

from functools import cache

from .. import runtime
from .._api import as_tile, check_2d, device_constant, result, tensor_info, wants_torch
from ..host import empty
from ..runtime import ttl, ttnn
from ..sampling._argmax_partial import logits_reader
from ..tiling import buffers_like
from ._plan import FLT_MAX, MAX_EXPERTS, MAX_TOP_K, RouterPlan, plan_router, router_consts

DTYPES = ("bf16", "fp32")
NO_ID = 4096.0  # the 'not the max' key of the id butterfly: above every expert id (< MAX_EXPERTS + 32)

@cache
def make_router(plan: RouterPlan, backend: str):
    """The routing operation for ``plan`` (``backend`` is part of the cache key only)."""
    from ..attention import _simcompat

    _simcompat.install()  # ttl.math.typecast on the 1.1.1 simulator
    GX, NC, NI = plan.gx, plan.n_cores, plan.n_items
    ET, ETM1 = plan.et, plan.et - 1
    K = plan.k
    NORM, CAST = plan.norm, plan.cast
    HI = FLT_MAX
    VLH = plan.valid_last - 0.5  # columns c > VLH of the last tile are padding
    ONE = 1.0
    C32 = 32.0
    BIG = NO_ID
    WRAP = 30.5  # column 31 wraps around in P_1

    @ttl.operation(grid=(plan.gx, plan.gy))
    def moe_router(lg16, lg32, consts, wts, topw, ids):
        x16_dfb = ttl.make_dataflow_buffer_like(lg16, shape=(1, 1), block_count=2)
        x32_dfb = ttl.make_dataflow_buffer_like(lg32, shape=(1, 1), block_count=2)
        xw_dfb = ttl.make_dataflow_buffer_like(wts, shape=(1, 1), block_count=1)  # a tile in fp32
        k_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        # constants held by compute for the whole kernel: colidx in fp32, 1, 32, the 'no id' key, the cap tile, and
        # the cyclic shifts P_1 .. P_16
        col_dfb, one_dfb, c32_dfb, big_dfb, cap_dfb = buffers_like(wts, 5)
        p1_dfb, p2_dfb, p4_dfb, p8_dfb, p16_dfb = buffers_like(wts, 5)
        # temporaries: fills and the one-hot, matmul results; the butterfly state
        f_dfb, d_dfb = buffers_like(wts, 2)
        bw_dfb = ttl.make_dataflow_buffer_like(wts, shape=(1, 1), block_count=2)
        # per tile row: the row's ET tiles of p and of the weights (rotating FIFOs); walking column ids and the
        # running max / min / sum (2 slots); M, I, the row sum; the column mask, the selected weights and ids, and
        # the results for the writer (topw, ids, then the ET weight tiles) (2 slots)
        p_dfb, wt_dfb = buffers_like(wts, 2, block_count=ET + 1)
        g_dfb, acc_dfb = buffers_like(wts, 2, block_count=2)
        mx_dfb, ix_dfb, s_dfb = buffers_like(wts, 3)
        cm_dfb, tw_dfb, idt_dfb, out_dfb = buffers_like(wts, 4, block_count=2)

        logits_reader(lg16, lg32, consts, x16_dfb, x32_dfb, k_dfb, GX, NC, NI, 1, ET, ET, CAST)  # unit = tile row

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            if core < NI:
                # constants: colidx in fp32, 1, 32, the 'no id' key, the cap tile, P_1^T and the shifts P_1 .. P_16
                with k_dfb.wait() as kb, col_dfb.reserve() as cb:
                    cb.store(ttl.math.typecast(kb, ttnn.float32))
                col = col_dfb.wait()
                with one_dfb.reserve() as ob:
                    ob.store(ttl.math.fill(ob, ONE))
                one = one_dfb.wait()
                with c32_dfb.reserve() as cb:
                    cb.store(ttl.math.fill(cb, C32))
                c32 = c32_dfb.wait()
                with big_dfb.reserve() as bb:
                    bb.store(ttl.math.fill(bb, BIG))
                big = big_dfb.wait()
                # cap = FLT_MAX on valid columns, -FLT_MAX on the padding columns of the last tile
                with f_dfb.reserve() as fb:
                    fb.store(ttl.math.fill(fb, VLH))
                with f_dfb.wait() as fb, d_dfb.reserve() as db:
                    db.store(one - ttl.math.relu(ttl.math.sign(col - fb)) - ttl.math.relu(ttl.math.sign(col - fb)))
                with f_dfb.reserve() as fb:
                    fb.store(ttl.math.fill(fb, HI))
                with f_dfb.wait() as fb, d_dfb.wait() as db, cap_dfb.reserve() as cp:
                    cp.store(fb * db)
                cap = cap_dfb.wait()
                # P_1[k, c] = 1 iff k == (c + 1) mod 32 (X @ P_1 shifts columns left by one, cyclically)
                with bw_dfb.reserve() as rb:
                    rb.store(ttl.math.transpose(col))  # row index
                with f_dfb.reserve() as fb:
                    fb.store(ttl.math.fill(fb, WRAP))
                with f_dfb.wait() as fb, d_dfb.reserve() as db:
                    db.store(col + one - ttl.math.relu(ttl.math.sign(col - fb)) * c32)
                with bw_dfb.wait() as rb, d_dfb.wait() as db, p1_dfb.reserve() as pb:
                    pb.store(one - ttl.math.abs(ttl.math.sign(rb - db)))
                p1 = p1_dfb.wait()
                with p2_dfb.reserve() as pb:
                    pb.store(p1 @ p1)
                p2 = p2_dfb.wait()
                with p4_dfb.reserve() as pb:
                    pb.store(p2 @ p2)
                p4 = p4_dfb.wait()
                with p8_dfb.reserve() as pb:
                    pb.store(p4 @ p4)
                p8 = p8_dfb.wait()
                with p16_dfb.reserve() as pb:
                    pb.store(p8 @ p8)
                p16 = p16_dfb.wait()
                for _rt in range(core, NI, NC):
                    # p = the logits in fp32, padding capped at -FLT_MAX
                    for t in range(ET):
                        if CAST == 1:
                            with x16_dfb.wait() as xb, xw_dfb.reserve() as xw:
                                xw.store(ttl.math.typecast(xb, ttnn.float32))
                        else:
                            with x32_dfb.wait() as xb, xw_dfb.reserve() as xw:
                                xw.store(xb)
                        with xw_dfb.wait() as xv, p_dfb.reserve() as pn:
                            if t == ETM1:
                                pn.store(ttl.math.min(xv, cap))
                            else:
                                pn.store(xv)
                    # round 0's tile-wise max over the row
                    for t in range(ET):
                        with p_dfb.wait() as pv, p_dfb.reserve() as pn:
                            pn.store(pv)
                            if t == 0:
                                with acc_dfb.reserve() as an:
                                    an.store(pv)
                            else:
                                with acc_dfb.wait() as a0, acc_dfb.reserve() as an:
                                    an.store(ttl.math.max(a0, pv))
                    with cm_dfb.reserve() as cn:
                        cn.store(col - col)  # 0: the column of round 1's expert
                    for r in range(K + 1):
                        # M = the row max of p: the butterfly over the tile-wise max (it came with the previous
                        # pass); round 0 turns p into probabilities, round r >= 1 takes the r-th expert
                        with acc_dfb.wait() as a0:
                            with d_dfb.reserve() as db:
                                db.store(a0 @ p1)
                            with d_dfb.wait() as db, bw_dfb.reserve() as wb:
                                wb.store(ttl.math.max(a0, db))
                        with bw_dfb.wait() as w0:
                            with d_dfb.reserve() as db:
                                db.store(w0 @ p2)
                            with d_dfb.wait() as db, bw_dfb.reserve() as wb:
                                wb.store(ttl.math.max(w0, db))
                        with bw_dfb.wait() as w0:
                            with d_dfb.reserve() as db:
                                db.store(w0 @ p4)
                            with d_dfb.wait() as db, bw_dfb.reserve() as wb:
                                wb.store(ttl.math.max(w0, db))
                        with bw_dfb.wait() as w0:
                            with d_dfb.reserve() as db:
                                db.store(w0 @ p8)
                            with d_dfb.wait() as db, bw_dfb.reserve() as wb:
                                wb.store(ttl.math.max(w0, db))
                        with bw_dfb.wait() as w0:
                            with d_dfb.reserve() as db:
                                db.store(w0 @ p16)
                            with d_dfb.wait() as db, mx_dfb.reserve() as rb:
                                rb.store(ttl.math.max(w0, db))
                        mx = mx_dfb.wait()
                        if r == 0:
                            # e = exp(p - M), S = sum of e @ ONES over the row's tiles
                            for t in range(ET):
                                with p_dfb.wait() as pv, xw_dfb.reserve() as eb:
                                    eb.store(ttl.math.exp(pv - mx))
                                with xw_dfb.wait() as eb:
                                    with p_dfb.reserve() as pn:
                                        pn.store(eb)
                                    if t == 0:
                                        with acc_dfb.reserve() as an:
                                            an.store(eb)
                                    else:
                                        with acc_dfb.wait() as a0, acc_dfb.reserve() as an:
                                            an.store(a0 + eb)
                            with acc_dfb.wait() as a0, s_dfb.reserve() as sb:
                                sb.store(a0 @ one)
                            # p = e / S, and its tile-wise max for round 1
                            s = s_dfb.wait()
                            for t in range(ET):
                                with p_dfb.wait() as pv, xw_dfb.reserve() as qn:
                                    qn.store(pv / s)
                                with xw_dfb.wait() as qv:
                                    with p_dfb.reserve() as pn:
                                        pn.store(qv)
                                    if t == 0:
                                        with acc_dfb.reserve() as an:
                                            an.store(qv)
                                    else:
                                        with acc_dfb.wait() as a0, acc_dfb.reserve() as an:
                                            an.store(ttl.math.max(a0, qv))
                            s.pop()
                        else:
                            # I = the lowest expert id holding M: key = id where p >= M (p == M here), 4096 elsewhere
                            with g_dfb.reserve() as gn:
                                gn.store(col)
                            for t in range(ET):
                                with p_dfb.wait() as pv, g_dfb.wait() as gv:
                                    with p_dfb.reserve() as pn:
                                        pn.store(pv)
                                    if t < ETM1:
                                        with g_dfb.reserve() as gn:
                                            gn.store(gv + c32)
                                    if t == 0:
                                        with acc_dfb.reserve() as an:
                                            an.store(big + (one - ttl.math.relu(ttl.math.sign(mx - pv))) * (gv - big))
                                    else:
                                        with acc_dfb.wait() as a0, acc_dfb.reserve() as an:
                                            an.store(ttl.math.min(
                                                a0, big + (one - ttl.math.relu(ttl.math.sign(mx - pv))) * (gv - big)))
                            with acc_dfb.wait() as a0:
                                with d_dfb.reserve() as db:
                                    db.store(a0 @ p1)
                                with d_dfb.wait() as db, bw_dfb.reserve() as wb:
                                    wb.store(ttl.math.min(a0, db))
                            with bw_dfb.wait() as w0:
                                with d_dfb.reserve() as db:
                                    db.store(w0 @ p2)
                                with d_dfb.wait() as db, bw_dfb.reserve() as wb:
                                    wb.store(ttl.math.min(w0, db))
                            with bw_dfb.wait() as w0:
                                with d_dfb.reserve() as db:
                                    db.store(w0 @ p4)
                                with d_dfb.wait() as db, bw_dfb.reserve() as wb:
                                    wb.store(ttl.math.min(w0, db))
                            with bw_dfb.wait() as w0:
                                with d_dfb.reserve() as db:
                                    db.store(w0 @ p8)
                                with d_dfb.wait() as db, bw_dfb.reserve() as wb:
                                    wb.store(ttl.math.min(w0, db))
                            with bw_dfb.wait() as w0:
                                with d_dfb.reserve() as db:
                                    db.store(w0 @ p16)
                                with d_dfb.wait() as db, ix_dfb.reserve() as rb:
                                    rb.store(ttl.math.min(w0, db))
                            ix = ix_dfb.wait()
                            # topw, ids: M and I into column r - 1 (mask [col == r - 1], cm the running r - 1)
                            with cm_dfb.wait() as rv:
                                with f_dfb.reserve() as cb:
                                    cb.store(ttl.math.relu(one - ttl.math.abs(col - rv)))
                                with f_dfb.wait() as c0:
                                    if r == 1:
                                        with tw_dfb.reserve() as tn:
                                            tn.store(mx * c0)
                                        with idt_dfb.reserve() as dn:
                                            dn.store(ix * c0)
                                    else:
                                        with tw_dfb.wait() as t0, tw_dfb.reserve() as tn:
                                            tn.store(t0 + mx * c0)
                                        with idt_dfb.wait() as d0, idt_dfb.reserve() as dn:
                                            dn.store(d0 + ix * c0)
                                if r < K:
                                    with cm_dfb.reserve() as cn:
                                        cn.store(rv + one)
                            # take expert I: wts += onehot * p, p -> -1 there; the running max for the next round
                            with g_dfb.reserve() as gn:
                                gn.store(col)
                            for t in range(ET):
                                with p_dfb.wait() as pv, g_dfb.wait() as gv:
                                    if t < ETM1:
                                        with g_dfb.reserve() as gn:
                                            gn.store(gv + c32)
                                    with f_dfb.reserve() as oh:
                                        oh.store(one - ttl.math.abs(ttl.math.sign(gv - ix)))
                                    with f_dfb.wait() as oh:
                                        if r == 1:
                                            with wt_dfb.reserve() as wn:
                                                wn.store(oh * pv)
                                        else:
                                            with wt_dfb.wait() as w0, wt_dfb.reserve() as wn:
                                                wn.store(w0 + oh * pv)
                                        if r < K:
                                            with xw_dfb.reserve() as qn:
                                                qn.store(pv * (one - oh) - oh)
                                    if r < K:
                                        with xw_dfb.wait() as qv:
                                            with p_dfb.reserve() as pn:
                                                pn.store(qv)
                                            if t == 0:
                                                with acc_dfb.reserve() as an:
                                                    an.store(qv)
                                            else:
                                                with acc_dfb.wait() as a0, acc_dfb.reserve() as an:
                                                    an.store(ttl.math.max(a0, qv))
                            ix.pop()
                        mx.pop()
                    # results: topw, ids, the ET weight tiles (renormalised: divided by T = topw's row sum)
                    if NORM == 1:
                        tf = tw_dfb.wait()
                        with s_dfb.reserve() as sb:
                            sb.store(tf @ one)
                        s2 = s_dfb.wait()
                        with out_dfb.reserve() as ob:
                            ob.store(tf / s2)
                        tf.pop()
                        with idt_dfb.wait() as d0, out_dfb.reserve() as ob:
                            ob.store(d0)
                        for _t in range(ET):
                            with wt_dfb.wait() as w0, out_dfb.reserve() as ob:
                                ob.store(w0 / s2)
                        s2.pop()
                    else:
                        with tw_dfb.wait() as t0, out_dfb.reserve() as ob:
                            ob.store(t0)
                        with idt_dfb.wait() as d0, out_dfb.reserve() as ob:
                            ob.store(d0)
                        for _t in range(ET):
                            with wt_dfb.wait() as w0, out_dfb.reserve() as ob:
                                ob.store(w0)
                col.pop()
                one.pop()
                c32.pop()
                big.pop()
                cap.pop()
                p1.pop()
                p2.pop()
                p4.pop()
                p8.pop()
                p16.pop()

        @ttl.datamovement()
        def writer():
            x, y = ttl.node(dims=2)
            for rt in range(y * GX + x, NI, NC):
                with out_dfb.wait() as ob:
                    tw = ttl.copy(ob, topw[rt:rt + 1, 0:1])
                    tw.wait()
                with out_dfb.wait() as ob:
                    ti = ttl.copy(ob, ids[rt:rt + 1, 0:1])
                    ti.wait()
                for t in range(ET):
                    with out_dfb.wait() as ob:
                        to = ttl.copy(ob, wts[rt:rt + 1, t:t + 1])
                        to.wait()

    return moe_router


def check_router_args(rows: int, experts: int, k, norm_topk_prob) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= experts:
        raise ValueError(f"k: expected an int with 1 <= k <= experts ({experts}); got {k!r}")
    if k > MAX_TOP_K:
        raise ValueError(f"k: at most {MAX_TOP_K} experts per token (one tile of weights and ids); got {k}")
    if experts > MAX_EXPERTS:
        raise ValueError(f"logits: at most {MAX_EXPERTS} experts (columns); got {experts}")
    if not isinstance(norm_topk_prob, bool):
        raise ValueError(f"norm_topk_prob: expected a bool; got {norm_topk_prob!r}")


def router_topk(logits, k: int, norm_topk_prob: bool = False):
    """Routing weights of router ``logits [N, E]`` (bf16 or fp32): ``(weights [N, E], topw [N, k], ids [N, k])``,
    all fp32 (module docstring; reference :func:`reference.moe_kernels.router_topk`).

    Torch in: three float32 torch tensors.  TileTensor in: three fp32 TileTensors left on the device.  Padding of
    torch inputs is 0.0 (the kernel caps padding columns itself)."""
    shape, dtype = tensor_info(logits, "logits", DTYPES)
    rows, experts = check_2d(shape, "logits")
    check_router_args(rows, experts, k, norm_topk_prob)
    plan = plan_router(rows, experts, k, norm_topk_prob, dtype, runtime.grid())
    t = as_tile(logits, dtype, pad_value=0.0)
    wts = empty((rows, experts), "fp32")
    topw = empty((rows, k), "fp32")
    ids = empty((rows, k), "fp32")
    consts = device_constant(router_consts, "bf16")
    lg16, lg32 = (t.tt, wts.tt) if dtype == "bf16" else (consts.tt, t.tt)  # stand-ins: module docstring
    make_router(plan, runtime.backend_name())(lg16, lg32, consts.tt, wts.tt, topw.tt, ids.tt)
    back = wants_torch(logits)
    return result(wts, back), result(topw, back), result(ids, back)
