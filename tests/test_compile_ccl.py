"""Compile-only: the TT-Lang part of the two-device exchange (the priority select each device runs after
ttnn's all_gather) lowers for n150 and p150 at the models' residual shapes (and odd ones), lints clean and
contains the ops it is meant to use (sign, relu, multiply, add).  The mock targets are single chips, so
this is one device's program at the per-device shapes; all_gather is ttnn's own op (not compiled here).
ALSpec's on-device decisions, the grouped select (the same select kernel with one condition tile per
group) and the speculation priority, lower at the models' shapes too."""

from __future__ import annotations

import pytest
from _kernel_helpers import compile_clean

from ttl_kernels.compile import format_case
from ttl_kernels.registry import get_kernel

EXTRA = [dict(rows=32, cols=32, dtype="bf16"), dict(rows=64, cols=96, dtype="fp32"),
         dict(rows=96, cols=1000, dtype="bf16")]
DECISIONS = ("group_select", "speculation_priority")


@pytest.mark.compile
@pytest.mark.parametrize("arch", ["n150", "p150"])
def test_compile_ccl(arch):
    cases = [format_case("mesh_select", p) for p in get_kernel("mesh_select").model_cases() + EXTRA]
    cases += [format_case(k, p) for k in DECISIONS for p in get_kernel(k).model_cases()]
    results = compile_clean(cases, arch)
    assert all(len(r.files) == 3 for r in results)  # reader, compute, writer
