"""Argmax, first operation: per column unit, the row max of the unit's logits and the lowest (tile, column) that
holds it, written to DRAM as one fp32 tile.

Tensors, in tiles (plan: :class:`._plan.ArgmaxPlan`; ``u = rt * NUC + cu`` is the work unit, tile row
``rt = u // NUC``, column unit ``cu = u % NUC``; ``n`` its tile count, ``W`` or ``WL`` for the row's last
unit):

``logits``  ``RT x TT`` (bf16 or fp32; the op takes it as ``lg16`` or ``lg32``, and a stand-in tensor of the
            other dtype that only the never-taken branch names).  Unit ``u`` reads tiles ``(rt, cu W + i)``,
            ``i < n``, one at a time.
``consts``  :func:`._plan.argmax_consts`, bf16; this op reads tile 0, ``colidx[r, c] = c`` (once per busy core).
``part``    ``RT x NUC`` fp32: unit ``u`` writes tile ``(rt, cu)``: its row max ``R`` in column 0, the lowest
            unit-local tile ``Tm`` holding it in column 1, the lowest column ``Lm`` there in column 2, 0 elsewhere.

Everything is computed in fp32 tiles (bf16 logits are cast in L1; 1.1.1 needs one dtype per op).

Streaming stage, per lane (row r, column c of the unit's tiles), element-wise only::

    m = -FLT_MAX, a = -1                                  running max; age = tiles since the lane's best
    per tile x (i = 0 .. n-1):  xc = min(x, HI)            HI = FLT_MAX; on the row's last tile HI is the
                                                           cap tile (FLT_MAX on valid columns, -FLT_MAX on
                                                           padding), so padding is -FLT_MAX and never wins
                                g  = relu(sign(xc - m))    1 iff strictly greater: ties keep the earlier tile
                                a' = (a + 1) * (1 - g);  m' = max(m, xc)
    t = (n - 1) - a                                        the lane's best tile (unit-local, < W <= 256)

Since ``m >= -FLT_MAX`` and ``xc <= FLT_MAX`` are finite, ``xc - m`` is never ``inf - inf``; ``+inf`` ties with
``FLT_MAX`` and ``-inf`` with ``-FLT_MAX`` (the lowest id wins).  A NaN (valid column or padding) makes ``m``
NaN (``max`` propagates it) and poisons the result (the merge turns the id into NaN).

Final stage, per unit: three 5-step butterflies over the 32 columns (``w = op(w, w @ P_s)``, cyclic shifts
s = 16, 8, 4, 2, 1; every matmul stored alone)::

    R    = rowmax(m)                                       the unit's max (every column)
    mask = 1 - sign(R - m)                                 1 on the lanes that hold R (R - m >= 0)
    Tm   = rowmin(mask ? t : 256)                          the lowest tile holding R
    mask2 = mask * (1 - sign(t - Tm))                      lanes holding R in tile Tm
    Lm   = rowmin(mask2 ? c : 32)                          the lowest column there
    result tile: R in column 0, Tm in column 1, Lm in column 2 (column masks E_j built from colidx)

Exactness (:mod:`.argmax`): every tile this op loads into a register holds logit values, 0 / 1, integers up
to 256, or ``±FLT_MAX`` -- exact in fp32, and in tf32 (the 19-bit format of a Tensix source register) for bf16
logits (``FLT_MAX`` truncated to tf32 still bounds every bf16 value, so the clamp and the cap act the same).
Butterfly outputs are single products with weight 1.  ``P_1`` is built in L1 from ``colidx`` and its transpose
(``P_1[k, c] = 1`` iff ``k = (c + 1) mod 32``); ``P_2s = P_s @ P_s``.

Cost per tile: 3 stores (fp32) or 4 (bf16: the cast), about 9 SFPU tile ops; per unit ~40 more; per busy core
1 constant tile read (bf16, 2 KB).
"""

from __future__ import annotations

from functools import cache

from ..runtime import ttl, ttnn
from ..tiling import block_writer, buffers_like
from ._plan import FLT_MAX, ArgmaxPlan


