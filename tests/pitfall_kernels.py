"""Tiny kernels in the three fused forms tt-lang 1.1.1 silently miscompiles, plus correct controls, and
probes of what the kernels' structure relies on.

Used by tests/test_lint.py: each is compiled for real and the lint must flag exactly the bad ones.
C1 ``max(a, a @ b)``: the max lands in DST[1] and DST[0] (the matmul) is packed.
C2 ``x * (a @ b)`` with a (1,1) @ (1,4) matmul: the matmul overwrites the copied-in x tiles.
C3 ``(s - broadcast(m)) * fill(c)`` on a 2-tile block: copies of s overwrite the fill constants.

Used by tests/test_compile_dialect.py (:func:`probe`): ``call``, a thread that calls a plain Python function;
``range``, threads made by a trace-time helper function, walking tiles with ``range(core, n, n_cores)``
(a runtime start), with a buffer alias used only under a compile-time-constant branch that is off.
"""

from __future__ import annotations

import torch

from ttl_kernels import host
from ttl_kernels.runtime import ttl
from ttl_kernels.tiling import block_writer


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
        else:  # controls for C1 (kind 4: the max) and C2 (kind 5: the product): the matmul stored alone first
            MAX = 1 if kind == 4 else 0

            @ttl.compute()
            def compute():
                with a_dfb.wait() as ab, b_dfb.wait() as bb:
                    with t_dfb.reserve() as tb:
                        tb.store(ab @ bb)
                    with t_dfb.wait() as tb, y_dfb.reserve() as yb:
                        if MAX == 1:
                            yb.store(ttl.math.max(bb, tb))
                        else:
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


# ------------------------------------------------------------------------------------------ dialect probes


def tile_of(u, CT):
    """Tile ``u`` of a row-major ``? x CT``-tile tensor -> (row, col): the plain Python helper of probe ``call``."""
    return u // CT, u % CT


def _probe_threads(kind: str, x, y, x_dfb, out_dfb, spare_dfb, GX, NU, NC, CT):
    """Trace time (plain Python): define the probe's three threads; every core ``k`` takes tiles
    ``k, k + NC, ...`` (``range`` with a runtime start) and writes ``exp`` of each (the writer is the
    library's trace-time builder :func:`ttl_kernels.tiling.block_writer`, one-tile blocks)."""
    OFF = 0  # a compile-time constant branch that is off: spare_dfb (an alias of out_dfb) is used only there

    @ttl.compute()
    def compute():
        cx, cy = ttl.node(dims=2)
        for _u in range(cy * GX + cx, NU, NC):
            with x_dfb.wait() as xb, out_dfb.reserve() as yb:
                yb.store(ttl.math.exp(xb))
                if OFF == 1:  # compiled out (and never entered on the simulator)
                    with spare_dfb.reserve() as sb:
                        sb.store(xb + xb)

    if kind == "call":
        @ttl.datamovement()
        def reader():
            cx, cy = ttl.node(dims=2)
            for u in range(cy * GX + cx, NU, NC):
                r, c = tile_of(u, CT)
                with x_dfb.reserve() as xb:
                    tx = ttl.copy(x[r:r + 1, c:c + 1], xb)
                    tx.wait()
    else:
        @ttl.datamovement()
        def reader():
            cx, cy = ttl.node(dims=2)
            for u in range(cy * GX + cx, NU, NC):
                with x_dfb.reserve() as xb:
                    tx = ttl.copy(x[u // CT:u // CT + 1, u % CT:u % CT + 1], xb)
                    tx.wait()

    block_writer(y, out_dfb, GX, NC, NU, CT, 1, 1)


def probe(kind: str, rows_t: int = 2, cols_t: int = 3):
    """Run (or, under the compile backend, lower) probe ``kind`` on a random ``rows_t x cols_t``-tile
    float32 tensor over a 2 x 2 grid; returns ``(x, exp(x) as the kernel computed it)`` (None when
    nothing ran).  Compile-driver entry: ``tests.pitfall_kernels:probe:kind=range``."""
    from ttl_kernels import runtime

    GX, GY = 2, 2
    NC, NU, CT = GX * GY, rows_t * cols_t, cols_t

    @ttl.operation(grid=(GX, GY))
    def dialect_probe(x, y):
        x_dfb = ttl.make_dataflow_buffer_like(x, shape=(1, 1), block_count=2)
        out_dfb = ttl.make_dataflow_buffer_like(y, shape=(1, 1), block_count=2)
        _probe_threads(kind, x, y, x_dfb, out_dfb, out_dfb, GX, NU, NC, CT)

    x = torch.randn(32 * rows_t, 32 * cols_t, generator=torch.Generator().manual_seed(0))
    tx, ty = host.to_device(x, "fp32"), host.to_device(torch.zeros_like(x), "fp32")
    dialect_probe(tx.tt, ty.tt)
    return x, (host.to_torch(ty) if runtime.executes() else None)
