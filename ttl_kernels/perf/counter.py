"""Count what a kernel call executes on the simulator, per launch, per core and per thread.

Inside ``with OpCounter() as c:`` every ``@ttl.operation`` launch the simulator runs is recorded as a
:class:`LaunchCounts`; for each core and thread of it:

* compute ops, in tiles, by the kind of tt-metal call they lower to (see :mod:`.ops`): tile matmuls by
  fidelity (``matmul.HiFi4``, ``matmul.HiFi4.fp32`` when the operands are fp32), FPU element-wise ops
  (``fpu.add``: both operands read from dataflow buffers), SFPU ops (``sfpu.exp``, ``sfpu_binary.max``, ...),
  ``typecast``, ``transpose``, ``fill``, ``bcast``, ``reduce``, ``unpack`` (copy_tile of a dataflow-buffer
  operand into DST) and ``pack`` (every stored tile);
* dataflow-buffer hand-offs: reserve / push / wait / pop calls and the tiles they hand off;
* copies: DRAM bytes read and written (tiles x bytes per tile of the tensor's dtype, the same accounting as
  :mod:`ttl_kernels.trace`), core-to-core bytes (pipes, remote-L1 tensor slices), and the number of
  *transfer batches* (a run of copies issued before the first of them is waited on pays one latency).

The hooks wrap the simulator's block operations (``Block._binary_op``, ``@``, ``Block.store``, every
``ttl.math`` function), ``DataflowBuffer.reserve/wait/push_block/pop_block``, ``CopyTransaction`` and
``Program``; they are installed once per process and record only while a counter is active.

How a block expression maps to tt-metal calls follows what the 1.1.1 compiler emits (read from its C++):
a binary op whose two operands are dataflow-buffer blocks is an FPU op (``add_tiles``) reading both from
L1; once an operand is a computed value (it lives in DST) the op is an SFPU op (``add_binary_tile``) and
every dataflow-buffer operand is copied into DST first (``copy_tile``); ``prev + a @ b`` accumulates the
matmul onto ``prev`` copied into DST (no add); a unary op on a buffer block copies it in first.
"""

from __future__ import annotations

import math
import re
import sys
from collections import Counter, deque
from dataclasses import asdict, dataclass, field

from .hardware import DEFAULT_FIDELITY

# ------------------------------------------------------------------------------------------ records


@dataclass
class ThreadCounts:
    """What one thread of one core did in one launch."""

    name: str = ""
    role: str = ""  # "compute" | "dm0" | "dm1"
    ops: Counter = field(default_factory=Counter)       # kind -> tiles
    op_calls: Counter = field(default_factory=Counter)  # kind -> block-op calls
    reserve: int = 0
    push: int = 0
    wait: int = 0
    pop: int = 0
    handoff_tiles: int = 0
    dram_read_bytes: int = 0
    dram_write_bytes: int = 0
    dram_read_tiles: int = 0
    dram_write_tiles: int = 0
    noc_send_bytes: int = 0
    noc_recv_bytes: int = 0
    copies: int = 0
    batches: int = 0
    noc_transfers: int = 0
    _inflight: int = 0

    @property
    def handoffs(self) -> int:
        """Hand-offs: one per reserve (+ push) and one per wait (+ pop)."""
        return self.reserve + self.wait

    @property
    def dram_bytes(self) -> int:
        return self.dram_read_bytes + self.dram_write_bytes

    @property
    def noc_bytes(self) -> int:
        return self.noc_send_bytes + self.noc_recv_bytes

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("_inflight")
        d["ops"] = dict(sorted(self.ops.items()))
        d["op_calls"] = dict(sorted(self.op_calls.items()))
        d["handoffs"] = self.handoffs
        return d


@dataclass
class LaunchCounts:
    """One ``@ttl.operation`` launch: its name, grid and per-core, per-thread counts."""

    name: str
    grid: tuple[int, int]
    roles: dict[str, str] = field(default_factory=dict)  # thread function name -> role
    cores: dict[int, dict[str, ThreadCounts]] = field(default_factory=dict)

    def thread(self, core: int, name: str) -> ThreadCounts:
        threads = self.cores.setdefault(core, {})
        t = threads.get(name)
        if t is None:
            t = threads[name] = ThreadCounts(name=name, role=self.roles.get(name, "dm"))
        return t

    def ops(self) -> Counter:
        out: Counter = Counter()
        for threads in self.cores.values():
            for t in threads.values():
                out.update(t.ops)
        return out

    def total(self, attr: str) -> int:
        return sum(getattr(t, attr) for threads in self.cores.values() for t in threads.values())

    def as_dict(self) -> dict:
        return {"name": self.name, "grid": list(self.grid), "roles": self.roles,
                "cores": {str(c): {n: t.as_dict() for n, t in th.items()} for c, th in sorted(self.cores.items())}}


