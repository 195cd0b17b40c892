"""``python -m ttl_kernels``: run every kernel once on the active backend (the simulator here) at the tiny
model's shapes and print its parity with the torch reference, its DRAM traffic against the minimum and
the cores it used."""

from __future__ import annotations

import time

import torch

from . import host, runtime
from .registry import kernels
from .testing import pcc
from .trace import trace_traffic


def main() -> None:
    b = runtime.backend()
    target = "simulator, fp32 math" if b.name == "sim" else b.arch
    print(f"backend: {b.name}  grid: {b.grid[0]}x{b.grid[1]}  ({target})")
    print(f"{'kernel':<14} {'shape':<12} {'dtype':<5} {'pcc':>9} {'max|err|':>9} {'bytes/min':>9} {'cores':>5} "
          f"{'wall':>7}")
    for spec in kernels().values():
        for params in spec.model_cases()[:1]:
            args = spec.make_args(seed=0, **params)
            dev = [host.to_device(a) if isinstance(a, torch.Tensor) and a.dim() == 2 else a for a in args]
            tts = [x for x in dev if isinstance(x, host.TileTensor)]
            t0 = time.perf_counter()
            with trace_traffic() as t:
                out = spec.call(dev, params)
            wall = time.perf_counter() - t0
            outs = list(out) if isinstance(out, tuple) else [out]
            minimum = sum(x.nbytes for x in tts) + sum(o.nbytes for o in outs)
            out = outs[-1]  # (multi-output kernels: parity of the last output)
            y = host.to_torch(out)
            host_args = [host.to_torch(x) if isinstance(x, host.TileTensor) else x for x in dev]
            ref = spec.call(host_args, params, reference=True)
            ref = ref[-1] if isinstance(ref, tuple) else ref
            shape = "x".join(str(s) for s in out.shape)
            print(f"{spec.name:<14} {shape:<12} {out.dtype:<5} {pcc(y, ref):9.6f} {(y - ref).abs().max().item():9.2e} "
                  f"{t.total_bytes / minimum:9.3f} {t.cores:5d} {wall * 1e3:6.0f}ms")


if __name__ == "__main__":
    main()
