"""DRAM <-> L1 traffic of every kernel on the simulator against the minimum, and its modelled time on n150 / p150.

    python bench/traffic.py [--kernels silu_mul,residual_add] [--json bench/results/traffic.json]

For each kernel (the registry's, plus the TT-Lang matmul the performance model validates with) at the shapes
the models use (:func:`ttl_kernels.registry.KernelSpec.model_cases`) plus a shape that is not tile-aligned,
the kernel runs on the simulator once per chip, on that chip's core grid (n150 8x8, p150 13x10), with its
copy trace and the op counter of :mod:`ttl_kernels.perf` on.  Bytes moved (the n150 run) = tiles copied x
bytes per tile of the tensor's dtype.  The minimum reads every input once and writes every output once
(tile-padded storage).  Also printed: cores that moved data and the max/mean bytes per core.  Target: ratio
<= 1.05.

Per chip, from the cycle model (:func:`ttl_kernels.perf.model`): ``dram_us`` (the call's DRAM bytes at the
chip's DRAM bandwidth), ``compute_us`` and ``handoff_us`` (the slowest core's compute thread), ``model_us``
(slowest core per launch, floored by the DRAM time, plus the op-to-op launch gap; traced dispatch),
``bound`` (dram, compute, handoff, noc or dispatch), ``useful_gbps`` (minimum bytes / model time) and
``ratio_to_dram`` (model time / DRAM time: how far from DRAM-bound).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ttl_kernels import env

env.apply_defaults()  # before torch loads (OMP_WAIT_POLICY)

import torch

from ttl_kernels import host, runtime
from ttl_kernels.perf import count_call, model
from ttl_kernels.perf.hardware import CHIPS
from ttl_kernels.perf.run import all_specs, upload_dtypes
from ttl_kernels.testing import pcc

RESULTS = Path(__file__).resolve().parent / "results"
# a shape that is not tile-aligned (37 x 1000) per elementwise kernel, besides the models' shapes
EXTRA_CASES = {"silu_mul": [dict(rows=37, cols=1000, dtype="bf16")],
               "residual_add": [dict(rows=37, cols=1000, dtype="fp32")]}
# kernels whose traffic is not held to the 1.05 target, and why
NOT_GATED = {"matmul": "validation kernel: every output block reads its whole A row-panel and B column-panel "
                       "(no multicast), by design"}
PERF_FIELDS = ("dram_us", "compute_us", "handoff_us", "noc_us", "launch_us", "model_us", "ratio_to_dram")


def perf_fields(m) -> dict:
    """The per-chip fields of a :class:`ttl_kernels.perf.KernelModel` the benchmark keeps."""
    return {**{k: round(getattr(m, k), 3) for k in PERF_FIELDS}, "bound": m.bound,
            "useful_gbps": None if m.useful_gbps is None else round(m.useful_gbps, 1), "dram_bytes": m.dram_bytes,
            "launches": len(m.launches), "bound_shares": m.bound_shares, "binding_core_ops": m.binding_core_ops}


def gated(r: dict) -> bool:
    return r["params"].get("passes", 1) == 1 and r["kernel"] not in NOT_GATED


def outputs(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def minimum_bytes(spec, params: dict, tts: list, out: list) -> tuple[int, str]:
    """(minimal DRAM<->L1 bytes, the rule used).  Default: every input read once, every output written once
    (tile-padded).  ``kv_update`` writes in place, so its caches are neither read nor written whole: the new
    K and V rows are read once and the touched cache tiles (one 32-row tile row per user and KV head, in K
    and in V) are read and written once."""
    if spec.name == "kv_update":
        k_cache, _, k_new, v_new = tts
        touched = params["batch"] * params["n_kv"] * k_cache.tile_shape[1]
        return (k_new.nbytes + v_new.nbytes + 2 * 2 * touched * host.TILE_BYTES[k_cache.dtype],
                "in place: new rows read once + touched cache tiles read and written once")
    return sum(x.nbytes for x in tts) + sum(o.nbytes for o in out), "inputs read once + outputs written once"


def measure(spec, params: dict) -> dict:
    args = spec.make_args(seed=0, **params)
    dev = [host.to_device(a, dt) if isinstance(a, torch.Tensor) and a.dim() == 2 else a
           for a, dt in zip(args, upload_dtypes(spec.name, params, len(args)))]
    tts = [x for x in dev if isinstance(x, host.TileTensor)]
    runs = {}
    for chip in CHIPS:
        t0 = time.perf_counter()
        out, counts, t = count_call(spec.call, dev, params, chip=chip)
        runs[chip] = (outputs(out), counts, t, time.perf_counter() - t0)
    out, _, t, wall = runs["n150"]
    minimum, rule = minimum_bytes(spec, params, tts, out)
    host_args = [host.to_torch(x) if isinstance(x, host.TileTensor) else x for x in dev]
    ref = outputs(spec.call(host_args, params, reference=True))
    row = {
        "kernel": spec.name,
        "params": params,
        "bytes": t.total_bytes,
        "min_bytes": minimum,
        "min_rule": rule,
        "ratio": round(t.total_bytes / minimum, 4),
        "cores": t.cores,
        "balance": round(t.balance(), 3),
        "pcc": round(min(pcc(host.to_torch(o), r) for o, r in zip(out, ref)), 6),
        "sim_wall_s": round(wall, 3),
        "traffic": t.as_dict(),
    }
    if spec.name in NOT_GATED:
        row["not_gated"] = NOT_GATED[spec.name]
    for chip, (_, counts, _, w) in runs.items():
        row[chip] = {**perf_fields(model(counts, chip, min_bytes=minimum)), "sim_wall_s": round(w, 3)}
    return row


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", default="", help="comma-separated subset (default: all)")
    ap.add_argument("--json", default=str(RESULTS / "traffic.json"))
    a = ap.parse_args(argv)
    specs = all_specs()
    wanted = [k for k in a.kernels.split(",") if k] or list(specs)
    rows = []
    b = runtime.backend()
    mach = env.machine()
    print(f"# bench/traffic.py on {mach['node']} ({mach['cpu']}), backend {b.name}, grid {b.grid[0]}x{b.grid[1]}")
    print(f"{'kernel':<14} {'params':<34} {'bytes':>11} {'minimum':>11} {'ratio':>6} {'cores':>5} {'max/mean':>8} "
          f"{'pcc':>9} {'sim s':>6}  " + "  ".join(f"{c + ' model_us':>14} {'bound':<8} {'x dram':>6} {'GB/s':>5}"
                                                   for c in CHIPS))
    for name in wanted:
        spec = specs[name]
        for params in spec.model_cases() + EXTRA_CASES.get(name, []):
            r = measure(spec, params)
            rows.append(r)
            p = ",".join(f"{k}={v}" for k, v in params.items())
            perf = "  ".join(f"{r[c]['model_us']:>14.2f} {r[c]['bound']:<8} {r[c]['ratio_to_dram']:>6.2f} "
                             f"{r[c]['useful_gbps'] or 0:>5.0f}" for c in CHIPS)
            print(f"{name:<14} {p:<34} {r['bytes']:>11,} {r['min_bytes']:>11,} {r['ratio']:>6.3f} {r['cores']:>5} "
                  f"{r['balance']:>8.2f} {r['pcc']:>9.6f} {r['sim_wall_s']:>6.2f}  {perf}", flush=True)
    held = [r for r in rows if gated(r)]
    worst = max(r["ratio"] for r in held)
    print(f"worst traffic ratio: {worst:.3f} (target <= 1.05; {len(rows) - len(held)} case(s) labelled, not gated: "
          "two-pass norms and the validation matmul)")
    for chip in CHIPS:
        w = max(rows, key=lambda r: r[chip]["ratio_to_dram"])
        print(f"{chip}: {sum(r[chip]['bound'] == 'dram' for r in rows)} of {len(rows)} instances DRAM-bound; worst "
              f"model/DRAM x{w[chip]['ratio_to_dram']:.1f} ({w['kernel']}, {w[chip]['bound']})")
    out = Path(a.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": " ".join(["python bench/traffic.py", *argv]), "machine": mach,
                               "backend": b.name, "grid": list(b.grid), "chips": list(CHIPS), "results": rows},
                              indent=1))
    print(f"wrote {out}")
    return 0 if worst <= 1.05 else 1


if __name__ == "__main__":
    sys.exit(main())
