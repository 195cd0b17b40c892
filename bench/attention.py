"""Decode attention at Llama-3.1-8B shapes on the simulator: traffic vs the minimum, core balance, cycle model.

    python bench/attention.py [--contexts 1024,...,131072] [--kv-dtypes bf16,bfp8_b] [--lambda 0.1] [--chunk 128]
                              [--check] [--kernels flash,speculative] [--json bench/results/attention.json]

Per context length L (batch 1, 32 query / 8 KV heads, head_dim 128, position L - 1), KV-cache dtype (bf16,
bfp8_b) and kernel (split-KV flash decode; ALSpec speculative decode with S = --chunk):

* bytes moved DRAM <-> L1, traced on the simulator (``ttl_kernels.trace``: every ttl.copy, tiles x bytes per
  tile), split into K + V, Q, constants, masks, partial results and outputs; the minimum is K and V read
  once (``2 x 8 x L x 128`` elements at 2 bytes, or 1088/1024 for bfp8_b); target ratio <= 1.05;
* cores that read KV and the max / mean KV bytes per such core (traced per core; target >= 56 cores and
  <= 1.10);
* the same bytes from the compile-time plan (``model_bytes``), which must equal the trace on the simulated
  n150 grid, and the plan's bytes on the p150 grid (13 x 10 cores: more cores read the constant tiles);
* the cycle model (:mod:`ttl_kernels.perf`: the call runs once per chip on that chip's grid with its ops
  counted) on n150 and p150: ``dram_us``, ``compute_us``, ``handoff_us``, ``model_us``, ``bound`` and
  ``useful_gbps`` (minimum bytes / model time), next to ttnn's measured ~180 GB/s on Wormhole (bf16 Q, bfp8
  KV: the anchor) and the roofline (traced bytes at the DRAM peak, 288 / 512 GB/s);
* for the speculative kernel, the share of KV the approximation reads (2S / P);
* simulator wall time of the kernel calls (uploads excluded) and of the host upload.

Simulator wall time on a shared 2-core machine: ~2 s per kernel at 1K tokens, ~15 s at 32K, ~50 s at 128K
(its cost is per block operation, ~40 per 128-token chunk per KV head, spread over 64 simulated cores).
The whole default sweep (both kernels, 1K .. 128K, ``--check``) takes about 5 minutes.
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

import torch

from ttl_kernels import host, runtime
from ttl_kernels.attention import make_speculative_decode
from ttl_kernels.attention._common import parse
from ttl_kernels.attention._plan import MergePlan, PartialPlan, flash_plan, spec_plan
from ttl_kernels.attention.flash_decode import flash_plans, run_flash_decode
from ttl_kernels.attention.speculative_decode import spec_plans
from ttl_kernels.perf import count_call, model
from ttl_kernels.perf.hardware import CHIPS, TILE_BYTES, figures
from ttl_kernels.shapes import MODEL_SHAPES
from ttl_kernels.testing import pcc

RESULTS = Path(__file__).resolve().parent / "results"
GRIDS = runtime.TARGET_GRIDS  # n150 8x8, p150 13x10
HW_GBPS = {hw: figures(hw)["dram_gbps"].value for hw in GRIDS}
TTNN_GBPS = figures("n150")["attn_gbps"].value  # ttnn flash decode on Wormhole (the anchor)
BF16 = host.TILE_BYTES["bf16"]
PERF_FIELDS = ("dram_us", "compute_us", "handoff_us", "noc_us", "launch_us", "model_us", "ratio_to_dram")


def model_bytes(plan: PartialPlan, mplan: MergePlan | None) -> dict:
    """DRAM <-> L1 bytes of one group's operations, from the compile-time plan (what the kernels copy)."""
    ct, dt, kvb = plan.ct, plan.dt, plan.kv_tile_bytes
    out = defaultdict(int)
    busy = set()
    for u in range(plan.nu):
        _, _, lo, hi, _ = plan.unit(u)
        busy.add(u % plan.nc)
        out["q"] += dt * BF16
        out["kv"] += 2 * (hi - lo) * ct * dt * kvb
        out["mask"] += sum(ct * BF16 for v in range(lo, hi) if v in (plan.va, plan.vb, plan.vc))
        out["partials_written"] += (dt + 2) * BF16
    out["constants"] += len(busy) * (4 * ct + 2) * BF16
    if mplan is not None:
        segs = plan.w
        if mplan.np > 1:  # m_i twice (for the max, then beside l_i and o_i)
            out["partials_read"] += segs * mplan.np * (dt + 3) * BF16
            out["constants"] += segs * BF16  # I, per segment with something to merge
        else:
            out["partials_read"] += segs * dt * BF16
        out["outputs"] += segs * dt * BF16
        if mplan.verify:
            out["partials_read"] += segs * dt * BF16  # the speculative output again, for dist2
            out["constants"] += segs * (dt + 1) * BF16  # ONES_D and VALID, per segment
            out["partials_written"] += 2 * segs * BF16  # each segment's dist2 / norm2 shares ...
            out["partials_read"] += 2 * segs * BF16  # ... summed per user by the verify op
            out["outputs"] += 3 * mplan.nbu * BF16
    out["total"] = sum(out.values())
    return dict(out)


