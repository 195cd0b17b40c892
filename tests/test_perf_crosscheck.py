"""Compile-only cross-check of the performance model: for every kernel of the registry (and the matmul the
model validates with), every tt-metal compute call its generated C++ makes must be an op kind the counter
recorded when the same case ran on the simulator.  An op the compiled kernel calls that the model never
counted means the model misses work (or misclassifies it, e.g. an FPU add counted as an SFPU add)."""

from __future__ import annotations

import pytest

from ttl_kernels import runtime
from ttl_kernels.compile import compile_cases, format_case
from ttl_kernels.perf.ops import cpp_kind, uncounted
from ttl_kernels.perf.run import all_specs, count_case


def _cases() -> list[tuple[str, dict]]:
    """The first (smallest) model case of every kernel."""
    return [(name, spec.model_cases()[0]) for name, spec in all_specs().items()]


def _compile_name(name: str) -> str:
    """The compile driver knows registry kernels; the matmul (not in the registry yet) by its function."""
    from ttl_kernels.registry import kernels

    return name if name in kernels() else "ttl_kernels.matmul.matmul:compile_case"


@pytest.mark.compile
@pytest.mark.parametrize("arch", ["n150", "p150"])
def test_counted_ops_cover_the_compiled_calls(arch):
    if not runtime.is_sim():
        pytest.skip("op counting runs on the simulator")
    cases = _cases()
    results = {r.case: r for r in compile_cases([format_case(_compile_name(n), p) for n, p in cases], arch)}
    failures = []
    for name, params in cases:
        r = results[format_case(_compile_name(name), params)]
        assert r.ok, r.line()
        assert r.ops, f"{r.case}: the lint listed no compute calls"
        counts, _, _ = count_case(name, params, arch)
        ops = counts.ops()
        missing = uncounted(r.ops, ops)
        print(f"{arch} {r.case}: C++ {r.ops} -> kinds {sorted({cpp_kind(o) for o in r.ops})}; counted {dict(ops)}")
        if missing:
            failures.append(f"{r.case}: compiled calls the model never counted: {missing}")
    assert not failures, "\n".join(failures)
