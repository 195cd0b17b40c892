"""SiLU-gated product ``y = silu(gate) * up`` (the SwiGLU activation of Llama-3 / Qwen3 MLPs).

Dataflow, in tiles (:mod:`._stream`, ``SILU = 1``): blocks of BR x BC tiles dealt round-robin over the
whole core grid; per block the reader copies the gate and up blocks DRAM -> L1, the compute thread applies
silu to the gate block and multiplies by the up block in DST, the writer copies the result block
L1 -> DRAM.  Every input tile is read once and every output tile written once (the minimum traffic).
"""

from __future__ import annotations

from ._stream import run_binary


def silu_mul(gate, up):
    """``silu(gate) * up`` for 2-D tensors of any rows x cols (bf16 or fp32, same shape and dtype).

    Torch tensors in give a torch tensor out; TileTensors in give a TileTensor out.  Shapes in elements;
    storage is padded to whole 32 x 32 tiles (padding is computed on and cropped, never read back)."""
    return run_binary("silu_mul", gate, up, ("gate", "up"))
