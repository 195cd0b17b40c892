"""The few ttnn operations the models use besides the TT-Lang kernels, with the simulator shims in ONE place.

On a device these are plain ttnn calls.  The simulator's ttnn lacks or differs on some of them; each
difference is patched here, and README.md lists the shims:

* ``matmul``: the simulator's ``ttnn.matmul(a, b)`` takes no ``dtype`` and returns a float32-declared
  tensor; the shim rounds the product to the requested dtype and declares it, as the device would.
* ``embedding``: token-embedding lookup is host glue on every binding (a table lookup, allowed by the
  design: the table stays on the host, the looked-up rows are uploaded).
"""

from __future__ import annotations

import torch

from . import audit, runtime
from .host import TileTensor, quantize, to_device


def matmul(a: TileTensor, b: TileTensor, dtype: str | None = None) -> TileTensor:
    """``a @ b`` for 2-D tile tensors ``[M, K] @ [K, N]`` -> ``[M, N]`` in ``dtype`` (default a's)."""
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"b: expected {a.shape[1]} rows to match a's columns; got shape {b.shape}")
    dtype = dtype or a.dtype
    ttnn = runtime.ttnn
    shape = (a.shape[0], b.shape[1])
    audit.launched()
    if runtime.is_sim():  # shim: no dtype argument, float32 result (host round trip: not a device transfer)
        with audit.suspended():
            raw = ttnn.to_torch(ttnn.matmul(a.tt, b.tt)).float()
            return to_device(quantize(raw[: shape[0], : shape[1]], dtype), dtype)
    tt = ttnn.matmul(a.tt, b.tt, dtype={"bf16": ttnn.bfloat16, "fp32": ttnn.float32}[dtype])
    return TileTensor(tt, shape, dtype)


def embedding(table: torch.Tensor, ids: list[int], dtype: str) -> TileTensor:
    """Rows ``table[ids]`` uploaded as ``[len(ids), H]`` (host glue)."""
    return to_device(table[torch.tensor(ids)].float(), dtype)
