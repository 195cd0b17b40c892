"""Greedy accept rule of a speculative verify step, on the device: from the ``k`` proposals and the target's
``k + 1`` argmax ids, the number ``n`` of accepted proposals (the longest prefix where
``proposal[i] == target[i]``) and the kept ids ``target[0 .. n]`` (the ``n`` accepted proposals, then the next
token ``target[n]``), in one small tile row the host reads back.

Tensors (fp32; ``RT = ceil((k + 1) / 32)`` tile rows, one core):

``proposals``  ``RT x 1`` id tiles (the family's id layout, :mod:`._plan`: row ``i`` holds proposal ``i`` as
               ``(id, id // 1024, id % 1024)`` in columns 0, 1, 2); rows ``>= k`` are ignored.  The draft's
               argmax output ``[k, 1]`` fits as it is when ``ceil(k / 32) == RT``.
``targets``    ``RT x 1`` id tiles: target ``i`` in row ``i`` (the argmax output of the ``k + 1`` verify rows;
               rows ``> k`` are ignored).
``consts``     :func:`._plan.accept_consts`: ``L`` (RT x RT, lower triangular ones), ``INV``, ``ONES`` (RT x 1),
               ``SEL1``, ``SEL2`` (1 x 1), ``J``, ``M0``, ``M0K``, ``M1`` (1 x RT).
``out``        ``1 x RT`` tiles, logical ``[2, k + 1]``: row 0, column ``j`` = ``target[j]`` for ``j <= n``, -1
               for ``j > n``; row 1 = ``n`` in every column; 0 elsewhere.

Compute (column vectors over the verify rows ``j``; ``H``, ``Lo`` = an id's columns 1 and 2)::

    pH, pL, tH, tL = P @ SEL1, P @ SEL2, T @ SEL1, T @ SEL2      row-constant HI / LO parts
    mism = max(|sign(pH - tH)| + |sign(pL - tL)|, INV)          > 0 iff the ids differ; forced at rows >= k
    c    = L @ mism                                             inclusive prefix sum
    keep = relu(ONES - (c - mism))                              1 iff no mismatch before row j, i.e. j <= n
    s    = J @ keep                                             n + 1, in every element
    kH   = keep * tH;  kL = keep * tL + keep - ONES             parts of target[j] where kept; (0, -1) elsewhere
    out  = transpose(kH) * M0K + transpose(kL) * M0 + (s @ M0) * M1 - M1
                                                                row 0: 1024 kH + kL, row 1: n

Exactness: every tile this op loads holds 0 / 1, counts <= 128 or an id's parts (< 2048), exact in a tf32
source register (matmuls: one or a few products of weight 1 per element; the transposes move values); the
full ids exist only in the DST registers of the last store (fp32, exact below 2^24).  The id column 0 of the
inputs only meets a zero weight in ``X @ SELc``.  A NaN target among the kept rows comes out as NaN (the host
rejects it); columns past ``n`` are -1 only when the targets there are finite.

Reads ``2 RT`` input tiles and ``RT^2 + 6 RT + 2`` constant tiles, writes ``RT`` tiles (4 KB for ``k <= 31``,
8 KB for ``k <= 63``).
"""

from __future__ import annotations

from functools import cache

import torch

from .. import runtime
from .._api import check_2d, device_constant, result, tensor_info, wants_torch
from ..host import TILE, TileTensor, empty, tiles, to_device
from ..runtime import ttl
from ..tiling import block_writer, buffers_like
from ._plan import MAX_ACCEPT_K, AcceptPlan, accept_consts, accept_layout, id_columns


