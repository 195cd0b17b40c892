"""Routing weights applied to expert activations: ``out[n, s * Ip + j] = a[n, s * Ip + j] * w[n, s]``.

``a [N, S * Ip]`` holds ``S`` slots of ``Ip = IT * 32`` columns each: the SwiGLU outputs (``silu_mul``) of every
expert in the all-experts masked compute (``S = E``, ``w`` the router's dense ``weights``: 0 for the experts a
row did not pick), or of the gathered slots of a real-shape step (``S = k``, ``w`` the router's ``topw``).  The
down projection of the scaled activations is then the weighted sum of the expert outputs (one matmul over all
slots).

Tensors, in tiles (plan :class:`._plan.ScalePlan`): a work item ``u = (rt * S + s) * NCH + j`` is ``CW`` consecutive
tiles of slot ``s`` in tile row ``rt`` (chunk ``j``); per item the reader copies the weight tile
``w[rt, s // 32]`` (fp32), the selector ``S_{s % 32}`` (fp32, row ``s % 32`` ones: ``w @ S`` copies column
``s % 32`` of ``w`` to every column, a single product with weight 1, exact) and the ``CW`` activation tiles;
compute forms ``wb = w @ S`` (stored alone), casts it to bf16 for bf16 activations (the reference rounds the
weights to the model dtype too), and multiplies every tile by it; the writer stores the tiles.  Activations in
bf16 or fp32 (the op takes them as ``a16`` / ``a32`` with a stand-in of the other dtype, and likewise the
output, as :mod:`ttl_kernels.sampling`'s argmax does); the result has the activations' dtype.

DRAM traffic: the activations once in and out, per item one weight tile and one selector tile (4 KB each).
"""

from __future__ import annotations

from functools import cache

from .. import runtime
from .._api import as_tile, check_2d, device_constant, result, tensor_info, wants_torch
from ..host import TILE, empty
from ..runtime import ttl, ttnn
from ..tiling import buffers_of
from ._plan import ScalePlan, plan_scale, router_consts, selector_consts

DTYPES = ("bf16", "fp32")

@cache
def make_expert_scale(plan: ScalePlan, backend: str):
    """The operation for ``plan`` (``backend`` is part of the cache key only)."""
    from ..attention import _simcompat

    _simcompat.install()  # ttl.math.typecast on the 1.1.1 simulator
    GX, NC, NU = plan.gx, plan.n_cores, plan.n_items
    S, IT, CW, NCH = plan.slots, plan.it, plan.cw, plan.nch
    CAST = plan.cast

    @ttl.operation(grid=(plan.gx, plan.gy))
    def expert_scale(a16, a32, w, sel, o16, o32):
        # a16 / o16: bf16 activations and result, a32 / o32: fp32 (the pair not in use are stand-ins).  Per item: the
        # activation tiles, the slot's weight tile and selector; w @ S in fp32 (and cast to bf16); the result tiles
        a16_dfb, a32_dfb, w_dfb, s_dfb = buffers_of((a16, a32, w, sel), block_count=2)
        wb_dfb, w16_dfb = buffers_of((w, a16))
        o16_dfb, o32_dfb = buffers_of((o16, o32), block_count=2)

        @ttl.datamovement()
        def reader():
            x, y = ttl.node(dims=2)
            for u in range(y * GX + x, NU, NC):  # items core, core + NC, ...
                rs = u // NCH  # (tile row, slot)
                j = u % NCH  # chunk within the slot
                rt = rs // S
                s = rs % S
                c0 = s * IT + j * CW  # first tile column of the item
                wc = s // 32  # the weight tile and the selector of the slot
                sc = s % 32
                with w_dfb.reserve() as wb, s_dfb.reserve() as sb:
                    tw = ttl.copy(w[rt:rt + 1, wc:wc + 1], wb)
                    tw.wait()
                    ts = ttl.copy(sel[0:1, sc:sc + 1], sb)
                    ts.wait()
                for i in range(CW):
                    if CAST == 1:
                        with a16_dfb.reserve() as ab:
                            ta = ttl.copy(a16[rt:rt + 1, c0 + i:c0 + i + 1], ab)
                            ta.wait()
                    else:
                        with a32_dfb.reserve() as ab:
                            ta = ttl.copy(a32[rt:rt + 1, c0 + i:c0 + i + 1], ab)
                            ta.wait()

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            for _u in range(y * GX + x, NU, NC):
                with w_dfb.wait() as wv, s_dfb.wait() as sv, wb_dfb.reserve() as wb:
                    wb.store(wv @ sv)  # every column = the slot's weight of the row
                if CAST == 1:
                    with wb_dfb.wait() as wb, w16_dfb.reserve() as w16:
                        w16.store(ttl.math.typecast(wb, ttnn.bfloat16))
                    with w16_dfb.wait() as w16:
                        for _i in range(CW):
                            with a16_dfb.wait() as ab, o16_dfb.reserve() as ob:
                                ob.store(ab * w16)
                else:
                    with wb_dfb.wait() as wb:
                        for _i in range(CW):
                            with a32_dfb.wait() as ab, o32_dfb.reserve() as ob:
                                ob.store(ab * wb)

        @ttl.datamovement()
        def writer():
            x, y = ttl.node(dims=2)
            for u in range(y * GX + x, NU, NC):
                rs = u // NCH
                j = u % NCH
                rt = rs // S
                s = rs % S
                c0 = s * IT + j * CW
                for i in range(CW):
                    if CAST == 1:
                        with o16_dfb.wait() as ob:
                            to = ttl.copy(ob, o16[rt:rt + 1, c0 + i:c0 + i + 1])
                            to.wait()
                    else:
                        with o32_dfb.wait() as ob:
                            to = ttl.copy(ob, o32[rt:rt + 1, c0 + i:c0 + i + 1])
                            to.wait()

    return expert_scale


def expert_scale(a, weights):
    """``a [N, S * Ip]`` (bf16 or fp32; ``Ip`` a multiple of 32) times ``weights [N, S]`` (fp32) broadcast over each
    slot's ``Ip`` columns; the result has ``a``'s dtype (reference :func:`reference.moe_kernels.expert_scale`).

    Torch in, torch out; TileTensors in, a TileTensor out (left on the device)."""
    sa, da = tensor_info(a, "a", DTYPES)
    sw, _ = tensor_info(weights, "weights", ("fp32",))
    rows, cols = check_2d(sa, "a")
    wrows, slots = check_2d(sw, "weights")
    if wrows != rows:
        raise ValueError(f"weights: expected {rows} rows to match a's; got shape {sw}")
    if cols % (slots * TILE):
        raise ValueError(f"a: expected {slots} slots of whole 32-column tiles ({slots} x a multiple of 32 columns) "
                         f"for weights of shape {sw}; got {cols} columns")
    plan = plan_scale(rows, slots, cols // (slots * TILE), da, runtime.grid())
    ta, tw = as_tile(a, da), as_tile(weights, "fp32")
    out = empty((rows, cols), da)
    sel = device_constant(selector_consts, "fp32")
    stand16 = device_constant(router_consts, "bf16")  # a one-tile bf16 stand-in (never read)
    if da == "bf16":
        args = (ta.tt, tw.tt, tw.tt, sel.tt, out.tt, tw.tt)
    else:
        args = (stand16.tt, ta.tt, tw.tt, sel.tt, stand16.tt, out.tt)
    make_expert_scale(plan, runtime.backend_name())(*args)
    return result(out, wants_torch(a))
