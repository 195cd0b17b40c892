"""Element-wise kernels: SiLU-gated product and residual add."""

from .residual_add import residual_add
from .silu_mul import silu_mul

__all__ = ["residual_add", "silu_mul"]
