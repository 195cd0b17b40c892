"""Residual add ``y = a + b`` (the skip connections of a pre-norm decoder).

Dataflow, in tiles: the block schedule of :mod:`._stream` (``SILU = 0``): the reader copies one block of
each input DRAM -> L1, the compute thread adds them in DST, the writer copies the sum L1 -> DRAM.  Each
input tile is read once, each output tile written once.
"""

from __future__ import annotations

from ._stream import run_binary


def residual_add(a, b):
    """``a + b`` for 2-D tensors of any rows x cols (bf16 or fp32, same shape and dtype).

    Torch tensors in give a torch tensor out; TileTensors in give a TileTensor out."""
    return run_binary("residual_add", a, b, ("a", "b"))
