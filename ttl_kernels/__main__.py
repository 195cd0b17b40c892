"""``python -m ttl_kernels``: run every kernel once on the active backend (the simulator here) at the tiny
model's shapes and print its parity with the torch reference, its DRAM traffic against the minimum and
the cores it used."""

from __future__ import annotations

import time

from . import host, runtime
from .registry import kernels
from .testing import pcc
from .trace import trace_traffic


def main() -> None:
    b = runtime.backend()
    print(f"backend: {b.name}  grid: {b.grid[0]}x{b.grid[1]}  ({'simulator, fp32 math' if b.name == 'sim' else b.arch})")
    print(f"{'kernel':<14} {'shape':<12} {'dtype':<5} {'pcc':>9} {'max|err|':>9} {'bytes/min':>9} {'cores':>5} {'wall':>7}")
    for spec in kernels().values():
        for params in spec.model_cases()[:1]:
            args = spec.make_args(seed=0, **params)
            tts = [host.to_device(a) for a in args]
            t0 = time.perf_counter()
            with trace_traffic() as t:
                out = spec.fn(*tts)
            wall = time.perf_counter() - t0
            y = host.to_torch(out)
            ref = spec.reference(*[host.to_torch(x) for x in tts])
            minimum = sum(x.nbytes for x in tts) + out.nbytes
            shape = "x".join(str(s) for s in out.shape)
            print(f"{spec.name:<14} {shape:<12} {out.dtype:<5} {pcc(y, ref):9.6f} {(y - ref).abs().max().item():9.2e} "
                  f"{t.total_bytes / minimum:9.3f} {t.cores:5d} {wall * 1e3:6.0f}ms")


if __name__ == "__main__":
    main()