@cache
def make_argmax_partial(plan: ArgmaxPlan, backend: str):
    """The partial-argmax operation for ``plan`` (``backend`` is part of the cache key only)."""
    from ..attention import _simcompat

    _simcompat.install()  # ttl.math.typecast on the 1.1.1 simulator
    GX, NC, NU = plan.gx, plan.n_cores, plan.n_items
    NUC, W, WL = plan.nuc, plan.w, plan.wl  # units per tile row; tiles per unit; tiles of a row's last unit
    PARTIAL = 1 if plan.valid_last < 32 else 0  # 1: the row's last tile has padding columns
    CAST = plan.cast
    HI = FLT_MAX
    LO = -FLT_MAX
    VLH = plan.valid_last - 0.5  # columns c > VLH are padding
    WM1 = float(W - 1)
    WLM1 = float(WL - 1)
    ONE = 1.0
    MINUS_ONE = -1.0
    C32 = 32.0
    C256 = 256.0  # 'no tile' in the tile-number min (t < W <= 256)
    WRAP = 30.5  # column 31 wraps around in P_1

    @ttl.operation(grid=(plan.gx, plan.gy))
    def argmax_partial(lg16, lg32, consts, part):
        # the logits are lg16 (bf16, CAST = 1) or lg32 (fp32, CAST = 0); the other argument is a stand-in of
        # that dtype, only named in the branch that never runs (1.1.1 compiles both branches of an if, and a
        # typecast must change the dtype, so each branch needs a tensor of its own dtype)
        x16_dfb = ttl.make_dataflow_buffer_like(lg16, shape=(1, 1), block_count=2)
        x32_dfb = ttl.make_dataflow_buffer_like(lg32, shape=(1, 1), block_count=2)
        xw_dfb = ttl.make_dataflow_buffer_like(part, shape=(1, 1), block_count=1)  # the tile in fp32
        xc_dfb = ttl.make_dataflow_buffer_like(part, shape=(1, 1), block_count=2)  # clamped
        k_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        # constants held by compute for the whole kernel: colidx in fp32, HI, 1, 32, 256, the column masks E_0,
        # E_1, E_2 and the cyclic shifts P_1 .. P_16
        col_dfb, hi_dfb, one_dfb, c32_dfb, c256_dfb = buffers_like(part, 5)
        e0_dfb, e1_dfb, e2_dfb = buffers_like(part, 3)
        p1_dfb, p2_dfb, p4_dfb, p8_dfb, p16_dfb = buffers_like(part, 5)
        # temporaries: fills, the butterfly matmul result; the butterfly state (2 slots); the butterfly input (and
        # the cap tile), R, R * E_0, Tm, the mask, the best tile per lane (and the row index)
        f_dfb, d_dfb = buffers_like(part, 2)
        w_dfb = ttl.make_dataflow_buffer_like(part, shape=(1, 1), block_count=2)
        ky_dfb, r_dfb, r0_dfb, tm_dfb, mk_dfb, t_dfb = buffers_like(part, 6)
        # running state per lane (ping-pong): max m and age a; the result (compute -> writer): R, Tm, Lm in
        # columns 0, 1, 2
        m_dfb, a_dfb, out_dfb = buffers_like(part, 3, block_count=2)

        logits_reader(lg16, lg32, consts, x16_dfb, x32_dfb, k_dfb, GX, NC, NU, NUC, W, WL, CAST)

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            if core < NU:
                # constants: colidx in fp32, HI, 1, 32, 256, column masks and the cyclic shifts P_1 .. P_16
                with k_dfb.wait() as kb, col_dfb.reserve() as cb:
                    cb.store(ttl.math.typecast(kb, ttnn.float32))
                col = col_dfb.wait()
                with hi_dfb.reserve() as hb:
                    hb.store(ttl.math.fill(hb, HI))
                hi = hi_dfb.wait()
                with one_dfb.reserve() as ob:
                    ob.store(ttl.math.fill(ob, ONE))
                one = one_dfb.wait()
                with c32_dfb.reserve() as cb:
                    cb.store(ttl.math.fill(cb, C32))
                c32 = c32_dfb.wait()
                with c256_dfb.reserve() as cb:
                    cb.store(ttl.math.fill(cb, C256))
                c256 = c256_dfb.wait()
                # column masks E_j = 1 on column j (colidx is an integer >= 0)
                with e0_dfb.reserve() as eb:
                    eb.store(ttl.math.relu(one - col))
                e0 = e0_dfb.wait()
                with e1_dfb.reserve() as eb:
                    eb.store(ttl.math.relu(one - ttl.math.abs(col - one)))
                e1 = e1_dfb.wait()
                with e2_dfb.reserve() as eb:
                    eb.store(ttl.math.relu(one - ttl.math.abs(col - one - one)))
                e2 = e2_dfb.wait()
                # P_1[k, c] = 1 iff k == (c + 1) mod 32: row index k = transpose(colidx)
                with t_dfb.reserve() as rb:
                    rb.store(ttl.math.transpose(col))
                with f_dfb.reserve() as fb:
                    fb.store(ttl.math.fill(fb, WRAP))
                with f_dfb.wait() as fb, d_dfb.reserve() as db:
                    # (c + 1) mod 32 = c + 1 - 32 [c > 30.5]
                    db.store(col + one - ttl.math.relu(ttl.math.sign(col - fb)) * c32)
                with t_dfb.wait() as rb, d_dfb.wait() as db, p1_dfb.reserve() as pb:
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
                for u in range(core, NU, NC):
                    cu = u % NUC  # column unit
                    last = (cu + 1) // NUC  # 1 iff the row's last unit
                    n = W + last * (WL - W)  # the unit's tiles
                    capped = last * PARTIAL  # 1 iff the unit ends with the row's padded tile
                    with m_dfb.reserve() as mb:
                        mb.store(ttl.math.fill(mb, LO))
                    with a_dfb.reserve() as ab:
                        ab.store(ttl.math.fill(ab, MINUS_ONE))
                    # streaming stage: per lane running max m and age a
                    for i in range(n):
                        # xc = min(x, HI) in fp32; on the row's last tile min(x, cap): cap = HI on valid
                        # columns, -HI on padding columns
                        if (capped == 1) and (i == n - 1):
                            with f_dfb.reserve() as fb:
                                fb.store(ttl.math.fill(fb, VLH))
                            with f_dfb.wait() as fb, ky_dfb.reserve() as cpb:
                                cpb.store(hi * (one - ttl.math.relu(ttl.math.sign(col - fb))
                                                - ttl.math.relu(ttl.math.sign(col - fb))))
                            with ky_dfb.wait() as cp:
                                if CAST == 1:
                                    with x16_dfb.wait() as xb, xw_dfb.reserve() as xw:
                                        xw.store(ttl.math.typecast(xb, ttnn.float32))
                                    with xw_dfb.wait() as xb, xc_dfb.reserve() as xw:
                                        xw.store(ttl.math.min(xb, cp))
                                else:
                                    with x32_dfb.wait() as xb, xc_dfb.reserve() as xw:
                                        xw.store(ttl.math.min(xb, cp))
                        else:
                            if CAST == 1:
                                with x16_dfb.wait() as xb, xw_dfb.reserve() as xw:
                                    xw.store(ttl.math.typecast(xb, ttnn.float32))
                                with xw_dfb.wait() as xb, xc_dfb.reserve() as xw:
                                    xw.store(ttl.math.min(xb, hi))
                            else:
                                with x32_dfb.wait() as xb, xc_dfb.reserve() as xw:
                                    xw.store(ttl.math.min(xb, hi))
                        # g = 1 iff strictly greater; a' = (a + 1)(1 - g); m' = max(m, xc)
                        with xc_dfb.wait() as xv, m_dfb.wait() as m0, a_dfb.wait() as a0:
                            with a_dfb.reserve() as a1:
                                a1.store((a0 + one) * (one - ttl.math.relu(ttl.math.sign(xv - m0))))
                            with m_dfb.reserve() as m1:
                                m1.store(ttl.math.max(m0, xv))
                    # t = (n - 1) - a: the lane's best tile
                    with f_dfb.reserve() as fb:
                        if last == 1:
                            fb.store(ttl.math.fill(fb, WLM1))
                        else:
                            fb.store(ttl.math.fill(fb, WM1))
                    with f_dfb.wait() as fb, a_dfb.wait() as af, t_dfb.reserve() as tb:
                        tb.store(fb - af)
                    # R = row max of m (butterfly), mask = 1 - sign(R - m)
                    with m_dfb.wait() as mf:
                        with d_dfb.reserve() as db:
                            db.store(mf @ p16)
                        with d_dfb.wait() as db, w_dfb.reserve() as wb:
                            wb.store(ttl.math.max(mf, db))
                        with w_dfb.wait() as wa:
                            with d_dfb.reserve() as db:
                                db.store(wa @ p8)
                            with d_dfb.wait() as db, w_dfb.reserve() as wb:
                                wb.store(ttl.math.max(wa, db))
                        with w_dfb.wait() as wa:
                            with d_dfb.reserve() as db:
                                db.store(wa @ p4)
                            with d_dfb.wait() as db, w_dfb.reserve() as wb:
                                wb.store(ttl.math.max(wa, db))
                        with w_dfb.wait() as wa:
                            with d_dfb.reserve() as db:
                                db.store(wa @ p2)
                            with d_dfb.wait() as db, w_dfb.reserve() as wb:
                                wb.store(ttl.math.max(wa, db))
                        with w_dfb.wait() as wa:
                            with d_dfb.reserve() as db:
                                db.store(wa @ p1)
                            with d_dfb.wait() as db, r_dfb.reserve() as rb:
                                rb.store(ttl.math.max(wa, db))
                        with r_dfb.wait() as rb:
                            with mk_dfb.reserve() as mk:
                                mk.store(one - ttl.math.sign(rb - mf))
                            with r0_dfb.reserve() as r0:
                                r0.store(rb * e0)  # R in column 0 of the result
                    # Tm = row min of (mask ? t : 256)
                    with t_dfb.wait() as tb, mk_dfb.wait() as mk:
                        with ky_dfb.reserve() as kyb:
                            kyb.store(c256 + mk * (tb - c256))
                        with ky_dfb.wait() as kyb:
                            with d_dfb.reserve() as db:
                                db.store(kyb @ p16)
                            with d_dfb.wait() as db, w_dfb.reserve() as wb:
                                wb.store(ttl.math.min(kyb, db))
                        with w_dfb.wait() as wa:
                            with d_dfb.reserve() as db:
                                db.store(wa @ p8)
                            with d_dfb.wait() as db, w_dfb.reserve() as wb:
                                wb.store(ttl.math.min(wa, db))
                        with w_dfb.wait() as wa:
                            with d_dfb.reserve() as db:
                                db.store(wa @ p4)
                            with d_dfb.wait() as db, w_dfb.reserve() as wb:
                                wb.store(ttl.math.min(wa, db))
                        with w_dfb.wait() as wa:
                            with d_dfb.reserve() as db:
                                db.store(wa @ p2)
                            with d_dfb.wait() as db, w_dfb.reserve() as wb:
                                wb.store(ttl.math.min(wa, db))
                        with w_dfb.wait() as wa:
                            with d_dfb.reserve() as db:
                                db.store(wa @ p1)
                            with d_dfb.wait() as db, tm_dfb.reserve() as tmb:
                                tmb.store(ttl.math.min(wa, db))
                        # lanes holding R in tile Tm: key = column there, 32 elsewhere
                        with tm_dfb.wait() as tm:
                            with ky_dfb.reserve() as kyb:
                                kyb.store(c32 + mk * (one - ttl.math.sign(tb - tm)) * (col - c32))
                            with ky_dfb.wait() as kyb:
                                with d_dfb.reserve() as db:
                                    db.store(kyb @ p16)
                                with d_dfb.wait() as db, w_dfb.reserve() as wb:
                                    wb.store(ttl.math.min(kyb, db))
                            with w_dfb.wait() as wa:
                                with d_dfb.reserve() as db:
                                    db.store(wa @ p8)
                                with d_dfb.wait() as db, w_dfb.reserve() as wb:
                                    wb.store(ttl.math.min(wa, db))
                            with w_dfb.wait() as wa:
                                with d_dfb.reserve() as db:
                                    db.store(wa @ p4)
                                with d_dfb.wait() as db, w_dfb.reserve() as wb:
                                    wb.store(ttl.math.min(wa, db))
                            with w_dfb.wait() as wa:
                                with d_dfb.reserve() as db:
                                    db.store(wa @ p2)
                                with d_dfb.wait() as db, w_dfb.reserve() as wb:
                                    wb.store(ttl.math.min(wa, db))
                            with w_dfb.wait() as wa:
                                with d_dfb.reserve() as db:
                                    db.store(wa @ p1)
                                with d_dfb.wait() as db, w_dfb.reserve() as wb:
                                    wb.store(ttl.math.min(wa, db))
                            # the unit's result tile: R, Tm, Lm in columns 0, 1, 2
                            with w_dfb.wait() as lm, r0_dfb.wait() as r0, out_dfb.reserve() as ob:
                                ob.store(r0 + tm * e1 + lm * e2)
                col.pop()
                hi.pop()
                one.pop()
                c32.pop()
                c256.pop()
                e0.pop()
                e1.pop()
                e2.pop()
                p1.pop()
                p2.pop()
                p4.pop()
                p8.pop()
                p16.pop()

        block_writer(part, out_dfb, GX, NC, NU, NUC, 1, 1)  # unit u's result: tile (rt, cu) of part

    return argmax_partial


