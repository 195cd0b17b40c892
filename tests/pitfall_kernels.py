"""Tiny kernels in the three fused forms tt-lang 1.1.1 silently miscompiles, plus correct controls.

Used by tests/test_lint.py: each is compiled for real and the lint must flag exactly the bad ones.
C1 ``max(a, a @ b)``: the max lands in DST[1] and DST[0] (the matmul) is packed.
C2 ``x * (a @ b)`` with a (1,1) @ (1,4) matmul: the matmul overwrites the copied-in x tiles.
C3 ``(s - broadcast(m)) * fill(c)`` on a 2-tile block: copies of s overwrite the fill constants.
"""

from __future__ import annotations

import torch

from ttl_kernels import host
from ttl_kernels.runtime import ttl


def _op(kind: int, ashape, bshape, oshape):
    A0, A1, B0, B1, O0, O1 = *ashape, *bshape, *oshape
    HALF = 0.5

    @ttl.operation(grid=(1, 1))
    def pitfall(a, b, y):
        a_dfb = ttl.make_dataflow_buffer_like(a, shape=ashape, block_count=1)
        b_dfb = ttl.make_dataflow_buffer_like(b, shape=bshape, block_count=1)
        t_dfb = ttl.make_dataflow_buffer_like(y, shape=oshape, block_count=1)
        y_dfb = ttl.make_dataflow_buffer_like(y, shape=oshape, block_count=1)

        # the kind is chosen in plain Python while the op body runs: only one compute thread exists
        if kind == 1:
            @ttl.compute()
            def compute():
                with a_dfb.wait() as ab, b_dfb.wait() as bb, y_dfb.reserve() as yb:
                    yb.store(ttl.math.max(ab, ab @ bb))
        elif kind == 2:
            @ttl.compute()
            def compute():
                with a_dfb.wait() as ab, b_dfb.wait() as bb, y_dfb.reserve() as yb:
                    yb.store(bb * (ab @ bb))
        elif kind == 3:
            @ttl.compute()
            def compute():
                with a_dfb.wait() as ab, b_dfb.wait() as bb, y_dfb.reserve() as yb:
                    yb.store((bb - ttl.math.broadcast(ab, yb, dims=[1])) * ttl.math.fill(yb, HALF))
        elif kind == 4:  # control for C1: the matmul stored alone, then the max
            @ttl.compute()
            def compute():
                with a_dfb.wait() as ab, b_dfb.wait() as bb:
                    with t_dfb.reserve() as tb:
                        tb.store(ab @ bb)
                    with t_dfb.wait() as tb, y_dfb.reserve() as yb:
                        yb.store(ttl.math.max(ab, tb))
        else:  # control for C2: the matmul stored alone, then the product
            @ttl.compute()
            def compute():
                with a_dfb.wait() as ab, b_dfb.wait() as bb:
                    with t_dfb.reserve() as tb:
                        tb.store(ab @ bb)
                    with t_dfb.wait() as tb, y_dfb.reserve() as yb:
                        yb.store(bb * tb)

        @ttl.datamovement()
        def reader():
            with a_dfb.reserve() as ab, b_dfb.reserve() as bb:
                ta = ttl.copy(a[0:A0, 0:A1], ab)
                tb = ttl.copy(b[0:B0, 0:B1], bb)
                ta.wait()
                tb.wait()

        @ttl.datamovement()
        def writer():
            with y_dfb.wait() as yb:
                tw = ttl.copy(yb, y[0:O0, 0:O1])
                tw.wait()

    return pitfall


_SHAPES = {1: ((1, 1), (1, 1), (1, 1)), 2: ((1, 1), (1, 4), (1, 4)), 3: ((1, 1), (1, 2), (1, 2)),
           4: ((1, 1), (1, 1), (1, 1)), 5: ((1, 1), (1, 4), (1, 4))}


def run(kind: int) -> None:
    """Compile-driver entry: ``tests.pitfall_kernels:run:kind=1``."""
    a, b, o = _SHAPES[kind]
    t = lambda s: host.to_device(torch.zeros(32 * s[0], 32 * s[1]), "bf16")  # noqa: E731
    _op(kind, a, b, o)(t(a).tt, t(b).tt, t(o).tt)
