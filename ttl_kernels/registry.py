"""Every kernel the package ships, with what the compile checks and benchmarks need to know about it.

A :class:`KernelSpec` names the kernel's public function, its torch reference, how to build its arguments for a
parameter set (``make_args(seed=None, **params)``: zeros when ``seed`` is None, random values otherwise; non-tensor
options come from ``kwargs(**params)``), the
tt-metal compute calls its generated C++ must contain (regular expressions), and the parameter sets the
project's models use (:mod:`ttl_kernels.shapes`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .runtime import TORCH_BF16
from .shapes import MODEL_SHAPES


@dataclass(frozen=True)
class KernelSpec:
    name: str
    fn: Callable[..., object]
    reference: Callable[..., object]
    make_args: Callable[..., tuple]
    ops: tuple[str, ...]
    model_cases: Callable[[], list[dict]]
    # non-tensor keyword arguments of the kernel (eps, positions, ...) for a parameter set
    kwargs: Callable[..., dict] = lambda **params: {}

    def call(self, args, params: dict, reference: bool = False):
        """Run the kernel (or its reference) on ``args`` with the keyword arguments ``params`` imply."""
        return (self.reference if reference else self.fn)(*args, **self.kwargs(**params))

    def compile_run(self, **params) -> None:
        """Call the kernel on zero inputs (under the compile backend this lowers it without running it)."""
        self.call(self.make_args(**params), params)


def torch_dtype(dtype: str) -> torch.dtype:
    return torch.float32 if dtype == "fp32" else TORCH_BF16


def random_or_zeros(shape: tuple[int, ...], dtype: str, gen: torch.Generator | None,
                    scale: float = 1.0) -> torch.Tensor:
    if gen is None:
        return torch.zeros(shape, dtype=torch_dtype(dtype))
    return (torch.randn(shape, generator=gen) * scale).to(torch_dtype(dtype))


def generator(seed: int | None) -> torch.Generator | None:
    return None if seed is None else torch.Generator().manual_seed(seed)


def model_dims(dim: str) -> list[int]:
    """Distinct values of one dimension (e.g. ``"hidden"``) over the models in :mod:`ttl_kernels.shapes`."""
    return sorted({m[dim] for m in MODEL_SHAPES.values()})


# Kernel families register themselves: each package lists its kernels in ``KERNEL_SPECS``.
FAMILIES = ("ttl_kernels.eltwise", "ttl_kernels.norm", "ttl_kernels.rope", "ttl_kernels.attention", "ttl_kernels.ccl",
            "ttl_kernels.layout", "ttl_kernels.sampling", "ttl_kernels.moe")


def _build() -> dict[str, KernelSpec]:
    import importlib

    specs: dict[str, KernelSpec] = {}
    for fam in FAMILIES:
        for spec in getattr(importlib.import_module(fam), "KERNEL_SPECS", ()):
            if spec.name in specs:
                raise RuntimeError(f"kernel {spec.name!r} registered twice")
            specs[spec.name] = spec
    return specs


_KERNELS: dict[str, KernelSpec] | None = None


def kernels() -> dict[str, KernelSpec]:
    global _KERNELS
    if _KERNELS is None:
        _KERNELS = _build()
    return _KERNELS


def get_kernel(name: str) -> KernelSpec:
    try:
        return kernels()[name]
    except KeyError:
        raise ValueError(f"kernel must be one of {sorted(kernels())}; got {name!r}") from None
