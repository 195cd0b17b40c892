"""``ttl.math.typecast`` for the 1.1.1 simulator.

The 1.1.1 compiler requires every operand of an op (and the buffer it is stored into) to have the same
tile dtype, so the attention kernels convert bfloat8_b K/V blocks to bf16 in L1 with
``ttl.math.typecast(block, ttnn.bfloat16)`` (lowered to ``typecast_tile``).  The bundled simulator has no
``typecast``; this adds one with the same meaning: the block's values rounded to the target dtype (for
bf16 from bfloat8_b, an exact identity).  Installed once, when a kernel factory first runs on the
simulator; on the compiler backends it does nothing.
"""

from __future__ import annotations

from .. import runtime

_installed = False


def install() -> None:
    global _installed
    if _installed or not runtime.is_sim():
        return
    from ttl.sim import math as sim_math

    sim_ttl = runtime.backend().ttl
    if hasattr(sim_ttl.math, "typecast"):
        _installed = True
        return

    def typecast(block, dtype):
        name = str(dtype).lower()
        if "bfloat8" in name:
            from ..host import quantize_bfp8_b

            return sim_math._apply_unary_with_params(block, lambda t: quantize_bfp8_b(t.float()).to(t.dtype))
        if "bfloat16" in name:
            bf16 = runtime.TORCH_BF16
            return sim_math._apply_unary_with_params(block, lambda t: t.to(bf16).to(t.dtype))
        return sim_math._apply_unary_with_params(block, lambda t: t)

    sim_ttl.math.typecast = typecast
    _installed = True
