"""Blocked matmul ``C = A @ B`` in TT-Lang (bf16 or fp32, DRAM interleaved), one output block per work item.

The output is cut into ``(bm x bn)``-tile blocks; block ``i`` goes to core ``i % NC`` of the flattened grid
(both coordinates).  Per block the reader streams the K panel in ``bk``-tile steps (an ``(bm, bk)`` block of A
and a ``(bk, bn)`` block of B per step), compute accumulates ``acc = prev + a @ b`` through a 2-slot buffer
(the first step stores ``a @ b`` alone), then hands the finished block to the writer through its own buffer.

No multicast: every core reads its own A and B panels from DRAM, so A is read ``N / (32 bn)`` times and B
``M / (32 bm)`` times.  (tt-lang's published SUMMA kernel multicasts A along rows and B down columns; the
performance model accounts for that difference in :mod:`ttl_kernels.perf.validate`.)  Math fidelity is the
tt-metal default (HiFi4), as for every tt-lang 1.1.1 kernel.
"""

from __future__ import annotations

from functools import cache

from .. import runtime
from .._api import as_tile, check_2d, result, tensor_info, wants_torch
from ..host import TILE, empty
from ..runtime import ttl
from ..tiling import block_writer, buffers_like

DTYPES = ("bf16", "fp32")


@cache
def make_matmul_op(mt: int, kt: int, nt: int, bm: int, bn: int, bk: int, gx: int, gy: int, backend: str):
    """The operation for an (mt x kt) @ (kt x nt)-tile problem ( ``backend`` is part of the cache key only)."""
    NBN, NBK = nt // bn, kt // bk
    NB = (mt // bm) * NBN
    NC = gx * gy
    GX, BM, BN, BK, NK1 = gx, bm, bn, bk, NBK - 1

    @ttl.operation(grid=(gx, gy))
    def matmul_op(a, b, out):
        a_dfb = ttl.make_dataflow_buffer_like(a, shape=(BM, BK), block_count=2)
        b_dfb = ttl.make_dataflow_buffer_like(b, shape=(BK, BN), block_count=2)
        acc_dfb, out_dfb = buffers_like(out, 2, (BM, BN), block_count=2)

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            for _blk in range(y * GX + x, NB, NC):  # output blocks core, core + NC, ...
                with a_dfb.wait() as ab, b_dfb.wait() as bb, acc_dfb.reserve() as acc:
                    acc.store(ab @ bb)
                for _ in range(NK1):
                    with a_dfb.wait() as ab, b_dfb.wait() as bb, acc_dfb.wait() as prev, acc_dfb.reserve() as acc:
                        acc.store(prev + ab @ bb)
                with acc_dfb.wait() as res, out_dfb.reserve() as ob:
                    ob.store(res)

        @ttl.datamovement()
        def reader():
            x, y = ttl.node(dims=2)
            for blk in range(y * GX + x, NB, NC):
                r0 = (blk // NBN) * BM  # the output block's first tile row and column
                c0 = (blk % NBN) * BN
                for kb in range(NBK):  # the K panel in BK-tile steps
                    k0 = kb * BK
                    with a_dfb.reserve() as ab:
                        ta = ttl.copy(a[r0:r0 + BM, k0:k0 + BK], ab)
                        ta.wait()
                    with b_dfb.reserve() as bb:
                        tb = ttl.copy(b[k0:k0 + BK, c0:c0 + BN], bb)
                        tb.wait()

        block_writer(out, out_dfb, GX, NC, NB, NBN, BM, BN)

    return matmul_op


def default_block(mt: int, kt: int, nt: int) -> tuple[int, int, int]:
    """(bm, bn, bk): the largest of 4 / 4 / 8 tiles that divide the problem (an output block of at most 16
    tiles, K steps of at most 8 tiles)."""
    def best(n: int, cap: int) -> int:
        return max(d for d in range(1, cap + 1) if n % d == 0)

    return best(mt, 4), best(nt, 4), best(kt, 8)


def matmul(a, b, *, block: tuple[int, int, int] | None = None, grid: tuple[int, int] | None = None):
    """``a @ b`` for 2-D ``a (M, K)`` and ``b (K, N)``, M, K, N multiples of 32, same dtype (bf16 or fp32).

    ``block`` = (bm, bn, bk) in tiles (each must divide M/32, N/32, K/32; default :func:`default_block`);
    ``grid`` = the cores to use, (x, y) (default: the target's grid).  torch in -> torch out; TileTensors in ->
    TileTensor out.  In compile-only mode the kernel is lowered and nothing runs (torch callers get None)."""
    sa, da = tensor_info(a, "a", DTYPES)
    sb, db = tensor_info(b, "b", DTYPES)
    (m, k), (k2, n) = check_2d(sa, "a"), check_2d(sb, "b")
    if k != k2:
        raise ValueError(f"b: inner dimension {k2} does not match a's {k}")
    if db != da:
        raise ValueError(f"b: dtype {db} does not match a's {da}")
    for name, v in (("M", m), ("K", k), ("N", n)):
        if v % TILE:
            raise ValueError(f"{name} = {v} must be a multiple of {TILE}")
    mt, kt, nt = m // TILE, k // TILE, n // TILE
    bm, bn, bk = block or default_block(mt, kt, nt)
    for name, tiles, blk in (("bm", mt, bm), ("bn", nt, bn), ("bk", kt, bk)):
        if blk <= 0 or tiles % blk:
            raise ValueError(f"block: {name} = {blk} must divide {tiles} tiles")
    gx, gy = grid or runtime.grid()
    torch_io = wants_torch(a)
    ta, tb = as_tile(a, da), as_tile(b, da)
    out = empty((m, n), da)
    make_matmul_op(mt, kt, nt, bm, bn, bk, gx, gy, runtime.backend_name())(ta.tt, tb.tt, out.tt)
    return result(out, torch_io)


def compile_case(M: int = 1024, K: int = 2048, N: int = 1024, bm: int | None = None, bn: int | None = None,
                 bk: int | None = None, gx: int | None = None, gy: int | None = None, dtype: str = "bf16") -> None:
    """Compile-driver entry (``ttl-compile ttl_kernels.matmul.matmul:compile_case:M=..,bm=..``); blocks default
    to :func:`default_block`, the grid to the target's."""
    import torch

    from ..registry import torch_dtype

    a = torch.zeros(M, K, dtype=torch_dtype(dtype))
    b = torch.zeros(K, N, dtype=torch_dtype(dtype))
    matmul(a, b, block=None if bm is None else (bm, bn, bk), grid=None if gx is None else (gx, gy))


compile_case.expected_ops = ("matmul_block", "copy_tile", "pack_tile(_block)?")