def logits_reader(lg16, lg32, consts, x16_dfb, x32_dfb, k_dfb, GX, NC, NU, NUC, W, WL, CAST):
    """Trace time (call it in an operation's body): the reader of a kernel that walks the logits tile by tile in
    column units -- this op, and the MoE router (:mod:`ttl_kernels.moe.router`), whose unit is a whole tile row
    (``NUC = 1``, ``W = WL`` = the row's tiles).  A busy core first reads ``colidx`` (tile 0 of ``consts``) into
    ``k_dfb``, then takes units ``k, k + NC, ...``: unit ``u`` is tiles ``[cu W, cu W + n)`` of tile row
    ``u // NUC`` (``cu = u % NUC``; ``n = WL`` for a row's last unit, else ``W``), read one at a time into
    ``x16_dfb`` (``CAST = 1``: bf16 logits ``lg16``) or ``x32_dfb`` (fp32 ``lg32``).  The operation must call its
    buffers by these names: the simulator keys buffers by the name the threads capture them under."""

    @ttl.datamovement()
    def reader():
        x, y = ttl.node(dims=2)
        core = y * GX + x
        if core < NU:
            with k_dfb.reserve() as kb:
                tk = ttl.copy(consts[0:1, 0:1], kb)
                tk.wait()
            for u in range(core, NU, NC):  # units core, core + NC, ...
                rt = u // NUC  # tile row of the unit
                cu = u % NUC  # column unit: tiles [cu W, cu W + n)
                last = (cu + 1) // NUC  # 1 iff the row's last unit (cu = NUC - 1)
                n = W + last * (WL - W)  # the unit's tiles
                c0 = cu * W
                for i in range(n):
                    if CAST == 1:
                        with x16_dfb.reserve() as xb:
                            tx = ttl.copy(lg16[rt:rt + 1, c0 + i:c0 + i + 1], xb)
                            tx.wait()
                    else:
                        with x32_dfb.reserve() as xb:
                            tx = ttl.copy(lg32[rt:rt + 1, c0 + i:c0 + i + 1], xb)
                            tx.wait()

    return reader
