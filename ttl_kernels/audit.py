"""What a step costs the host: kernel compiles, kernel launches, host<->device transfers and their bytes.

Counted on every binding (simulator, device, compile-only) by three hooks:

* compiles: each ``@ttl.operation`` program a kernel factory builds (the factories are cached, so a program is
  built once per distinct set of compile-time constants: on a device that is a JIT build);
* launches: each call of such a program, and each ttnn operation the models call (``ttnn.matmul``);
* transfers: :func:`ttl_kernels.host.to_device` (host -> device) and :func:`ttl_kernels.host.to_torch` (device ->
  host), with the tile-padded bytes moved; device allocations (:func:`ttl_kernels.host.empty`, made in place)
  are counted apart.  The simulator's own shims (``ttl_kernels.ttnn_ops``: ttnn ops the
  simulator lacks, emulated through the host) run with counting suspended, since a device runs them in place.

Use::

    with audit.scope("verify"):
        target.forward(...)
    audit.report()  # {"verify": {"steps": n, "compiles": .., "launches": .., "h2d": .., "h2d_bytes": .., ...}}

Scopes nest; the innermost one is charged.  Outside any scope nothing is recorded.
"""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from dataclasses import asdict, dataclass

__all__ = ["StepCounts", "allocated", "compiled", "count_calls", "launched", "report", "reset", "scope", "suspended",
           "transferred"]

FIELDS = ("compiles", "launches", "h2d", "h2d_bytes", "d2h", "d2h_bytes", "allocs", "alloc_bytes")


@dataclass
class StepCounts:
    steps: int = 0
    compiles: int = 0
    launches: int = 0
    h2d: int = 0  # host -> device transfers
    h2d_bytes: int = 0
    d2h: int = 0  # device -> host transfers
    d2h_bytes: int = 0
    allocs: int = 0  # device tensors made on the device (outputs, caches): no transfer
    alloc_bytes: int = 0

    def per_step(self) -> dict:
        n = max(self.steps, 1)
        return {f: getattr(self, f) / n for f in FIELDS}


_local = threading.local()
_totals: dict[str, StepCounts] = defaultdict(StepCounts)
_last: dict[str, StepCounts] = {}


def _stack() -> list:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


def _current() -> StepCounts | None:
    st = _stack()
    if not st or st[-1] is None:
        return None
    return st[-1]


@contextlib.contextmanager
def scope(kind: str):
    """Charge what runs inside to one step of ``kind`` (its totals, and :func:`last` for this one step)."""
    step = StepCounts(steps=1)
    _stack().append(step)
    try:
        yield step
    finally:
        _stack().pop()
        tot = _totals[kind]
        for f in ("steps", *FIELDS):
            setattr(tot, f, getattr(tot, f) + getattr(step, f))
        _last[kind] = step


@contextlib.contextmanager
def suspended():
    """Count nothing inside (the simulator's host-side shims of device operations)."""
    _stack().append(None)
    try:
        yield
    finally:
        _stack().pop()


def compiled() -> None:
    s = _current()
    if s is not None:
        s.compiles += 1


def launched() -> None:
    s = _current()
    if s is not None:
        s.launches += 1


def transferred(direction: str, nbytes: int) -> None:
    s = _current()
    if s is None:
        return
    if direction == "h2d":
        s.h2d += 1
        s.h2d_bytes += int(nbytes)
    else:
        s.d2h += 1
        s.d2h_bytes += int(nbytes)


@contextlib.contextmanager
def count_calls(obj, method: str):
    """Count the calls of ``obj.method`` inside (e.g. the reference model's forward during a kernel run: the
    evidence that no host model forward runs after loading); yields a one-element list holding the count."""
    orig = getattr(obj, method)
    n = [0]

    def counted(*a, **k):
        n[0] += 1
        return orig(*a, **k)

    setattr(obj, method, counted)
    try:
        yield n
    finally:
        delattr(obj, method) if method in vars(obj) else setattr(obj, method, orig)


def allocated(nbytes: int) -> None:
    s = _current()
    if s is not None:
        s.allocs += 1
        s.alloc_bytes += int(nbytes)


def reset() -> None:
    _totals.clear()
    _last.clear()


def report() -> dict:
    """Per step kind: totals and per-step means, and the last step's counts (a steady-state step)."""
    return {kind: {**asdict(c), "per_step": c.per_step(), "last_step": asdict(_last[kind])}
            for kind, c in _totals.items()}


class _CountedOp:
    """A compiled operation whose calls are counted; every other attribute is the operation's own."""

    def __init__(self, op):
        self._op = op

    def __call__(self, *args, **kwargs):
        launched()
        return self._op(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._op, name)


def wrap_operation(operation):
    """``ttl.operation`` with compiles and launches counted (installed by :mod:`ttl_kernels.runtime`)."""

    def decorator_factory(*args, **kwargs):
        decorate = operation(*args, **kwargs)

        def decorate_counted(fn):
            op = decorate(fn)
            compiled()
            return _CountedOp(op)

        return decorate_counted

    return decorator_factory
