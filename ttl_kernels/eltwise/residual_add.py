"""Residual add ``y = a + b`` (the skip connections of a pre-norm decoder).

Dataflow, in tiles: the same block schedule as :mod:`.silu_mul`.  ``reader`` copies one block of each
input DRAM -> L1, ``compute`` adds them in DST, ``writer`` copies the sum L1 -> DRAM.  Each input tile is
read once, each output tile written once.
"""

from __future__ import annotations

from functools import cache

from ..runtime import ttl
from ..tiling import BlockSplit
from ._stream import block_reader2, block_writer1, run_binary


@cache
def make_residual_add(split: BlockSplit, backend: str):
    """Compile-time constants: the block split (tensor size in tiles, block shape, grid).  ``backend`` is
    part of the cache key only."""
    GX, NC, BPC, NB = split.gx, split.n_cores, split.blocks_per_core, split.n_blocks
    BR, BC = split.br, split.bc

    @ttl.operation(grid=(split.gx, split.gy))
    def residual_add_op(a, b, out):
        a_dfb = ttl.make_dataflow_buffer_like(a, shape=(BR, BC), block_count=2)
        b_dfb = ttl.make_dataflow_buffer_like(b, shape=(BR, BC), block_count=2)
        out_dfb = ttl.make_dataflow_buffer_like(out, shape=(BR, BC), block_count=2)

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            for i in range(BPC):
                if i * NC + core < NB:
                    with a_dfb.wait() as ab, b_dfb.wait() as bb, out_dfb.reserve() as ob:
                        ob.store(ab + bb)

        block_reader2(split, a, a_dfb, b, b_dfb)
        block_writer1(split, out, out_dfb)

    return residual_add_op


def residual_add(a, b):
    """``a + b`` for 2-D tensors of any rows x cols (bf16 or fp32, same shape and dtype).

    Torch tensors in give a torch tensor out; TileTensors in give a TileTensor out."""
    return run_binary(make_residual_add, a, b, ("a", "b"))
