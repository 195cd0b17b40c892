"""What the kernels' structure relies on in tt-lang 1.1.1, on both sides (probe kernels in
tests/pitfall_kernels.py):

* a thread may NOT call a plain Python function: the simulator runs the thread as Python and accepts it,
  the compiler translates the thread's source and stops (``Function tile_of not supported``; a helper
  captured from an enclosing function instead fails with ``Unhandled capture for vars of type function``).
  So code that several threads need (the partial attention's unit arithmetic) is repeated in each thread,
  checked against its one Python definition (tests/test_kernel_parity_attention.py);
* what the kernels use instead works on both: trace-time helper functions that define the threads (and may
  create buffers), loops ``for u in range(core, n, n_cores)`` (a runtime start: a C++ ``for`` from the core
  index), and an alias of a buffer named only under a compile-time-constant branch that is off (the
  compiler drops the branch; the simulator never enters it).
"""

from __future__ import annotations

import pytest
import torch
from pitfall_kernels import probe

from ttl_kernels.compile import compile_cases


@pytest.mark.parametrize("kind", ["call", "range"])
def test_dialect_probe_runs_on_the_simulator(kind):
    x, y = probe(kind)
    torch.testing.assert_close(y, torch.exp(x), rtol=1e-6, atol=1e-6)


@pytest.mark.compile
@pytest.mark.parametrize("arch", ["n150", "p150"])
def test_dialect_probe_compiles(arch):
    call, rng = compile_cases([f"tests.pitfall_kernels:probe:kind={k}" for k in ("call", "range")], arch)
    assert not call.ok and "Function tile_of not supported" in call.error, call.line()
    assert rng.clean and len(rng.files) == 3, rng.line()