@dataclass
class CallCounts:
    """Everything a kernel call launched, in order."""

    launches: list[LaunchCounts] = field(default_factory=list)

    def ops(self) -> Counter:
        out: Counter = Counter()
        for launch in self.launches:
            out.update(launch.ops())
        return out

    def total(self, attr: str) -> int:
        return sum(launch.total(attr) for launch in self.launches)

    @property
    def dram_bytes(self) -> int:
        return self.total("dram_read_bytes") + self.total("dram_write_bytes")

    def as_dict(self) -> dict:
        return {"launches": [launch.as_dict() for launch in self.launches]}


# ------------------------------------------------------------------------------------------ the hooks

_ACTIVE: list[OpCounter] = []
_INSTALLED = False
_THREAD_RE = re.compile(r"^core(\d+)-(.+)$")

# ttl.math function name -> counted kind (unary SFPU ops: "sfpu.<name>")
_BINARY_MATH = {"max": "sfpu_binary.max", "min": "sfpu_binary.min"}
_OPERATOR_KIND = {"add": "add", "sub": "sub", "mul": "mul", "truediv": "div", "floordiv": "div", "mod": "mod",
                  "pow": "pow"}
_NOT_OPS = {"broadcast", "fill", "transpose", "typecast", "reduce_sum", "reduce_max", "matmul"}


class OpCounter:
    """Context manager recording every launch the simulator runs inside it (see the module docstring)."""

    def __init__(self, fidelity: str = DEFAULT_FIDELITY):
        self.fidelity = fidelity
        self.counts = CallCounts()
        self._launch: LaunchCounts | None = None

    def __enter__(self) -> OpCounter:
        install()
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _ACTIVE.remove(self)

    # -- used by the hooks
    def begin_launch(self, name: str, grid: tuple[int, int], roles: dict[str, str]) -> None:
        self._launch = LaunchCounts(name, tuple(int(g) for g in grid), roles)
        self.counts.launches.append(self._launch)

    def end_launch(self) -> None:
        self._launch = None

    def thread(self) -> ThreadCounts | None:
        if self._launch is None:
            return None
        name = _current_thread_name()
        if name is None:
            return None
        m = _THREAD_RE.match(name)
        if not m:
            return None
        return self._launch.thread(int(m.group(1)), m.group(2))


# the last few matmul results (Block has __slots__, so no flag attribute): ``prev + a @ b`` accumulates
_MM_RESULTS: deque = deque(maxlen=16)


def _is_matmul_result(block) -> bool:
    return any(block is r for r in _MM_RESULTS)


def _counter() -> OpCounter | None:
    return _ACTIVE[-1] if _ACTIVE else None


def _current_thread_name() -> str | None:
    from ttl.sim.context import get_context

    sched = get_context().scheduler
    return None if sched is None else sched.get_current_thread_name()


def _tiles(block) -> int:
    return int(math.prod(block._shape))


def _in_cb(block) -> bool:
    """A dataflow-buffer block (read from L1), as opposed to a computed value held in DST."""
    return not getattr(block, "_is_temporary", True)


def _tile_bytes(block_or_tensor) -> int:
    from ..trace import _tile_bytes_of

    t = getattr(block_or_tensor, "_buf", block_or_tensor)
    return _tile_bytes_of(t)


def _record(kind: str, tiles: int, *operands) -> None:
    c = _counter()
    if c is None:
        return
    t = c.thread()
    if t is None:
        return
    if kind:
        t.ops[kind] += tiles
        t.op_calls[kind] += 1
    unpack = sum(_tiles(o) for o in operands if o is not None and _in_cb(o))
    if unpack:
        t.ops["unpack"] += unpack
        t.op_calls["unpack"] += 1


