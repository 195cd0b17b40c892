"""ALSpec priority tile of one device for one layer, from its role and the speculation verdicts.

Inputs (what the device holds after the speculative flash decode, :mod:`ttl_kernels.attention.speculative_decode`):

``verdict``  ``[B * 32, 32]`` bf16: tile row ``b`` filled with user ``b``'s verdict (1.0 hit, 0.0 miss).
``role``     ``[32, 32]`` bf16, uniform: 1.0 when the device is the layer's *sender* (it ran the exact
             attention), 0.0 when it is the *receiver* (it ran ahead on the speculative output).

Output, two uniform ``[32, 32]`` tiles holding the same value, in bf16 and in fp32 (the priority swap of a
tensor needs the priority in that tensor's dtype, :mod:`.mesh_select`; the residual stream may be fp32):

    P = 1 + R - 2 R H,    H = prod_b verdict_b  (1 when every user hit)

that is tt-metal ALSpec's convention: the sender writes 0 on a hit and 2 on a miss, the receiver 1.  The
higher priority wins the swap, so a hit keeps the receiver's residual stream and a miss the sender's.
The whole batch decides together (the released proof of concept's rule: the role is per device, so one
user's miss makes the layer a miss); per-user verdicts stay available for statistics.

One core (the work is ``B + 1`` tiles in, 2 out; the role and the first verdict come in one transfer batch).
Compute: ``H`` by a running product over the users' verdict tiles, the last factor applied in the store of
``t = R * H`` (running state and result in separate buffers; with one user ``t = R * v_0`` directly), then
``P = one + R - t - t`` (``one`` a single-tile fill), then ``P`` packed to the bf16 output and, through
``ttl.math.typecast``, to the fp32 one (the 1.1.1 compiler stores no mixed-dtype result without a typecast;
bf16 -> fp32 always changes the dtype, so one kernel body serves every model dtype).  Every value is a
small integer, exact in both dtypes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from .. import runtime
from .._api import as_tile, check_2d, tensor_info
from ..host import TILE, TileTensor, empty, to_torch
from ..runtime import ttl, ttnn


@dataclass(frozen=True)
class PriorityPlan:
    batch: int


@cache
def make_speculation_priority(plan: PriorityPlan, backend: str):
    """The op for ``plan`` (``backend`` is part of the cache key only)."""
    if runtime.is_sim():
        from ..attention import _simcompat

        _simcompat.install()  # ttl.math.typecast for the 1.1.1 simulator
    B = plan.batch
    ONE = 1.0

    @ttl.operation(grid=(1, 1))
    def speculation_priority_op(verdict, role, prio16, prio32):
        v_dfb = ttl.make_dataflow_buffer_like(verdict, shape=(1, 1), block_count=2)
        r_dfb = ttl.make_dataflow_buffer_like(role, shape=(1, 1), block_count=1)
        h_dfb = ttl.make_dataflow_buffer_like(verdict, shape=(1, 1), block_count=2)  # running product
        t_dfb = ttl.make_dataflow_buffer_like(role, shape=(1, 1), block_count=1)
        one_dfb = ttl.make_dataflow_buffer_like(role, shape=(1, 1), block_count=1)
        p_dfb = ttl.make_dataflow_buffer_like(role, shape=(1, 1), block_count=1)
        o16_dfb = ttl.make_dataflow_buffer_like(prio16, shape=(1, 1), block_count=1)
        o32_dfb = ttl.make_dataflow_buffer_like(prio32, shape=(1, 1), block_count=1)

        @ttl.datamovement()
        def reader():
            # the role and the first verdict in one transfer batch
            with r_dfb.reserve() as rb, v_dfb.reserve() as vb:
                tr = ttl.copy(role[0:1, 0:1], rb)
                tv = ttl.copy(verdict[0:1, 0:1], vb)
                tr.wait()
                tv.wait()
            for b in range(1, B):
                with v_dfb.reserve() as vb:
                    tv = ttl.copy(verdict[b:b + 1, 0:1], vb)
                    tv.wait()

        @ttl.compute()
        def compute():
            with one_dfb.reserve() as one:
                one.store(ttl.math.fill(one, ONE))
            with r_dfb.wait() as rb:
                if B == 1:  # (a compile-time flag) H is the one verdict: t = R * v_0
                    with v_dfb.wait() as v0, t_dfb.reserve() as t:
                        t.store(rb * v0)
                else:
                    with v_dfb.wait() as v0, h_dfb.reserve() as h:
                        h.store(v0)
                    for _user in range(1, B - 1):
                        with v_dfb.wait() as vb, h_dfb.wait() as h0, h_dfb.reserve() as h1:
                            h1.store(h0 * vb)
                    # the last verdict closes the product: t = R * (H' * v_last) (the result leaves the state)
                    with v_dfb.wait() as vb, h_dfb.wait() as h0, t_dfb.reserve() as t:
                        t.store(rb * (h0 * vb))
                with one_dfb.wait() as one, t_dfb.wait() as t, p_dfb.reserve() as p:
                    p.store(one + rb - t - t)
            with p_dfb.wait() as p:
                with o16_dfb.reserve() as o16:
                    o16.store(p)
                with o32_dfb.reserve() as o32:
                    o32.store(ttl.math.typecast(p, ttnn.float32))

        @ttl.datamovement()
        def writer():
            with o16_dfb.wait() as o16:
                t16 = ttl.copy(o16, prio16[0:1, 0:1])
                t16.wait()
            with o32_dfb.wait() as o32:
                t32 = ttl.copy(o32, prio32[0:1, 0:1])
                t32.wait()

    return speculation_priority_op


def run_priority(verdict_tt, role_tt, prio16_tt, prio32_tt, batch: int) -> None:
    """Launch on ttnn tensors already laid out as in the module docstring."""
    make_speculation_priority(PriorityPlan(batch), runtime.backend_name())(verdict_tt, role_tt, prio16_tt, prio32_tt)


def speculation_priority(verdict, role, *, batch: int | None = None):
    """``(P bf16, P fp32)`` uniform ``[32, 32]`` tiles, ``P = 1 + R - 2 R prod_b verdict_b`` (module docstring).

    ``verdict``: ``[B * 32, 32]`` bf16 (the speculative kernel's per-user tiles; ``batch`` defaults to its
    tile rows); ``role``: ``[32, 32]`` bf16.  Torch in, torch out; TileTensors in, TileTensors out."""
    sv, dv = tensor_info(verdict, "verdict", ("bf16",))
    sr, dr = tensor_info(role, "role", ("bf16",))
    check_2d(sv, "verdict")
    check_2d(sr, "role")
    if sv[0] % TILE or sv[1] != TILE:
        raise ValueError(f"verdict: expected [B * 32, 32] (one tile per user); got {tuple(sv)}")
    if tuple(sr) != (TILE, TILE):
        raise ValueError(f"role: expected one (32, 32) tile; got {tuple(sr)}")
    rows_t = sv[0] // TILE
    if batch is None:
        batch = rows_t
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= rows_t:
        raise ValueError(f"batch: expected an int in [1, {rows_t}] (users in verdict); got {batch!r}")
    tv, tr = as_tile(verdict, dv), as_tile(role, dr)
    p16, p32 = empty((TILE, TILE), "bf16"), empty((TILE, TILE), "fp32")
    run_priority(tv.tt, tr.tt, p16.tt, p32.tt, batch)
    if isinstance(verdict, TileTensor):
        return p16, p32
    if not runtime.executes():
        return None, None
    return to_torch(p16).to(runtime.TORCH_BF16), to_torch(p32)