@cache
def make_greedy_accept(plan: AcceptPlan, backend: str):
    """The accept operation for ``plan`` (``backend`` is part of the cache key only)."""
    RT = plan.rows_t
    lay = accept_layout(RT)
    CL, CI, CO, CS1, CS2 = lay["L"], lay["INV"], lay["ONES"], lay["SEL1"], lay["SEL2"]
    CJ, C0, C0K, C1 = lay["J"], lay["M0"], lay["M0K"], lay["M1"]

    @ttl.operation(grid=(1, 1))
    def greedy_accept_op(proposals, targets, consts, out):
        p_dfb = ttl.make_dataflow_buffer_like(proposals, shape=(RT, 1), block_count=1)
        t_dfb = ttl.make_dataflow_buffer_like(targets, shape=(RT, 1), block_count=1)
        # the constants: L (RT x RT), INV, ONES (RT x 1), SEL1, SEL2 (1 x 1), J, M0, M0K, M1 (1 x RT)
        l_dfb = ttl.make_dataflow_buffer_like(consts, shape=(RT, RT), block_count=1)
        inv_dfb, ones_dfb = buffers_like(consts, 2, (RT, 1))
        sel1_dfb, sel2_dfb = buffers_like(consts, 2)
        j_dfb, m0_dfb, m0k_dfb, m1_dfb = buffers_like(consts, 4, (1, RT))
        # column vectors over the verify rows: tH, tL, pH, pL, mism, the prefix count c, keep; s = n + 1; kH, kL;
        # the rows transpose(kH), transpose(kL), s @ M0
        th_dfb, tl_dfb, ph_dfb, pl_dfb, mm_dfb, c_dfb, keep_dfb = buffers_like(consts, 7, (RT, 1))
        s_dfb = ttl.make_dataflow_buffer_like(consts, shape=(1, 1), block_count=1)
        kh_dfb, kl_dfb = buffers_like(consts, 2, (RT, 1))
        kht_dfb, klt_dfb, nb_dfb = buffers_like(consts, 3, (1, RT))
        out_dfb = ttl.make_dataflow_buffer_like(out, shape=(1, RT), block_count=1)

        @ttl.datamovement()
        def reader():
            with p_dfb.reserve() as pb, t_dfb.reserve() as tb:
                tp = ttl.copy(proposals[0:RT, 0:1], pb)
                tt = ttl.copy(targets[0:RT, 0:1], tb)
                tp.wait()
                tt.wait()
            with sel1_dfb.reserve() as s1, sel2_dfb.reserve() as s2, inv_dfb.reserve() as ib, ones_dfb.reserve() as ob:
                t1 = ttl.copy(consts[0:1, CS1:CS1 + 1], s1)
                t2 = ttl.copy(consts[0:1, CS2:CS2 + 1], s2)
                ti = ttl.copy(consts[0:RT, CI:CI + 1], ib)
                to = ttl.copy(consts[0:RT, CO:CO + 1], ob)
                t1.wait()
                t2.wait()
                ti.wait()
                to.wait()
            with l_dfb.reserve() as lb, j_dfb.reserve() as jb:
                tl = ttl.copy(consts[0:RT, CL:CL + RT], lb)
                tj = ttl.copy(consts[0:1, CJ:CJ + RT], jb)
                tl.wait()
                tj.wait()
            with m0_dfb.reserve() as ab, m0k_dfb.reserve() as bb, m1_dfb.reserve() as cb:
                t0 = ttl.copy(consts[0:1, C0:C0 + RT], ab)
                tk = ttl.copy(consts[0:1, C0K:C0K + RT], bb)
                tm = ttl.copy(consts[0:1, C1:C1 + RT], cb)
                t0.wait()
                tk.wait()
                tm.wait()

        @ttl.compute()
        def compute():
            # the ids' HI and LO parts, row-constant (each matmul stored alone)
            sel1 = sel1_dfb.wait()
            sel2 = sel2_dfb.wait()
            with t_dfb.wait() as tb:
                with th_dfb.reserve() as hb:
                    hb.store(tb @ sel1)
                with tl_dfb.reserve() as lb:
                    lb.store(tb @ sel2)
            with p_dfb.wait() as pb:
                with ph_dfb.reserve() as hb:
                    hb.store(pb @ sel1)
                with pl_dfb.reserve() as lb:
                    lb.store(pb @ sel2)
            sel1.pop()
            sel2.pop()
            th = th_dfb.wait()
            tl = tl_dfb.wait()
            ones = ones_dfb.wait()
            # mismatch per verify row (forced at rows >= k), prefix count, keep = 1 iff row <= n
            with ph_dfb.wait() as phb, pl_dfb.wait() as plb, inv_dfb.wait() as ib, mm_dfb.reserve() as mb:
                mb.store(ttl.math.max(ttl.math.abs(ttl.math.sign(phb - th)) + ttl.math.abs(ttl.math.sign(plb - tl)),
                                      ib))
            with mm_dfb.wait() as mb:
                with l_dfb.wait() as lb, c_dfb.reserve() as cb:
                    cb.store(lb @ mb)
                with c_dfb.wait() as cb, keep_dfb.reserve() as kb:
                    kb.store(ttl.math.relu(ones - (cb - mb)))
            with keep_dfb.wait() as kb:
                with j_dfb.wait() as jb, s_dfb.reserve() as sn:
                    sn.store(jb @ kb)  # n + 1
                with kh_dfb.reserve() as khb:
                    khb.store(kb * th)  # HI of the target where kept, 0 elsewhere
                with kl_dfb.reserve() as klb:
                    klb.store(kb * tl + kb - ones)  # LO of the target where kept, -1 elsewhere
            th.pop()
            tl.pop()
            ones.pop()
            with kh_dfb.wait() as khb, kht_dfb.reserve() as xb:
                xb.store(ttl.math.transpose(khb))
            with kl_dfb.wait() as klb, klt_dfb.reserve() as xb:
                xb.store(ttl.math.transpose(klb))
            m0 = m0_dfb.wait()
            with s_dfb.wait() as sn, nb_dfb.reserve() as nb:
                nb.store(sn @ m0)  # n + 1 over the 1 x RT row of tiles
            # row 0: 1024 HI + LO (the id, or -1), row 1: n
            with kht_dfb.wait() as kht, klt_dfb.wait() as klt, nb_dfb.wait() as nb:
                with m0k_dfb.wait() as m0k, m1_dfb.wait() as m1, out_dfb.reserve() as ob:
                    ob.store(kht * m0k + klt * m0 + nb * m1 - m1)
            m0.pop()

        block_writer(out, out_dfb, 1, 1, 1, 1, 1, RT)  # one core, one 1 x RT block

    return greedy_accept_op