def install() -> None:
    """Install the hooks into the simulator (once per process; the simulator backend must be active)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from .. import runtime
    from ..trace import _install_patch

    if not runtime.is_sim():
        raise RuntimeError("op counting needs the simulator backend")
    _install_patch()  # tile_bytes on copy records, slices keep their dtype (shared with ttl_kernels.trace)
    from ttl.sim import dfb as dfb_mod
    from ttl.sim import program as program_mod

    copy_mod = sys.modules["ttl.sim.copy"]
    Block, DFB = dfb_mod.Block, dfb_mod.DataflowBuffer

    # element-wise operators: a + b, a - b, a * b, ... (and prev + a @ b accumulation)
    orig_binary = Block._binary_op

    def _binary_op(self, other, op):
        res = orig_binary(self, other, op)
        name = _OPERATOR_KIND.get(getattr(op, "__name__", ""), getattr(op, "__name__", "op"))
        mm_self, mm_other = _is_matmul_result(self), _is_matmul_result(other)
        if name == "add" and (mm_self or mm_other):
            _record("", 0, other if mm_self else self)  # matmul accumulates onto the copied-in operand
        elif _in_cb(self) and _in_cb(other) and name in ("add", "sub", "mul"):
            _record(f"fpu.{name}", _tiles(res))
        else:
            _record(f"sfpu_binary.{name}", _tiles(res), self, other)
        return res

    Block._binary_op = _binary_op

    for dunder, kind in (("__neg__", "sfpu.neg"), ("__abs__", "sfpu.abs")):
        orig = getattr(Block, dunder)

        def unary(self, _orig=orig, _kind=kind):
            res = _orig(self)
            _record(_kind, _tiles(res), self)
            return res

        setattr(Block, dunder, unary)

    # matmul (a @ b looks the module-level function up at call time)
    orig_matmul = dfb_mod.matmul

    def matmul(a, b, _output_hint=None):
        res = orig_matmul(a, b, _output_hint)
        c = _counter()
        if c is not None:
            m, k = a._shape[-2], a._shape[-1]
            n = b._shape[-1]
            batch = math.prod(res._shape[:-2]) if len(res._shape) > 2 else 1
            fp32 = any(_in_cb(x) and _tile_bytes(x) == 4096 for x in (a, b))
            _record(f"matmul.{c.fidelity}" + (".fp32" if fp32 else ""), int(batch * m * k * n))
        _MM_RESULTS.append(res)
        return res

    dfb_mod.matmul = matmul

    # store: every stored tile is packed; storing a buffer block as is copies it through DST first
    orig_store = Block.store

    def store(self, items):
        orig_store(self, items)
        if _is_compute():
            _record("pack", _tiles(self), items)

    Block.store = store

    # dataflow-buffer hand-offs
    for meth, attr in (("reserve", "reserve"), ("wait", "wait")):
        orig = getattr(DFB, meth)

        def acquire(self, name=None, _orig=orig, _attr=attr):
            t = _thread_counts()
            res = _orig(self, name)
            if t is not None:
                setattr(t, _attr, getattr(t, _attr) + 1)
                t.handoff_tiles += int(math.prod(self._shape))
            return res

        setattr(DFB, meth, acquire)
    for meth, attr in (("push_block", "push"), ("pop_block", "pop")):
        orig = getattr(DFB, meth)

        def release(self, _orig=orig, _attr=attr):
            t = _thread_counts()
            _orig(self)
            if t is not None:
                setattr(t, _attr, getattr(t, _attr) + 1)

        setattr(DFB, meth, release)

    # copies: DRAM <-> L1, pipes; a batch starts when a copy is issued with none in flight on its thread
    CT = copy_mod.CopyTransaction
    orig_init, orig_wait = CT.__init__, CT.wait

    def ct_init(self, src, dst):
        orig_init(self, src, dst)
        t = _thread_counts()
        self._perf_thread = t
        if t is not None:
            if t._inflight == 0:
                t.batches += 1
            t._inflight += 1
            t.copies += 1

    def ct_wait(self):
        done = self._completed
        orig_wait(self)
        t = getattr(self, "_perf_thread", None)
        if t is None or done:
            return
        t._inflight = max(0, t._inflight - 1)
        _account_copy(t, self._src, self._dst, copy_mod)

    CT.__init__, CT.wait = ct_init, ct_wait

    # launches: Program(...) is looked up in ttl.sim.program at every operation call
    orig_program = program_mod.Program

    def Program(*funcs, grid, pipenets=None):  # noqa: N802 - the simulator's name
        impl = orig_program(*funcs, grid=grid, pipenets=pipenets)
        caller = sys._getframe(1).f_locals.get("modified_func")
        op_name = getattr(caller, "__name__", "operation")
        roles = {getattr(f, "__name__", role): role for role, f in zip(("compute", "dm0", "dm1"), funcs)}
        # wrap the run, not the call: ProgramImpl.__call__ reads its caller's frame locals
        run = impl._run_cooperative

        def run_counted(*args, **kwargs):
            c = _counter()
            if c is None:
                return run(*args, **kwargs)
            c.begin_launch(op_name, grid, roles)
            try:
                return run(*args, **kwargs)
            finally:
                c.end_launch()

        impl._run_cooperative = run_counted
        return impl

    program_mod.Program = Program

    # ttl.math.*: wrap the simulator's namespace object
    sim_ttl = runtime.backend().ttl
    sim_ttl.math = _CountingMath(sim_ttl.math)
    if hasattr(sim_ttl, "transpose"):
        sim_ttl.transpose = sim_ttl.math.transpose
    _INSTALLED = True


def _is_compute() -> bool:
    from ttl.sim.blockstate import ThreadType
    from ttl.sim.context import get_context

    return get_context().current_thread_type == ThreadType.COMPUTE


def _thread_counts() -> ThreadCounts | None:
    c = _counter()
    return None if c is None else c.thread()


def _account_copy(t: ThreadCounts, src, dst, copy_mod) -> None:
    from ttl.sim.dfb import Block
    from ttl.sim.ttnnsim import Tensor

    if isinstance(src, Tensor) or isinstance(dst, Tensor):
        fields = copy_mod._copy_trace_fields(src, dst)
        if not fields:
            return
        tiles = int(fields["tiles"])
        dram = int(fields.get("dram", tiles))
        remote = int(fields.get("remote_l1", 0))
        tb = int(fields.get("tile_bytes", 4096))
        if fields["direction"] == "read":
            t.dram_read_bytes += dram * tb
            t.dram_read_tiles += dram
            t.noc_recv_bytes += remote * tb
        else:
            t.dram_write_bytes += dram * tb
            t.dram_write_tiles += dram
            t.noc_send_bytes += remote * tb
        if remote:
            t.noc_transfers += 1
        return
    # pipes (core to core): Block -> Pipe is a send, Pipe -> Block a receive
    if isinstance(src, Block):
        t.noc_send_bytes += _tiles(src) * _tile_bytes(src)
        t.noc_transfers += 1
    elif isinstance(dst, Block):
        t.noc_recv_bytes += _tiles(dst) * _tile_bytes(dst)
        t.noc_transfers += 1


class _CountingMath:
    """Forwards to the simulator's ``ttl.math`` namespace, counting each call by kind."""

    def __init__(self, ns):
        object.__setattr__(self, "_ns", ns)
        object.__setattr__(self, "_cache", {})

    def __setattr__(self, name, value):  # e.g. attention._simcompat installs typecast
        setattr(self._ns, name, value)
        self._cache.pop(name, None)

    def __getattr__(self, name):
        fn = getattr(self._ns, name)
        if not callable(fn) or name.startswith("_") or isinstance(fn, type):
            return fn
        cached = self._cache.get(name)
        if cached is not None and cached[0] is fn:
            return cached[1]
        wrapped = _wrap_math(name, fn)
        self._cache[name] = (fn, wrapped)
        return wrapped


