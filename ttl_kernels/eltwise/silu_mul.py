"""SiLU-gated product ``y = silu(gate) * up`` (the SwiGLU activation of Llama-3 / Qwen3 MLPs).

Dataflow, in tiles: the tensor (rows_t x cols_t tiles) is cut into blocks of BR x BC tiles dealt
round-robin over the whole core grid (:mod:`ttl_kernels.tiling`).  Per block: ``reader`` copies the
gate and up blocks DRAM -> L1, ``compute`` applies silu to the gate block and multiplies by the up block
in DST, ``writer`` copies the result block L1 -> DRAM.  Every input tile is read once and every output
tile written once, so DRAM traffic is the minimum.
"""

from __future__ import annotations

from functools import cache

from ..runtime import ttl
from ..tiling import BlockSplit
from ._stream import block_reader2, block_writer1, run_binary


@cache
def make_silu_mul(split: BlockSplit, backend: str):
    """Compile-time constants: the block split (tensor size in tiles, block shape, grid).  ``backend`` is
    part of the cache key only."""
    GX, NC, BPC, NB = split.gx, split.n_cores, split.blocks_per_core, split.n_blocks
    BR, BC = split.br, split.bc

    @ttl.operation(grid=(split.gx, split.gy))
    def silu_mul_op(gate, up, out):
        a_dfb = ttl.make_dataflow_buffer_like(gate, shape=(BR, BC), block_count=2)
        b_dfb = ttl.make_dataflow_buffer_like(up, shape=(BR, BC), block_count=2)
        out_dfb = ttl.make_dataflow_buffer_like(out, shape=(BR, BC), block_count=2)

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            core = y * GX + x
            for i in range(BPC):
                if i * NC + core < NB:
                    with a_dfb.wait() as gb, b_dfb.wait() as ub, out_dfb.reserve() as yb:
                        yb.store(ttl.math.silu(gb) * ub)

        block_reader2(split, gate, a_dfb, up, b_dfb)
        block_writer1(split, out, out_dfb)

    return silu_mul_op


def silu_mul(gate, up):
    """``silu(gate) * up`` for 2-D tensors of any rows x cols (bf16 or fp32, same shape and dtype).

    Torch tensors in give a torch tensor out; TileTensors in give a TileTensor out.  Shapes in elements;
    storage is padded to whole 32 x 32 tiles (padding is computed on and cropped, never read back)."""
    return run_binary(make_silu_mul, gate, up, ("gate", "up"))
