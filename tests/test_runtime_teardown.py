"""Interpreter exit after a simulator run is quiet: no nanobind "leaked ..." report (issue 14).

ttnn 0.69 stores Python functions on its nanobind classes (``Tensor.__matmul__``, the ``DispatchCoreConfig``
subclass) whose module namespaces outlive CPython's teardown, so nanobind's exit-time leak check reported
2 instances, ~40 types and ~300 functions after every run; ``runtime._unlink_ttnn_namespaces`` removes
those links at exit.  The report is printed after teardown, so only a separate process can see it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

KERNEL_CALL = (
    "import torch\n"
    "from ttl_kernels.eltwise import silu_mul\n"
    "print(tuple(silu_mul(torch.randn(32, 32), torch.randn(32, 32)).shape))\n"
)


def test_simulator_run_exits_without_nanobind_leak_report():
    env = dict(os.environ, PYTHONPATH=str(ROOT), TTL_KERNELS_BACKEND="sim", OMP_WAIT_POLICY="PASSIVE")
    env.pop("TTLANG_SIM_ONLY", None)
    r = subprocess.run([sys.executable, "-c", KERNEL_CALL], env=env, cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "(32, 32)" in r.stdout
    assert "leaked" not in r.stderr, r.stderr[-3000:]