def _ids_column(x, arg: str, rows_needed: int, rows_t: int, pad: float) -> TileTensor:
    """``x`` as an fp32 TileTensor of id tiles (the family's id layout) with ``rows_t`` tile rows."""
    if isinstance(x, TileTensor):
        shape, dtype = tensor_info(x, arg, ("fp32",))
        check_2d(shape, arg)
        if shape[0] < rows_needed or tiles(shape[0]) != rows_t:
            raise ValueError(f"{arg}: expected at least {rows_needed} rows in {rows_t} tile row(s) of id tiles; "
                             f"got shape {tuple(shape)}")
        return x
    t = torch.as_tensor(x).float()
    t = t.reshape(t.shape[0], -1)[:, 0] if t.dim() else t.reshape(1)
    if t.shape[0] < rows_needed:
        raise ValueError(f"{arg}: expected at least {rows_needed} ids; got {t.shape[0]}")
    col = id_columns(torch.full((rows_t * TILE,), pad))  # rows past the ids hold ``pad``
    n = min(t.shape[0], rows_t * TILE)
    col[:n] = id_columns(t[:n])
    return to_device(col, "fp32", pad_value=0.0)


def greedy_accept(proposals, targets, *, k: int | None = None):
    """The greedy accept rule on the device (layouts in the module docstring).

    ``proposals``: the ``k`` draft ids (torch / list, or an fp32 TileTensor of id tiles: the draft's argmax);
    ``targets``: the ``k + 1`` target argmax ids (likewise; typically :func:`.argmax`'s TileTensor output).
    ``k`` defaults to the number of proposal rows.  Returns ``[2, k + 1]``: row 0 the kept ids (-1 past ``n``),
    row 1 ``n``; torch in (targets), torch out; TileTensor targets give a TileTensor left on the device."""
    if k is None:
        k = proposals.shape[0] if isinstance(proposals, TileTensor) else len(proposals)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_ACCEPT_K:
        raise ValueError(f"k: expected an int in [1, {MAX_ACCEPT_K}]; got {k!r}")
    plan = AcceptPlan(k)
    rt = plan.rows_t
    tp = _ids_column(proposals, "proposals", k, rt, -1.0)
    tt = _ids_column(targets, "targets", k + 1, rt, -1.0)
    out = empty((2, k + 1), "fp32")
    consts = device_constant(accept_consts, "fp32", k)
    make_greedy_accept(plan, runtime.backend_name())(tp.tt, tt.tt, consts.tt, out.tt)
    return result(out, wants_torch(targets))
