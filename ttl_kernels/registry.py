"""Every kernel the package ships, with what the compile checks and benchmarks need to know about it.

A :class:`KernelSpec` names the kernel's public function, its torch reference, how to build its arguments for a parameter
set (``make_args(seed=None, **params)``: zeros when ``seed`` is None, random values otherwise), the
tt-metal compute calls its generated C++ must contain (regular expressions), and the parameter sets the
project's models use (:mod:`ttl_kernels.shapes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from .runtime import TORCH_BF16
from .shapes import DECODE_ROWS, MODEL_SHAPES


@dataclass(frozen=True)
class KernelSpec:
    name: str
    fn: Callable[..., object]
    reference: Callable[..., object]
    make_args: Callable[..., tuple]
    ops: tuple[str, ...]
    model_cases: Callable[[], list[dict]]

    def compile_run(self, **params) -> None:
        """Call the kernel on zero inputs (under the compile backend this lowers it without running it)."""
        self.fn(*self.make_args(**params))


def torch_dtype(dtype: str) -> torch.dtype:
    return torch.float32 if dtype == "fp32" else TORCH_BF16


def random_or_zeros(shape: tuple[int, ...], dtype: str, gen: torch.Generator | None, scale: float = 1.0) -> torch.Tensor:
    if gen is None:
        return torch.zeros(shape, dtype=torch_dtype(dtype))
    return (torch.randn(shape, generator=gen) * scale).to(torch_dtype(dtype))


def _eltwise_args(rows: int, cols: int, dtype: str = "bf16", seed: int | None = None) -> tuple:
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    return random_or_zeros((rows, cols), dtype, gen), random_or_zeros((rows, cols), dtype, gen)


def _widths(dim: str) -> Callable[[], list[dict]]:
    def cases() -> list[dict]:
        return [dict(rows=DECODE_ROWS, cols=w, dtype="bf16") for w in sorted({m[dim] for m in MODEL_SHAPES.values()})]

    return cases


def _build() -> dict[str, KernelSpec]:
    from reference import eltwise as ref

    from .eltwise import residual_add, silu_mul

    specs = [
        KernelSpec("silu_mul", silu_mul, ref.silu_mul, _eltwise_args, ("silu_tile", "mul_(binary_tile|tiles)"), _widths("intermediate")),
        KernelSpec("residual_add", residual_add, ref.residual_add, _eltwise_args, ("add_(binary_tile|tiles)",), _widths("hidden")),
    ]
    return {s.name: s for s in specs}


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
