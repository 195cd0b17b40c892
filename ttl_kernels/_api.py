"""Argument checking and torch <-> device plumbing shared by the kernels' Python entry points.

Every public kernel function accepts either torch tensors (copied to the device, result copied back as a
torch tensor of the same dtype) or :class:`~ttl_kernels.host.TileTensor` s (used in place, result left on
the device).  Checks run before anything is copied or compiled, and every error names the argument.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from . import runtime
from .host import DTYPES, TileTensor, to_device, to_torch, torch_dtype_name


def check_dtype(dtype: str, allowed: Iterable[str], arg: str = "dtype") -> str:
    allowed = tuple(allowed)
    if dtype not in allowed:
        raise ValueError(f"{arg}: dtype must be one of {allowed}; got {dtype!r}")
    return dtype


def tensor_info(x, arg: str, allowed: Iterable[str]) -> tuple[tuple[int, ...], str]:
    """(shape, dtype name) of a torch tensor or TileTensor, with the checks every kernel needs."""
    if isinstance(x, TileTensor):
        shape, dtype = x.shape, x.dtype
    elif isinstance(x, torch.Tensor):
        shape = tuple(int(s) for s in x.shape)
        dtype = torch_dtype_name(x, arg)
    else:
        raise ValueError(f"{arg}: expected a torch.Tensor or TileTensor; got {type(x).__name__}")
    if any(s == 0 for s in shape):
        raise ValueError(f"{arg}: tensor is empty (shape {shape})")
    check_dtype(dtype, allowed, arg)
    return shape, dtype


def check_2d(shape: tuple[int, ...], arg: str) -> tuple[int, int]:
    if len(shape) != 2:
        raise ValueError(f"{arg}: expected a 2-D tensor (rows, cols); got shape {shape}")
    return shape  # type: ignore[return-value]


def same(values: dict[str, object], what: str) -> object:
    """All values equal, else ValueError naming the first argument that differs from the first one."""
    names = list(values)
    first = values[names[0]]
    for n in names[1:]:
        if values[n] != first:
            raise ValueError(f"{n}: {what} {values[n]} does not match {names[0]}'s {first}")
    return first


def as_tile(x, dtype: str, pad_value: float = 0.0) -> TileTensor:
    if isinstance(x, TileTensor):
        return x
    return to_device(x, dtype, pad_value=pad_value)


def wants_torch(*xs) -> bool:
    """Results go back as torch tensors when the first tensor argument was a torch tensor."""
    return isinstance(xs[0], torch.Tensor)


def result(out: TileTensor, as_torch: bool):
    """A kernel result: the TileTensor itself, or (torch in, torch out) a torch tensor of its dtype.
    In compile-only mode nothing ran, so the torch result is None."""
    if not as_torch:
        return out
    if not runtime.executes():
        return None
    t = to_torch(out)
    return t.to(runtime.TORCH_BF16) if out.dtype == "bf16" else t


def const_key() -> str:
    """Cache key for device constants a kernel keeps between calls: the backend, plus the simulator's
    precision mode (tensors made in one mode have a different backing dtype from tensors made in the other)."""
    name = runtime.backend_name()
    return f"{name}/{runtime.sim_precision()}" if name == "sim" else name


_constants: dict[tuple, TileTensor] = {}


def device_constant(build, dtype: str, *args) -> TileTensor:
    """A kernel's constant tiles on the device: ``build(*args)`` (a host tensor) uploaded as ``dtype`` the first time
    a call needs it, then kept for the backend and simulator precision (:func:`const_key`)."""
    key = (build, dtype, args, const_key())
    if key not in _constants:
        _constants[key] = to_device(build(*args), dtype)
    return _constants[key]


__all__ = ["DTYPES", "as_tile", "check_2d", "check_dtype", "const_key", "device_constant", "result", "same",
           "tensor_info", "wants_torch"]
