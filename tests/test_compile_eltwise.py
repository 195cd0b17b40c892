"""Compile-only: the element-wise kernels lower for n150 and p150 at the models' shapes (and odd ones),
the generated C++ lints clean and contains the ops the kernel is meant to use."""

from __future__ import annotations

import pytest
from _kernel_helpers import compile_clean

from ttl_kernels.compile import format_case
from ttl_kernels.registry import get_kernel

EXTRA = [dict(rows=1, cols=1, dtype="bf16"), dict(rows=37, cols=1000, dtype="fp32"),
         dict(rows=256, cols=4096, dtype="bf16")]


@pytest.mark.compile
@pytest.mark.parametrize("arch", ["n150", "p150"])
def test_compile_eltwise(arch):
    cases = [format_case(k, p) for k in ("silu_mul", "residual_add") for p in get_kernel(k).model_cases() + EXTRA]
    compile_clean(cases, arch)
