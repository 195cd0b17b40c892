"""ttl-kernels: LLM-inference kernels written once in TT-Lang (tt-lang 1.1.1), run on the simulator or a
Tenstorrent device, and lowered by the real compiler for Wormhole n150 / Blackhole p150.

Importing the package loads nothing heavy (no torch, no backend): the names below are resolved on first use,
and the first kernel call loads the backend (see :mod:`ttl_kernels.runtime`).  So ``ttl_kernels.env`` can
set the process defaults before torch is imported.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "SENTINEL": "host",
    "TileTensor": "host",
    "empty": "host",
    "quantize": "host",
    "to_device": "host",
    "to_torch": "host",
    "backend": "runtime",
    "grid": "runtime",
    "set_sim_precision": "runtime",
    "use_backend": "runtime",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'ttl_kernels' has no attribute {name!r}")