def plans_for(kind: str, grid, ctx: int, chunk: int, lam: float, m: dict, kv_dtype: str = "bf16"):
    """(partial plan, merge plan or None) for batch 1 at position ctx - 1 on ``grid``."""
    dt, ct, kvb = m["head_dim"] // 32, chunk // 32, TILE_BYTES[kv_dtype]
    cast = int(kv_dtype == "bfp8_b")
    p_end = -(-ctx // 32) * 32
    if kind == "flash":
        p = flash_plan(grid, 0, 1, m["n_kv"], dt, ct, ctx // 32, p_end, 1.0, kvb, cast)
        return p, (None if p.np == 1 else MergePlan(p.gx, p.gy, 0, 1, m["n_kv"], dt, p.np, 0))
    p = spec_plan(grid, 0, 1, m["n_kv"], dt, ct, ctx // 32, p_end, 1.0, kvb, cast)
    return p, MergePlan(p.gx, p.gy, 0, 1, m["n_kv"], dt, p.np, 1, lam * lam)


def kv_names(kv_dtype: str) -> tuple[str, str]:
    """The names the partial op's reader gives the K and V caches in the copy trace (its compile-time cache-dtype
    variant copies from ``k_src`` / ``v_src`` for bf16, ``kc_src`` / ``vc_src`` for bfloat8_b; the other pair names
    a constant shape donor)."""
    return ("kc_src", "vc_src") if kv_dtype == "bfp8_b" else ("k_src", "v_src")


def per_core_kv(events, kv_dtype: str) -> dict:
    """KV bytes read per core from the simulator's copy trace."""
    per = defaultdict(int)
    names = kv_names(kv_dtype)
    for ev in events:
        d = ev.data
        if ev.event != "copy_end" or d.get("direction") != "read" or d.get("tensor") not in names:
            continue
        per[(ev.kernel or "core0").split("-")[0]] += int(d.get("dram", d["tiles"])) * int(d.get("tile_bytes", BF16))
    return per


def classify(per_tensor: dict, kv_dtype: str) -> dict:
    names = {"q": "q", "consts": "constants", "mask": "mask", "k_src": "constants", "v_src": "constants",
             "kc_src": "constants", "vc_src": "constants"}
    names.update(dict.fromkeys(kv_names(kv_dtype), "kv"))
    out = defaultdict(int)
    for name, b in per_tensor.items():
        out[names.get(name, "partials_and_outputs")] += b["read_bytes"] + b["write_bytes"]
    return dict(out)


def perf_fields(m) -> dict:
    """The per-chip fields of a :class:`ttl_kernels.perf.KernelModel` the benchmark keeps."""
    part = m.launches[0]
    return {**{k: round(getattr(m, k), 3) for k in PERF_FIELDS}, "bound": m.bound,
            "useful_gbps": None if m.useful_gbps is None else round(m.useful_gbps, 1), "dram_bytes": m.dram_bytes,
            "launches": [(x.name, round(x.model_us, 2), x.bound) for x in m.launches],
            "partial": {"cores": part.cores, "model_us": round(part.model_us, 2), "bound": part.bound,
                        "compute_us": round(part.compute_us, 2), "handoff_us": round(part.handoff_us, 2),
                        "dram_us": round(part.dram_us, 2), "dm_us": round(part.dm_us, 2)},
            "binding_core_ops": m.binding_core_ops}


def run_case(kind: str, ctx: int, chunk: int, lam: float, m: dict, tensors, kv_dtype: str = "bf16") -> dict:
    q, k, v = tensors
    pos = [ctx - 1]
    t_up = time.perf_counter()
    a = parse(q, k, v, pos, chunk_size=chunk, scale=None, kv_dtype=kv_dtype, n_q=m["n_q"]).upload()
    upload = time.perf_counter() - t_up
    from ttl.sim.context import get_context

    kv_core: dict = {}

    def call(per_core: bool = False):
        start = len(get_context().trace_events)
        out = [run_flash_decode(a)] if kind == "flash" else list(make_speculative_decode(lam, chunk).run(a))
        if per_core:  # the copy trace is dropped when count_call's tracing ends: read it here
            kv_core.update(per_core_kv(get_context().trace_events[start:], kv_dtype))
        return out

    minimum = 2 * m["n_kv"] * ctx * m["head_dim"] * TILE_BYTES[kv_dtype] // 1024
    t0 = time.perf_counter()
    res, counts, t = count_call(call, True, chip="n150")
    wall = time.perf_counter() - t0
    t1 = time.perf_counter()
    _, counts_p150, _ = count_call(call, chip="p150")
    wall_p150 = time.perf_counter() - t1
    plans = flash_plans(a) if kind == "flash" else spec_plans(a)
    (plan,) = plans
    mplan = None if (kind == "flash" and plan.np == 1) else \
        MergePlan(plan.gx, plan.gy, 0, 1, m["n_kv"], a.dt, plan.np, int(kind != "flash"), lam * lam)
    modelled = model_bytes(plan, mplan)
    loads = list(kv_core.values())
    row = {
        "kernel": kind,
        "context": ctx,
        "kv_dtype": kv_dtype,
        "chunk": chunk,
        "bytes": t.total_bytes,
        "min_bytes": minimum,
        "ratio": round(t.total_bytes / minimum, 4),
        "breakdown": classify(t.per_tensor, kv_dtype),
        "model_bytes_n150": modelled["total"],
        "model_matches_trace": modelled["total"] == t.total_bytes,
        "cores_total": t.cores,
        "kv_cores": len(loads),
        "kv_max_over_mean": round(max(loads) / (sum(loads) / len(loads)), 4),
        "units": plan.nu,
        "splits_per_segment": plan.nsm,
        "sim_wall_s": round(wall, 2),
        "sim_wall_s_p150": round(wall_p150, 2),
        "upload_s": round(upload, 2),
        "n150": perf_fields(model(counts, "n150", min_bytes=minimum)),
        "p150": perf_fields(model(counts_p150, "p150", min_bytes=minimum)),
    }
    p150, p150m = plans_for(kind, GRIDS["p150"], ctx, chunk, lam, m, kv_dtype)
    b150 = model_bytes(p150, p150m)["total"]
    p150_loads = [c for c in p150.core_chunks() if c]
    row.update({
        "model_bytes_p150": b150,
        "p150_plan_matches_count": b150 == counts_p150.dram_bytes,
        "ratio_p150": round(b150 / minimum, 4),
        "p150_kv_cores": len(p150_loads),
        "p150_kv_max_over_mean": round(max(p150_loads) / (sum(p150_loads) / len(p150_loads)), 4),
        "roofline_us_n150": round(t.total_bytes / (HW_GBPS["n150"] * 1e3), 2),
        "roofline_us_p150": round(b150 / (HW_GBPS["p150"] * 1e3), 2),
        "min_at_ttnn_180gbps_us": round(minimum / (TTNN_GBPS * 1e3), 2),
        "min_at_288gbps_us": round(minimum / (HW_GBPS["n150"] * 1e3), 2),
    })
    if kind != "flash":
        p_end = -(-ctx // 32) * 32
        row["approx_kv_share"] = round(min(1.0, 2 * chunk / p_end), 4)
        row["verdict"] = float(host.to_torch(res[4])[0, 0])
    row["_outputs"] = res
    return row


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contexts", default="1024,2048,4096,8192,16384,32768,65536,131072")
    ap.add_argument("--kernels", default="flash,speculative")
    ap.add_argument("--kv-dtypes", default="bf16,bfp8_b", help="KV-cache dtypes, comma-separated (bf16, bfp8_b)")
    ap.add_argument("--lambda", dest="lam", type=float, default=0.1)
    ap.add_argument("--chunk", type=int, default=128)
    ap.add_argument("--check", action="store_true",
                    help="also compare the outputs with the torch reference (slow at long contexts)")
    ap.add_argument("--json", default=str(RESULTS / "attention.json"))
    a = ap.parse_args(argv)
    kv_dtypes = [x for x in a.kv_dtypes.split(",") if x]
    bad = [x for x in kv_dtypes if x not in ("bf16", "bfp8_b")]
    if bad:
        ap.error(f"--kv-dtypes: expected bf16 and/or bfp8_b; got {bad}")
    m = MODEL_SHAPES["llama-3.1-8b"]
    b = runtime.backend()
    if b.name != "sim":
        raise SystemExit("bench/attention.py traces the simulator; run it with TTL_KERNELS_BACKEND=sim (or auto "
                         "without a device)")
    mach = env.machine()
    print(f"# bench/attention.py on {mach['node']}, backend {b.name}, grid {b.grid[0]}x{b.grid[1]}, Llama-3.1-8B "
          f"heads ({m['n_q']} q / {m['n_kv']} kv, head_dim {m['head_dim']}), batch 1, KV {'/'.join(kv_dtypes)}, "
          f"S = {a.chunk}, lambda = {a.lam}; cycle model on {' and '.join(CHIPS)}")
    print(f"{'kernel':<11} {'ctx':>6} {'kv':<6} {'bytes':>12} {'min':>12} {'ratio':>6} {'kvcores':>7} {'max/mean':>8} "
          + " ".join(f"{c + ' model':>10} {'dram':>7} {'compute':>8} {'handoff':>7} {'bound':<8} {'GB/s':>5}"
                     for c in CHIPS)
          + f" {'ttnn' + format(TTNN_GBPS, 'g'):>8} {'2S/P':>6} {'sim s':>7}")
    rows = []
    for ctx in [int(x) for x in a.contexts.split(",") if x]:
        g = torch.Generator().manual_seed(ctx)
        bf16 = runtime.TORCH_BF16
        q = torch.randn(1, m["n_q"], m["head_dim"], generator=g).to(bf16)
        k = torch.randn(1, m["n_kv"], ctx, m["head_dim"], generator=g).to(bf16)
        v = torch.randn(1, m["n_kv"], ctx, m["head_dim"], generator=g).to(bf16)
        for kv_dtype in kv_dtypes:
            for kind in [x for x in a.kernels.split(",") if x]:
                r = run_case(kind, ctx, a.chunk, a.lam, m, (q, k, v), kv_dtype)
                outs = r.pop("_outputs")
                if a.check:
                    from reference import attention as ref
                    from ttl_kernels.attention import decode_o_from_tiles

                    o = decode_o_from_tiles(host.to_torch(outs[0]), 1, m["n_q"], m["n_kv"])
                    r["pcc_exact"] = round(pcc(o, ref.sdpa_decode(q, k, v, [ctx - 1])), 6)
                rows.append(r)
                share = f"{r['approx_kv_share']:.3f}" if "approx_kv_share" in r else "-"
                perf = " ".join(f"{r[c]['model_us']:>10.1f} {r[c]['dram_us']:>7.1f} {r[c]['compute_us']:>8.1f} "
                                f"{r[c]['handoff_us']:>7.1f} {r[c]['bound']:<8} {r[c]['useful_gbps']:>5.0f}"
                                for c in CHIPS)
                print(f"{kind:<11} {ctx:>6} {kv_dtype:<6} {r['bytes']:>12,} {r['min_bytes']:>12,} {r['ratio']:>6.3f} "
                      f"{r['kv_cores']:>7} {r['kv_max_over_mean']:>8.3f} {perf} {r['min_at_ttnn_180gbps_us']:>8.1f} "
                      f"{share:>6} {r['sim_wall_s'] + r['sim_wall_s_p150']:>7.1f}", flush=True)
                if not r["model_matches_trace"]:
                    print(f"  !! plan model {r['model_bytes_n150']:,} bytes != traced {r['bytes']:,}")
                if not r["p150_plan_matches_count"]:
                    print(f"  !! p150 plan {r['model_bytes_p150']:,} bytes != counted on the p150 grid")
    out = Path(a.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"command": " ".join(["python bench/attention.py", *argv]), "machine": mach, "backend": b.name,
           "grid": list(b.grid), "model": "llama-3.1-8b", "batch": 1, "kv_dtypes": kv_dtypes, "chunk": a.chunk,
           "lambda": a.lam, "bandwidth_gbps": HW_GBPS, "ttnn_anchor_gbps": TTNN_GBPS, "chips": list(CHIPS),
           "rows": rows}

    def key(r):
        return r["kernel"], r["context"], r.get("kv_dtype", "bf16")

    if out.exists() and out.name == "attention.json":
        try:  # keep rows of other contexts from earlier (partial) runs that have the cycle model's fields
            new = {key(x) for x in rows}
            keep = [r for r in json.loads(out.read_text()).get("rows", []) if key(r) not in new and "n150" in r]
            doc["rows"] = sorted(keep + rows, key=key)
        except (ValueError, KeyError):
            pass
    out.write_text(json.dumps(doc, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
