"""One decode step of the kernel-built decoder on the simulator, broken down by kernel.

    python bench/decode_step.py [--models tiny-qwen3,tiny-llama,llama-3.1-8b,qwen3-8b] [--context 1024]

For each model: every op of one decode step (batch 1, at ``--context`` tokens of KV cache) runs on the
simulator with its DRAM<->L1 copy trace on.  Per op: calls, simulator wall time, bytes moved (traced for the
TT-Lang kernels; analytic for the ``ttnn.matmul`` projections, which are not TT-Lang: weights read once plus
activations), FLOPs (analytic), and the roofline-modelled time on n150 and p150 = max(bytes / DRAM
bandwidth, FLOPs / peak) + a fixed per-op launch cost (:mod:`models.alspec.latency`).  The tiny models run
all their layers; full-size models run one layer (every layer is the same op sequence), and the table
also gives the whole-model step scaled by the layer count.  Projection weights are shape-only stand-ins
(their matmuls are modelled, not executed), so full-size layers need no weights in memory.  JSON output.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from ttl_kernels import env

env.apply_defaults()  # before torch loads (OMP_WAIT_POLICY)

from models.alspec.latency import HARDWARE, Kernel, kernel_time
from models.decoder_step import decode_step
from models.kernel_model import ShapeOps
from reference import registry
from reference.config import DecoderConfig
from ttl_kernels import runtime
from ttl_kernels.trace import trace_traffic

RESULTS = Path(__file__).resolve().parent / "results"
HWS = ("n150", "p150")
OPS = ("rmsnorm", "add_rmsnorm", "head_rmsnorm", "rope", "kv_update", "attention", "silu_mul", "matmul")


def flops(op: str, args, c: DecoderConfig, ctx: int) -> float:
    """Useful FLOPs of one call (batch 1: one row of activations)."""
    if op == "matmul":
        _, w = args
        return 2.0 * w.shape[0] * w.shape[1]
    if op == "attention":
        return 4.0 * c.num_heads * (ctx + 1) * c.head_dim
    return 0.0


def measure(name: str, ctx: int, layers: int | None) -> dict:
    c = registry.config(name, **({"num_layers": layers} if layers else {}))
    ops = ShapeOps(c, max_seq_len=ctx + 1)
    cache = ops.new_cache(1)
    cache.lengths.fill_(ctx)
    stats = defaultdict(lambda: {"calls": 0, "sim_s": 0.0, "bytes": 0.0, "flops": 0.0})

    def wrap(op):
        f = getattr(ops, op)

        def run(*args):
            t0 = time.perf_counter()
            if op == "matmul":  # not a TT-Lang kernel: analytic traffic (weights once + activations, bf16)
                out = f(*args)
                x, w = args
                nbytes = (w.shape[0] * w.shape[1] + x.shape[0] * (w.shape[0] + w.shape[1])) * 2.0
            else:
                with trace_traffic() as t:
                    out = f(*args)
                nbytes = t.total_bytes
            label = "lm_head" if op == "matmul" and args[1].shape[1] == c.vocab_size else op
            s = stats[label]
            s["calls"] += 1
            s["sim_s"] += time.perf_counter() - t0
            s["bytes"] += nbytes
            s["flops"] += flops(op, args, c, ctx)
            return out

        setattr(ops, op, run)

    for op in OPS:
        wrap(op)
    ws, fn, lm = ops.weights()
    t0 = time.perf_counter()
    decode_step(ops, ws, fn, lm, cache, [0], [ctx])
    wall = time.perf_counter() - t0
    rows = []
    for op, s in sorted(stats.items(), key=lambda kv: -kv[1]["bytes"]):
        k = Kernel(op, s["bytes"], s["flops"], "dram")
        r = dict(op=op, **{key: round(v, 4) if isinstance(v, float) else v for key, v in s.items()})
        for hw in HWS:
            # per call launch overhead: kernel_time adds one launch; add the rest for multi-call ops
            extra = (s["calls"] - 1) * HARDWARE[hw].launch_us * 1e-6
            r[f"{hw}_us"] = round((kernel_time(k, HARDWARE[hw]) + extra) * 1e6, 2)
        rows.append(r)
    full_layers = registry.config(name).num_layers
    scale = full_layers / c.num_layers
    total = {hw: sum(r[f"{hw}_us"] for r in rows) for hw in HWS}
    head = {hw: sum(r[f"{hw}_us"] for r in rows if r["op"] == "lm_head") for hw in HWS}
    return {"model": name, "context": ctx, "layers_run": c.num_layers, "layers_model": full_layers,
            "sim_wall_s": round(wall, 2), "ops": rows, "step_us": {hw: round(v, 1) for hw, v in total.items()},
            # the LM head runs once per step; everything else scales with the model's depth
            "model_step_ms_estimate": {hw: round(((total[hw] - head[hw]) * scale + head[hw]) / 1e3, 3) for hw in HWS}}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="tiny-qwen3,tiny-llama,llama-3.1-8b,qwen3-8b",
                    help=f"comma-separated names of reference.registry ({', '.join(registry.names())})")
    ap.add_argument("--context", type=int, default=1024)
    ap.add_argument("--json", default=str(RESULTS / "decode_step.json"))
    a = ap.parse_args(argv)
    runtime.use_backend("sim")
    b = runtime.backend()
    mach = env.machine()
    print(f"# bench/decode_step.py on {mach['node']}, backend {b.name}, grid {b.grid[0]}x{b.grid[1]}, "
          f"context {a.context}, batch 1")
    results = []
    for name in a.models.split(","):
        layers = None if name.startswith("tiny") else 1
        r = measure(name, a.context, layers)
        results.append(r)
        est = r["model_step_ms_estimate"]
        print(f"\n{name}: {r['layers_run']} of {r['layers_model']} layers simulated in {r['sim_wall_s']} s")
        print(f"  {'op':<13} {'calls':>5} {'sim s':>7} {'bytes':>13} {'GFLOP':>8} {'n150 us':>9} {'p150 us':>9}")
        for o in r["ops"]:
            print(f"  {o['op']:<13} {o['calls']:>5} {o['sim_s']:>7.2f} {o['bytes']:>13,.0f} {o['flops'] / 1e9:>8.3f} "
                  f"{o['n150_us']:>9.1f} {o['p150_us']:>9.1f}")
        print(f"  step ({r['layers_run']} layers): n150 {r['step_us']['n150']:.1f} us, p150 {r['step_us']['p150']:.1f} "
              f"us; whole model estimate n150 {est['n150']:.2f} ms, p150 {est['p150']:.2f} ms")
    out = Path(a.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": " ".join(["python bench/decode_step.py", *argv]), "machine": mach,
                               "results": results}, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
