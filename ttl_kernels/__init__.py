"""ttl-kernels: LLM-inference kernels written once in TT-Lang (tt-lang 1.1.1), run on the simulator or a
Tenstorrent device, and lowered by the real compiler for Wormhole n150 / Blackhole p150.

Importing the package loads no backend; the first kernel call does (see :mod:`ttl_kernels.runtime`).
"""

from .host import SENTINEL, TileTensor, empty, quantize, to_device, to_torch
from .runtime import backend, grid, set_sim_precision, use_backend

__all__ = [
    "SENTINEL",
    "TileTensor",
    "backend",
    "empty",
    "grid",
    "quantize",
    "set_sim_precision",
    "to_device",
    "to_torch",
    "use_backend",
]
