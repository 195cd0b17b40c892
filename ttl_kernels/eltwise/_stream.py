"""Reader and writer threads shared by the streaming element-wise kernels.

Both threads walk the same block schedule as the compute thread (see :mod:`ttl_kernels.tiling`): core
``k`` of the flattened grid handles blocks ``k, k + NC, ...``; block ``b`` covers tile rows
``[(b // NBC) * BR, + BR)`` and tile columns ``[(b % NBC) * BC, + BC)``.

Naming rule: the simulator gives every core its own copy of each dataflow buffer, keyed by the *variable
name* the threads capture it under.  A buffer captured as ``a_dfb`` here and as ``gate_dfb`` in the compute
thread would become two unrelated buffers (and deadlock).  So the op body must call its buffers exactly
``a_dfb``, ``b_dfb`` (inputs) and ``out_dfb`` (output), the names these helpers capture.
"""

from __future__ import annotations

from .. import runtime
from .._api import as_tile, check_2d, result, same, tensor_info, wants_torch
from ..host import empty, tiles
from ..runtime import ttl
from ..tiling import BlockSplit, split_blocks


def block_reader2(split: BlockSplit, a, a_dfb, b, b_dfb):  # noqa: D401 - names fixed, see module doc
    """DM thread: stream matching blocks of two inputs into their dataflow buffers."""
    GX, NC, BPC, NB, NBC, BR, BC = split.gx, split.n_cores, split.blocks_per_core, split.n_blocks, split.nbc, split.br, split.bc

    @ttl.datamovement()
    def reader():
        x, y = ttl.node(dims=2)
        core = y * GX + x
        for i in range(BPC):
            blk = i * NC + core
            if blk < NB:
                r0 = (blk // NBC) * BR
                c0 = (blk % NBC) * BC
                with a_dfb.reserve() as ab, b_dfb.reserve() as bb:
                    ta = ttl.copy(a[r0:r0 + BR, c0:c0 + BC], ab)
                    tb = ttl.copy(b[r0:r0 + BR, c0:c0 + BC], bb)
                    ta.wait()
                    tb.wait()

    return reader


def block_writer1(split: BlockSplit, out, out_dfb):
    """DM thread: drain result blocks to DRAM in the schedule's order."""
    GX, NC, BPC, NB, NBC, BR, BC = split.gx, split.n_cores, split.blocks_per_core, split.n_blocks, split.nbc, split.br, split.bc

    @ttl.datamovement()
    def writer():
        x, y = ttl.node(dims=2)
        core = y * GX + x
        for i in range(BPC):
            blk = i * NC + core
            if blk < NB:
                r0 = (blk // NBC) * BR
                c0 = (blk % NBC) * BC
                with out_dfb.wait() as ob:
                    tw = ttl.copy(ob, out[r0:r0 + BR, c0:c0 + BC])
                    tw.wait()

    return writer


ELTWISE_DTYPES = ("bf16", "fp32")


def run_binary(make_op, a, b, names: tuple[str, str]):
    """Check two same-shape 2-D inputs, run the streaming binary kernel ``make_op`` and return the result
    (torch in, torch out; TileTensor in, TileTensor out)."""
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
    make_op(split, runtime.backend_name())(ta.tt, tb.tt, out.tt)
    return result(out, wants_torch(a))