def _wrap_math(name: str, fn):
    if name == "matmul":
        from ttl.sim import dfb as dfb_mod

        def mm(a, b, _output_hint=None):
            return dfb_mod.matmul(a, b, _output_hint)

        return mm

    def wrapper(*args, **kwargs):
        res = fn(*args, **kwargs)
        if _counter() is None:
            return res
        blocks = [a for a in args if hasattr(a, "_shape")]
        if name == "fill":
            _record("fill", _tiles(res))
        elif name == "transpose":
            _record("transpose", _tiles(res))
        elif name == "typecast":
            _record("typecast", _tiles(res), blocks[0] if blocks else None)
        elif name == "broadcast":
            _record("bcast", _tiles(res) if res is not blocks[0] else _tiles(blocks[0]))
        elif name in ("reduce_sum", "reduce_max"):
            _record("reduce", _tiles(blocks[0]))
        elif name in _BINARY_MATH:
            _record(_BINARY_MATH[name], _tiles(res), *blocks[:2])
        elif len(blocks) >= 2:
            _record(f"sfpu_binary.{name}", _tiles(res), *blocks)
        elif blocks:
            _record(f"sfpu.{name}", _tiles(res), blocks[0])
        return res

    wrapper.__name__ = name
    wrapper.__wrapped__ = fn
    return wrapper
