"""Matrix multiplication in TT-Lang: :func:`matmul` (blocked, one output block per work item).

Written to validate the performance model (:mod:`ttl_kernels.perf.validate`) against tt-lang's published
matmul benchmark; it follows the registry conventions (``KERNEL_SPECS``), so adding ``"ttl_kernels.matmul"``
to :data:`ttl_kernels.registry.FAMILIES` makes it a registry kernel.
"""

from __future__ import annotations

from ..registry import KernelSpec, generator, random_or_zeros
from .matmul import DTYPES, default_block, make_matmul_op, matmul


def _args(M: int = 32, K: int = 256, N: int = 256, dtype: str = "bf16", seed: int | None = None, **_) -> tuple:
    gen = generator(seed)
    return random_or_zeros((M, K), dtype, gen), random_or_zeros((K, N), dtype, gen, scale=K ** -0.5)


def _kwargs(bm: int | None = None, bn: int | None = None, bk: int | None = None, gx: int | None = None,
            gy: int | None = None, **_) -> dict:
    out = {}
    if bm is not None:
        out["block"] = (bm, bn, bk)
    if gx is not None:
        out["grid"] = (gx, gy)
    return out


def _reference(a, b, block=None, grid=None):
    return (a.float() @ b.float()).to(a.dtype)


def _cases() -> list[dict]:
    # decode-shaped GEMMs (one tile row of users): tiny model's q projection, and Llama-3.1-8B's o projection
    return [dict(M=32, K=256, N=256, dtype="bf16"), dict(M=32, K=4096, N=4096, dtype="bf16")]


KERNEL_SPECS = [KernelSpec("matmul", matmul, _reference, _args, ("matmul_block",), _cases, _kwargs)]

__all__ = ["DTYPES", "KERNEL_SPECS", "default_block", "make_matmul_op", "matmul"]
