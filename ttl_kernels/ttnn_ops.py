"""The few ttnn operations the models use besides the TT-Lang kernels, with the simulator shims in ONE place.

On a device these are plain ttnn calls.  The simulator's ttnn lacks or differs on some of them; each
difference is patched here, and README.md lists the shims:

* ``matmul``: the simulator's ``ttnn.matmul(a, b)`` takes no ``dtype`` and returns a float32-declared
  tensor; the shim rounds the product to the requested dtype and declares it, as the device would.
* ``embedding``: ``ttnn.embedding`` on a device (only the ids cross); the simulator has no embedding op, so
  its shim looks the rows up on the host and uploads them (counted by the audit as the ids alone).
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


class EmbeddingTable:
    """A token-embedding table ``[V, H]`` kept where the lookup runs: on a device, a row-major ttnn tensor for
    ``ttnn.embedding``; on the simulator (which has no embedding op) the host copy the shim reads."""

    def __init__(self, table: torch.Tensor, dtype: str):
        self.host = table.detach().float()
        self.dtype = dtype
        self.device = None
        b = runtime.backend()
        if b.name == "device":
            ttnn = runtime.ttnn
            self.device = ttnn.from_torch(quantize(self.host, dtype), dtype=ttnn.bfloat16 if dtype == "bf16"
                                          else ttnn.float32, layout=ttnn.ROW_MAJOR_LAYOUT, device=b.device)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.host.shape)


def embedding(table: EmbeddingTable, ids: list[int], dtype: str) -> TileTensor:
    """Rows ``table[ids]`` as a ``[len(ids), H]`` device tensor: the token ids go to the device (4 bytes each) and
    ``ttnn.embedding`` gathers the rows there.  The simulator lacks the op: its shim gathers on the host and
    uploads the rows with the transfer uncounted (a device moves only the ids)."""
    ids = [int(i) for i in ids]
    if any(not 0 <= i < table.shape[0] for i in ids):
        raise ValueError(f"ids: expected token ids in [0, {table.shape[0]}); got {ids}")
    audit.transferred("h2d", 4 * len(ids))  # the ids, as a uint32 row
    audit.launched()
    b = runtime.backend()
    if table.device is not None:
        ttnn = runtime.ttnn
        tid = ttnn.from_torch(torch.tensor([ids], dtype=torch.int32), dtype=ttnn.uint32,
                              layout=ttnn.ROW_MAJOR_LAYOUT, device=b.device)
        rows = ttnn.embedding(tid, table.device, layout=ttnn.TILE_LAYOUT)
        return TileTensor(ttnn.reshape(rows, (len(ids), table.shape[1])), (len(ids), table.shape[1]), dtype)
    with audit.suspended():
        return to_device(table.host[torch.tensor(ids)], dtype)
