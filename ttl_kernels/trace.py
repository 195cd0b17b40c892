"""DRAM <-> L1 traffic of kernels run on the simulator, from its copy trace.

The simulator records a ``copy_end`` event for every completed ``ttl.copy`` between a tensor (DRAM) and
a block (L1), with the tile count, the direction and the issuing thread (``core<k>-<thread>``).  Tiles
times the bytes per tile of the tensor's dtype (bf16 2048, fp32 4096, bfp8_b 1088) is the traffic a device
would move.  Usage::

    with trace_traffic() as t:
        silu_mul(g, u)
    print(t.read_bytes, t.write_bytes, t.cores)
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field

from . import runtime
from .host import TILE_BYTES


@dataclass
class Traffic:
    read_bytes: int = 0
    write_bytes: int = 0
    read_tiles: int = 0
    write_tiles: int = 0
    per_tensor: dict = field(default_factory=lambda: defaultdict(lambda: {"read_bytes": 0, "write_bytes": 0}))
    per_core_bytes: dict = field(default_factory=lambda: defaultdict(int))
    copies: int = 0

    @property
    def total_bytes(self) -> int:
        return self.read_bytes + self.write_bytes

    @property
    def cores(self) -> int:
        """Cores that moved data."""
        return len(self.per_core_bytes)

    def balance(self) -> float:
        """max / mean bytes moved per active core (1.0 = perfect)."""
        if not self.per_core_bytes:
            return 0.0
        v = list(self.per_core_bytes.values())
        return max(v) / (sum(v) / len(v))

    def as_dict(self) -> dict:
        return {
            "read_bytes": self.read_bytes,
            "write_bytes": self.write_bytes,
            "total_bytes": self.total_bytes,
            "read_tiles": self.read_tiles,
            "write_tiles": self.write_tiles,
            "cores": self.cores,
            "balance": round(self.balance(), 4),
            "per_tensor": {k: dict(v) for k, v in self.per_tensor.items()},
        }


def _tile_bytes_of(tensor) -> int:
    dt = getattr(tensor, "dtype", None)
    name = str(dt)
    if "bfloat8" in name:
        return TILE_BYTES["bfp8_b"]
    if dt == runtime.TORCH_BF16 or "bfloat16" in name:
        return TILE_BYTES["bf16"]
    return TILE_BYTES["fp32"]


_patched = False


def _install_patch() -> None:
    """Add the tensor's bytes-per-tile to the simulator's copy trace records (once per process).

    The 1.1.1 simulator drops a tensor's declared dtype when it is sliced (``t[r0:r1, c0:c1]`` reports
    its float32 backing), so slices are also taught to keep the declared dtype of their parent."""
    global _patched
    if _patched:
        return
    import sys

    from ttl.sim.dfb import Block
    from ttl.sim.ttnnsim import Tensor

    simcopy = sys.modules["ttl.sim.copy"]  # (the package attribute ttl.sim.copy is the function)
    orig = simcopy._copy_trace_fields

    def fields(src, dst):
        f = orig(src, dst)
        if f:
            tensor = src if isinstance(src, Tensor) else dst if isinstance(dst, Tensor) else None
            if tensor is not None and (isinstance(src, Block) or isinstance(dst, Block)):
                f["tile_bytes"] = _tile_bytes_of(tensor)
        return f

    simcopy._copy_trace_fields = fields

    getitem = Tensor.__getitem__

    def getitem_keeping_dtype(self, key):
        view = getitem(self, key)
        view._dtype = self._dtype
        return view

    Tensor.__getitem__ = getitem_keeping_dtype
    _patched = True


@contextmanager
def trace_traffic():
    """Count bytes moved between DRAM tensors and L1 blocks by every kernel run inside the block."""
    if not runtime.is_sim():
        raise RuntimeError("traffic tracing needs the simulator backend")
    from ttl.sim.context import get_context

    _install_patch()
    ctx = get_context()
    saved = ctx.config.trace_set
    ctx.config.trace_set = frozenset({"copy"})
    start = len(ctx.trace_events)
    t = Traffic()
    try:
        yield t
    finally:
        events = get_context().trace_events[start:]
        for ev in events:
            if ev.event != "copy_end" or "direction" not in ev.data:
                continue
            d = ev.data
            tiles = int(d.get("dram", d["tiles"]))
            nbytes = tiles * int(d.get("tile_bytes", TILE_BYTES["fp32"]))
            name = d.get("tensor") or "?"
            if d["direction"] == "read":
                t.read_bytes += nbytes
                t.read_tiles += tiles
                t.per_tensor[name]["read_bytes"] += nbytes
            else:
                t.write_bytes += nbytes
                t.write_tiles += tiles
                t.per_tensor[name]["write_bytes"] += nbytes
            core = (ev.kernel or "core0").split("-")[0]
            t.per_core_bytes[core] += nbytes
            t.copies += 1
        del get_context().trace_events[start:]
        get_context().config.trace_set = saved
