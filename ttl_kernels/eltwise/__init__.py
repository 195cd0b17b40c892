"""Element-wise kernels: SiLU-gated product and residual add."""

from reference import eltwise as _ref

from ..registry import KernelSpec, generator, model_dims, random_or_zeros
from ..shapes import DECODE_ROWS
from .residual_add import residual_add
from .silu_mul import silu_mul


def _args(rows: int, cols: int, dtype: str = "bf16", seed: int | None = None) -> tuple:
    gen = generator(seed)
    return random_or_zeros((rows, cols), dtype, gen), random_or_zeros((rows, cols), dtype, gen)


def _cases(dim: str):
    return lambda: [dict(rows=DECODE_ROWS, cols=w, dtype="bf16") for w in model_dims(dim)]


KERNEL_SPECS = [
    KernelSpec("silu_mul", silu_mul, _ref.silu_mul, _args, ("silu_tile", "mul_(binary_tile|tiles)"),
               _cases("intermediate")),
    KernelSpec("residual_add", residual_add, _ref.residual_add, _args, ("add_(binary_tile|tiles)",), _cases("hidden")),
]

__all__ = ["KERNEL_SPECS", "residual_add", "silu_mul"]
