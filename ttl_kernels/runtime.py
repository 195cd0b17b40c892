"""Kernel runtime: one TT-Lang kernel source, three bindings.

Every kernel in this package is written once against the tt-lang 1.1.1 API and runs on one of:

``sim``
    tt-lang's functional simulator (``ttl.sim``), in-process on the CPU.  The automatic choice on a
    machine without a Tenstorrent device.
``device``
    the real compiler (``ttl``) and a Tenstorrent device opened through ``ttnn``; kernels run on silicon.
``compile``
    the real compiler in compile-only mode (``TTLANG_COMPILE_ONLY=1``) against a *mock* device built
    from a cluster descriptor this package ships (``ttl_kernels/mock/{n150,p150}.yaml``).  The compiler
    sees the target architecture and lowers every kernel to tt-metal C++, nothing executes.

Pick one with the environment (``TTL_KERNELS_BACKEND=auto|sim|device|compile``, plus
``TTL_KERNELS_ARCH=n150|p150`` for ``compile``) or with :func:`use_backend` before the first kernel
runs.  ``auto`` (the default) picks ``device`` when ``/dev/tenstorrent`` exists, else ``sim``.

The backend is fixed per process once loaded: importing ``ttl.sim`` sets ``TTLANG_SIM_ONLY=1``, which
turns the compiler package into an empty shell, so the simulator and the compiler cannot share a process.
Compile checks therefore run in subprocesses (:mod:`ttl_kernels.compile`).

Kernel modules write ``from ttl_kernels.runtime import ttl`` and use ``ttl.*`` exactly as the tt-lang
tutorials do.  ``ttl`` here is a proxy that forwards to the active backend's module.  The compiler
recognises ``ttl.math.*`` / ``ttl.*`` calls inside thread bodies by the *name* ``ttl`` (it parses the
source), the simulator executes them as Python through the proxy, so the same source serves both.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from . import env

BACKENDS = ("sim", "device", "compile")
ARCHS = ("n150", "p150")
MOCK_DIR = Path(__file__).resolve().parent / "mock"

# The real dtypes, captured before anything can rebind them (ttl.sim rebinds torch.bfloat16 and
# torch.float16 to torch.float32 for the whole process when it is imported).
TORCH_BF16: torch.dtype = torch.zeros(0).bfloat16().dtype
TORCH_FP16: torch.dtype = torch.zeros(0).half().dtype

# Grid each target exposes to an operation, as (x, y) = (columns, rows) of Tensix cores.  These are the
# fast-dispatch worker grids of the production cards: n150 8x8 (of 72 on the chip), p150 13x10.  A mock
# device in slow-dispatch mode reports the full logical grid (8x9, 14x10), which real firmware does not
# give to user kernels, so the compile target uses the production grids.  The simulator mirrors n150.
TARGET_GRIDS = {"n150": (8, 8), "p150": (13, 10)}


@dataclass(frozen=True)
class Backend:
    """The loaded binding: name, compile target (None for the simulator) and the two modules."""

    name: str
    arch: str | None
    ttl: Any
    ttnn: Any
    device: Any  # ttnn device handle (None in the simulator)
    grid: tuple[int, int]


_lock = threading.Lock()
_requested: tuple[str, str | None] | None = None
_active: Backend | None = None


def _env_choice() -> tuple[str, str | None]:
    name = env.get("TTL_KERNELS_BACKEND").lower()
    arch = (os.environ.get("TTL_KERNELS_ARCH", "").strip().lower() or None)  # None: env.get's default, n150
    if name == "auto":
        name = "device" if _has_tenstorrent_device() else "sim"
    if name not in BACKENDS:
        raise ValueError(f"TTL_KERNELS_BACKEND must be one of auto, {', '.join(BACKENDS)}; got {name!r}")
    return name, arch


def _has_tenstorrent_device() -> bool:
    return Path("/dev/tenstorrent").exists()


def use_backend(name: str, arch: str | None = None) -> None:
    """Select the binding for this process: ``"sim"``, ``"device"`` or ``"compile"``.

    ``arch`` (``"n150"`` or ``"p150"``) names the mock target for ``compile`` (default n150).  Call it
    before the first kernel runs; choosing a different backend after one has loaded raises RuntimeError.
    """
    global _requested
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}; got {name!r}")
    if arch is not None and arch not in ARCHS:
        raise ValueError(f"arch must be one of {ARCHS}; got {arch!r}")
    with _lock:
        if _active is not None and (_active.name, _active.arch) != (name, _resolve_arch(name, arch)):
            raise RuntimeError(
                f"backend {_active.name!r} is already loaded in this process; the simulator and the "
                "compiler cannot share a process (run the other one in a subprocess)"
            )
        _requested = (name, arch)


def _resolve_arch(name: str, arch: str | None) -> str | None:
    if name == "sim":
        return None
    if name == "compile":
        arch = arch or "n150"
        if arch not in ARCHS:
            raise ValueError(f"TTL_KERNELS_ARCH must be one of {ARCHS}; got {arch!r}")
    return arch


def backend() -> Backend:
    """The active binding, loading it on first use."""
    global _active
    if _active is not None:
        return _active
    with _lock:
        if _active is None:
            name, arch = _requested or _env_choice()
            _active = _load(name, _resolve_arch(name, arch))
    return _active


def backend_name() -> str:
    return backend().name


def is_sim() -> bool:
    return backend().name == "sim"


def executes() -> bool:
    """False in compile-only mode, where a kernel call lowers the kernel and returns without running it."""
    return backend().name != "compile"


def _load(name: str, arch: str | None) -> Backend:
    atexit.register(_unlink_ttnn_namespaces)  # every backend imports the real ttnn (ttl.sim does too)
    if name == "sim":
        return _load_sim()
    return _load_compiler(name, arch)


def _unlink_ttnn_namespaces() -> None:
    """At exit, take out the Python functions ttnn 0.69 stores on its nanobind classes, so that nanobind's
    leak check (run after interpreter teardown) finds nothing alive ("nanobind: leaked 2 instances ...").

    Two such functions reach a module namespace that CPython's teardown never clears: the module object
    dies first, the namespace lives on as the functions' ``__globals__``, and the nanobind classes holding
    the functions are not freed before the check (nanobind instances are invisible to the cycle collector):

    * ``ttnn.Tensor.__matmul__`` (a lambda, ttnn/operations/matmul.py:125) -> the namespace of
      ``ttnn.operations.matmul`` -> ``MatmulMultiCoreReuseMultiCast1DProgramConfig``, whose ``__init__``
      keeps a default ``CoreRangeSet`` instance;
    * ``ttnn.device.DispatchCoreConfig.__init__`` (a Python subclass of the nanobind class,
      ttnn/device.py:108) -> the namespace of ``ttnn.device`` -> ``open_device``, whose default argument is
      a ``DispatchCoreConfig`` instance.

    Dropping those two class attributes is enough; the other operator lambdas on ``Tensor``
    (ttnn/__init__.py:418-431) go too, as they are the same kind of link.  Nothing runs ttnn code after
    this (ttnn's own exit hook only clears its operation registry).  The cached :class:`Backend` is kept on
    purpose: it keeps the ``ttl.sim.ttnnsim`` module alive until CPython clears its namespace, which
    otherwise holds the golden-function wrappers of 67 ttnn unary operations past teardown.
    """
    for module, cls_name in (("ttnn._ttnn.tensor", "Tensor"), ("ttnn.device", "DispatchCoreConfig")):
        cls = getattr(sys.modules.get(module), cls_name, None)
        for attr, value in list(vars(cls).items()) if isinstance(cls, type) else ():
            if isinstance(value, types.FunctionType):
                delattr(cls, attr)


def _load_sim() -> Backend:
    compiler = sys.modules.get("ttl")
    if compiler is not None and os.environ.get("TTLANG_SIM_ONLY") != "1" and hasattr(compiler, "operation"):
        raise RuntimeError("the tt-lang compiler is already imported in this process; the simulator needs its own")
    from ttl.sim import ttl as sim_ttl  # noqa: E402  (sets TTLANG_SIM_ONLY=1)
    from ttl.sim import ttnn as sim_ttnn

    _restore_torch_dtypes()
    _fix_sim_diagnostics()
    _share_dram_tensors()
    grid = _grid_from_env() or TARGET_GRIDS["n150"]
    return Backend("sim", None, sim_ttl, sim_ttnn, None, grid)


def _load_compiler(name: str, arch: str | None) -> Backend:
    if os.environ.get("TTLANG_SIM_ONLY") == "1" or "ttl.sim" in sys.modules:
        raise RuntimeError("the simulator is already loaded in this process; the compiler needs its own process")
    if name == "compile":
        os.environ["TTLANG_COMPILE_ONLY"] = "1"
        os.environ.setdefault("TT_METAL_SLOW_DISPATCH_MODE", "1")  # a mock device opens only in slow dispatch
        os.environ["TT_METAL_MOCK_CLUSTER_DESC_PATH"] = str(MOCK_DIR / f"{arch}.yaml")
    import ttl as real_ttl  # noqa: E402
    import ttnn as real_ttnn

    device = real_ttnn.open_device(device_id=0)
    if name == "compile":
        grid = TARGET_GRIDS[arch]
    else:
        g = device.compute_with_storage_grid_size()
        grid = _grid_from_env() or (int(g.x), int(g.y))
        arch = str(device.arch())
    return Backend(name, arch, real_ttl, real_ttnn, device, grid)


def _grid_from_env() -> tuple[int, int] | None:
    s = env.get("TTL_KERNELS_GRID")
    if not s:
        return None
    try:
        x, y = (int(v) for v in s.split(","))
    except ValueError:
        raise ValueError(f"TTL_KERNELS_GRID must be 'X,Y' (two positive integers); got {s!r}") from None
    if x <= 0 or y <= 0:
        raise ValueError(f"TTL_KERNELS_GRID must be 'X,Y' (two positive integers); got {s!r}")
    return x, y


def _restore_torch_dtypes() -> None:
    """Undo ttl.sim's process-wide rebinding of torch.bfloat16/float16 to float32.

    The simulator keeps its own copies of the native dtypes and never reads the torch attributes at run
    time, so restoring them leaves the simulator's fp32 promotion intact while every other line of torch
    code in the process (references, models, tests) gets real bfloat16 again.
    """
    torch.bfloat16 = TORCH_BF16  # type: ignore[misc]
    torch.float16 = TORCH_FP16  # type: ignore[misc]


def _share_dram_tensors() -> None:
    """The 1.1.1 simulator deep-copies every value in an operation's context once per core of the launch
    grid, including the operation's tensor arguments, and never uses the copies (per-core state is the
    dataflow buffers, which it rebuilds separately; named tensors are already shared).  Letting tensors
    deep-copy to themselves keeps the same semantics and makes launches many times faster (silu_mul on
    2048 x 4096: 16.1 s -> 0.8 s)."""
    from ttl.sim.ttnnsim import Tensor

    Tensor.__deepcopy__ = lambda self, memo: self


def _fix_sim_diagnostics() -> None:
    """The 1.1.1 simulator looks for its diagnostics printer at ttl/ttl/diagnostics.py, a path that does not
    exist in the wheel; the FileNotFoundError then hides every kernel error.  Point it at ttl/diagnostics.py."""
    import importlib.util

    mod = sys.modules.get("ttl.sim.diagnostics")
    if mod is None or getattr(mod, "_ttl_kernels_fixed", False):
        return
    path = Path(mod.__file__).resolve().parent.parent / "diagnostics.py"
    if not path.exists():
        return

    def lazy_import_diagnostics():
        spec = importlib.util.spec_from_file_location("ttl_real_diagnostics", path)
        m = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(m)
        return m

    mod.lazy_import_diagnostics = lazy_import_diagnostics
    mod._ttl_kernels_fixed = True


def set_sim_precision(mode: str) -> None:
    """Simulator arithmetic: ``"fp32"`` (default: bf16 tensors are computed in float32) or ``"bf16"``
    (per-op bfloat16 rounding, closer to hardware).  Only meaningful on the simulator."""
    if mode not in ("fp32", "bf16"):
        raise ValueError(f"mode must be 'fp32' or 'bf16'; got {mode!r}")
    b = backend()
    if b.name != "sim":
        raise RuntimeError("set_sim_precision applies to the simulator backend only")
    from ttl.sim.ttnnsim import set_disable_float32_promotion

    set_disable_float32_promotion(mode == "bf16")
    _restore_torch_dtypes()


def sim_precision() -> str:
    from ttl.sim import ttnnsim

    return "fp32" if ttnnsim._float32_promotion_enabled else "bf16"


def grid() -> tuple[int, int]:
    """The core grid (x, y) kernels spread their work over on the active target."""
    return backend().grid


class _ModuleProxy:
    """Attribute access forwards to the active backend's ``ttl`` or ``ttnn`` module."""

    def __init__(self, which: str):
        self._which = which

    def __getattr__(self, item: str) -> Any:
        value = getattr(getattr(backend(), self._which), item)
        if self._which == "ttl" and item == "operation":  # every kernel program: compiles and launches counted
            from . import audit

            return audit.wrap_operation(value)
        return value

    def __repr__(self) -> str:
        return f"<ttl_kernels proxy for {self._which} ({_active.name if _active else 'not loaded'})>"


ttl: Any = _ModuleProxy("ttl")
ttnn: Any = _ModuleProxy("ttnn")
