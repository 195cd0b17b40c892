"""The streaming element-wise kernel behind :func:`.silu_mul` and :func:`.residual_add`.

Dataflow, in tiles: the tensor (rows_t x cols_t tiles) is cut into blocks of BR x BC tiles
(:func:`ttl_kernels.tiling.split_blocks`) dealt round-robin over the whole core grid: core ``k = y * GX + x``
of the flattened grid handles blocks ``k, k + NC, ...``; block ``blk`` covers tile rows
``[(blk // NBC) * BR, + BR)`` and tile columns ``[(blk % NBC) * BC, + BC)``.  Per block: ``reader`` copies
one block of each input DRAM -> L1, ``compute`` combines them in DST (``silu(a) * b`` or ``a + b``, chosen by
the compile-time constant ``SILU``), ``writer`` (:func:`ttl_kernels.tiling.block_writer`) copies the result
block L1 -> DRAM.  Every input tile is
read once and every output tile written once, so DRAM traffic is the minimum.
"""

from __future__ import annotations

from functools import cache

from .. import runtime
from .._api import as_tile, check_2d, result, same, tensor_info, wants_torch
from ..host import empty, tiles
from ..runtime import ttl
from ..tiling import BlockSplit, block_writer, split_blocks

OPS = ("silu_mul", "residual_add")


@cache
def make_binary_op(split: BlockSplit, op: str, backend: str):
    """Compile-time constants: the block split (tensor size in tiles, block shape, grid) and the operation
    (one of :data:`OPS`).  ``backend`` is part of the cache key only."""
    GX, NC, NB, NBC, BR, BC = split.gx, split.n_cores, split.n_blocks, split.nbc, split.br, split.bc
    SILU = 1 if op == "silu_mul" else 0  # 1: silu(a) * b (SwiGLU), 0: a + b (residual add)

    @ttl.operation(grid=(split.gx, split.gy))
    def binary_op(a, b, out):
        a_dfb = ttl.make_dataflow_buffer_like(a, shape=(BR, BC), block_count=2)
        b_dfb = ttl.make_dataflow_buffer_like(b, shape=(BR, BC), block_count=2)
        out_dfb = ttl.make_dataflow_buffer_like(out, shape=(BR, BC), block_count=2)

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            for _blk in range(y * GX + x, NB, NC):
                with a_dfb.wait() as ab, b_dfb.wait() as bb, out_dfb.reserve() as ob:
                    if SILU == 1:
                        ob.store(ttl.math.silu(ab) * bb)
                    else:
                        ob.store(ab + bb)

        @ttl.datamovement()
        def reader():
            x, y = ttl.node(dims=2)
            for blk in range(y * GX + x, NB, NC):  # blocks core, core + NC, ...
                r0 = (blk // NBC) * BR  # first tile row and column of the block
                c0 = (blk % NBC) * BC
                with a_dfb.reserve() as ab, b_dfb.reserve() as bb:
                    ta = ttl.copy(a[r0:r0 + BR, c0:c0 + BC], ab)
                    tb = ttl.copy(b[r0:r0 + BR, c0:c0 + BC], bb)
                    ta.wait()
                    tb.wait()

        block_writer(out, out_dfb, GX, NC, NB, NBC, BR, BC)

    return binary_op


ELTWISE_DTYPES = ("bf16", "fp32")


def run_binary(op: str, a, b, names: tuple[str, str]):
    """Check two same-shape 2-D inputs, run the streaming kernel for ``op`` and return the result (torch in,
    torch out; TileTensor in, TileTensor out)."""
    na, nb = names
    sa, da = tensor_info(a, na, ELTWISE_DTYPES)
    sb, db = tensor_info(b, nb, ELTWISE_DTYPES)
    check_2d(sa, na)
    check_2d(sb, nb)
    same({na: sa, nb: sb}, "shape")
    same({na: da, nb: db}, "dtype")
    rows, cols = sa
    split = split_blocks(tiles(rows), tiles(cols), runtime.grid(), dtype=da, n_buffers=3)
    ta, tb = as_tile(a, da), as_tile(b, db)
    out = empty((rows, cols), da)
    make_binary_op(split, op, runtime.backend_name())(ta.tt, tb.tt, out.tt)
    return result(out, wants_torch(a))
