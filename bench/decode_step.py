"""Per-token time of one decode step by op class, on n150 and p150, from the cycle model (ttl_kernels.perf).

    python bench/decode_step.py [--models tiny-qwen3,tiny-llama,llama-3.1-8b,qwen3-8b] [--context 1024]
                                [--precisions bf16,bfp8_b,performance] [--json bench/results/decode_step.json]

For each model of ``reference.registry`` and each KV-cache dtype the precisions need (bf16, bfp8_b): one decode
step of the kernel-built decoder (``models/decoder_step.py``, batch 1, ``--context`` tokens in the cache)
runs on the simulator once per chip, on that chip's core grid, with every TT-Lang kernel call counted and
modelled (:func:`ttl_kernels.perf.count_call`, :func:`ttl_kernels.perf.model`: compute, hand-offs, DRAM and
NoC per core, the op-to-op launch gap).  Tiny models run every layer; full-size models one layer (every layer
runs the same kernel instances: the step is that layer times the depth, plus the first norm and the LM head).

The projections and the LM head are ttnn matmuls (not TT-Lang; the simulator skips them): modelled as
DRAM-sharded decode matmuls at the measured decode-matmul DRAM rate, 239-260 GB/s on Wormhole
(:func:`ttl_kernels.perf.decoder.projection`), with each precision's weight dtypes: ``bf16``, ``bfp8_b``
everywhere, and tt_transformers' ``performance`` mode (bfp8_b attention weights, bfp4_b MLP weights, bfp8_b LM
head; ``ttl_kernels.perf.decoder.PRECISIONS``).  Weights are 2, 1088/1024 and 576/1024 bytes per element.

Per model, precision and chip: microseconds per token by op class (attention, matmuls, norms, element-wise,
layout), traced (no host cost per op) and eager (plus ``dispatch``: host dispatch per launch, ~29 us, added
serially: a device busier than the host would hide part of it); tokens per second both ways; the op class
that takes the most time; whether weights + KV cache fit the chip's DRAM (n150 12 GB, p150 32 GB; a step that
does not fit is still modelled, as a what-if).

Benchmark target (not a test): Llama-3.1-8B on n150, traced, performance mode, 1K context, >= 33 tok/s/user
(tt_transformers' measured figure).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

from ttl_kernels import env

env.apply_defaults()  # before torch loads (OMP_WAIT_POLICY)

import models.kernel_model as km
from models.decoder_step import decode_step
from models.kernel_model import ShapeOps
from reference import registry
from ttl_kernels import runtime
from ttl_kernels.perf import chip_grid, count_call, model
from ttl_kernels.perf.decoder import KERNEL_CLASS, OP_CLASSES, PRECISIONS, kv_bytes, projection, weight_bytes
from ttl_kernels.perf.hardware import CHIPS, figures

RESULTS = Path(__file__).resolve().parent / "results"
# the TT-Lang kernels the decoder calls (module-level names in models.kernel_model), counted per call
KERNELS = ("rms_norm", "add_rms_norm", "head_rms_norm", "rope", "kv_update", "heads_to_groups", "flash_decode",
           "groups_to_heads", "silu_mul", "residual_add")
TARGET = dict(model="llama-3.1-8b", chip="n150", precision="performance", dispatch="traced", context=1024,
              tok_s=33.0, source="tt_transformers Llama-3.1-8B on n150: 33 tok/s/user, bfp8 weights, traced decode "
              "(../shared/design/perf-model.md, seed document 004)")
KERNEL_CLASSES = tuple(c for c in OP_CLASSES if c != "dispatch")


def run_step(name: str, ctx: int, kv_dtype: str, chip: str) -> dict:
    """One decode step of ``name`` on ``chip``'s grid, every kernel call counted: the calls (kernel, parameters,
    model) and the matmul shapes."""
    full = registry.config(name)
    cfg = full if name.startswith("tiny") else registry.config(name, num_layers=1)
    ops = ShapeOps(cfg, max_seq_len=ctx, kv_dtype=kv_dtype)
    cache = ops.new_cache(1)
    cache.lengths.fill_(ctx - 1)  # the new token at position ctx - 1 attends to ctx tokens
    calls: list[dict] = []
    mms: list[tuple] = []
    ws, fn, lm = ops.weights()
    roles = {id(getattr(ws[0], f)): f for f in ("wq", "wk", "wv", "wo", "wg", "wu", "wd")} | {id(lm): "lm_head"}

    def counted(kernel, f):
        def run(*args, **kw):
            t0 = time.perf_counter()
            out, counts, _ = count_call(f, *args, **kw)
            m = model(counts, chip)
            calls.append(dict(kernel=kernel, op_class=KERNEL_CLASS[kernel], launches=len(m.launches),
                              model_us=m.model_us, dram_us=m.dram_us, compute_us=m.compute_us,
                              handoff_us=m.handoff_us, noc_us=m.noc_us, bound=m.bound, dram_bytes=m.dram_bytes,
                              case=case_of(kernel, counts), sim_s=time.perf_counter() - t0))
            return out

        return run

    def matmul(x, w):
        mms.append((roles.get(id(w), "?"), w.shape[0], w.shape[1]))
        return ShapeOps.matmul(ops, x, w)

    t0 = time.perf_counter()
    with ExitStack() as stack, chip_grid(chip):
        for k in KERNELS:
            stack.enter_context(mock.patch.object(km, k, counted(k, getattr(km, k))))
        ops.matmul = matmul
        decode_step(ops, ws, fn, lm, cache, [0], [ctx - 1])
    return dict(calls=calls, matmuls=mms, layers_run=cfg.num_layers, layers_model=full.num_layers,
                sim_s=time.perf_counter() - t0)


def case_of(kernel: str, counts) -> str:
    """A short label of a call: the kernel and its launches' grids (the parameters are not known here)."""
    return f"{kernel}[" + ",".join(f"{L.name}:{L.grid[0]}x{L.grid[1]}" for L in counts.launches) + "]"


def per_step(call_kernel: str) -> bool:
    """rms_norm runs once per step (before layer 0); every other kernel once or more per layer."""
    return call_kernel == "rms_norm"


GROUPS = {"wq": "attn", "wk": "attn", "wv": "attn", "wo": "attn", "wg": "mlp", "wu": "mlp", "wd": "mlp",
          "lm_head": "lm_head"}


def step_row(run: dict, precision: str, chip: str, model_name: str, ctx: int, overrides: dict | None = None) -> dict:
    """Per-token time by op class for one precision on one chip, from a counted run."""
    p = PRECISIONS[precision]
    scale = run["layers_model"] / run["layers_run"]
    us = dict.fromkeys(KERNEL_CLASSES, 0.0)
    launches = 0.0
    for c in run["calls"]:
        n = 1.0 if per_step(c["kernel"]) else scale
        us[c["op_class"]] += n * c["model_us"]
        launches += n * c["launches"]
    for role, K, N in run["matmuls"]:
        n = 1.0 if role == "lm_head" else scale
        us["matmuls"] += n * projection(K, N, p.weight(GROUPS[role]), chip, overrides=overrides)["model_us"]
        launches += n
    f = figures(chip)
    dispatch = launches * f["dispatch_eager_us"].value
    traced = sum(us.values())
    wb, kvb = weight_bytes(model_name, p), kv_bytes(model_name, ctx, p.kv)
    return dict(precision=precision, chip=chip, kv_dtype=p.kv, class_us={k: round(v, 2) for k, v in us.items()},
                launches=round(launches), dispatch_us=round(dispatch, 1), traced_us=round(traced, 1),
                eager_us=round(traced + dispatch, 1), tok_s_traced=round(1e6 / traced, 2),
                tok_s_eager=round(1e6 / (traced + dispatch), 2), binding=max(us, key=us.get),
                binding_eager=max({**us, "dispatch": dispatch}.items(), key=lambda kv: kv[1])[0],
                weights_gb=round(wb / 1e9, 3), kv_gb=round(kvb / 1e9, 4), dram_gb=f["dram_gb"].value,
                fits=(wb + kvb) <= f["dram_gb"].value * 1e9)


def kernel_table(run: dict) -> list[dict]:
    """The run's calls grouped by kernel instance: calls per step (full model) and the modelled fields."""
    scale = run["layers_model"] / run["layers_run"]
    by = defaultdict(list)
    for c in run["calls"]:
        by[(c["kernel"], c["case"], round(c["model_us"], 3))].append(c)
    out = []
    for (kernel, case, _), cs in by.items():
        c = cs[0]
        n = len(cs) * (1.0 if per_step(kernel) else scale)
        out.append(dict(kernel=kernel, case=case, op_class=c["op_class"], calls_per_step=round(n, 2),
                        **{k: round(c[k], 3) for k in ("model_us", "dram_us", "compute_us", "handoff_us", "noc_us")},
                        bound=c["bound"], launches=c["launches"], dram_bytes=c["dram_bytes"],
                        us_per_step=round(n * c["model_us"], 2)))
    return sorted(out, key=lambda r: -r["us_per_step"])


def measure(name: str, ctx: int, precisions: list[str]) -> dict:
    kv_dtypes = sorted({PRECISIONS[p].kv for p in precisions})
    runs = {(kv, chip): run_step(name, ctx, kv, chip) for kv in kv_dtypes for chip in CHIPS}
    rows = [step_row(runs[(PRECISIONS[p].kv, chip)], p, chip, name, ctx) for chip in CHIPS for p in precisions]
    for r in rows:
        if r["chip"] == "n150":  # the measured decode-matmul range, 239-260 GB/s
            run = runs[(r["kv_dtype"], "n150")]
            r["tok_s_traced_matmul_239_260"] = [
                step_row(run, r["precision"], "n150", name, ctx, {"matmul_dram_gbps": g})["tok_s_traced"]
                for g in (239.0, 260.0)]
    any_run = next(iter(runs.values()))
    return {"model": name, "context": ctx, "batch": 1, "layers_run": any_run["layers_run"],
            "layers_model": any_run["layers_model"], "sim_wall_s": round(sum(r["sim_s"] for r in runs.values()), 2),
            "kernels": {f"{kv}/{chip}": kernel_table(run) for (kv, chip), run in runs.items()},
            "matmuls": [dict(role=r, group=GROUPS[r], K=K, N=N) for r, K, N in next(iter(runs.values()))["matmuls"]],
            "rows": rows}


def target_check(results: list[dict]) -> dict | None:
    for r in results:
        if r["model"] == TARGET["model"] and r["context"] == TARGET["context"]:
            for row in r["rows"]:
                if row["chip"] == TARGET["chip"] and row["precision"] == TARGET["precision"]:
                    return {**TARGET, "modelled_tok_s": row["tok_s_traced"],
                            "met": row["tok_s_traced"] >= TARGET["tok_s"], "class_us": row["class_us"],
                            "binding": row["binding"],
                            "matmul_range_tok_s": row.get("tok_s_traced_matmul_239_260")}
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="tiny-qwen3,tiny-llama,llama-3.1-8b,qwen3-8b",
                    help=f"comma-separated names of reference.registry ({', '.join(registry.names())})")
    ap.add_argument("--context", type=int, default=1024)
    ap.add_argument("--precisions", default=",".join(PRECISIONS), help=f"comma-separated of {', '.join(PRECISIONS)}")
    ap.add_argument("--json", default=str(RESULTS / "decode_step.json"))
    a = ap.parse_args(argv)
    precisions = [p for p in a.precisions.split(",") if p]
    bad = [p for p in precisions if p not in PRECISIONS]
    if bad:
        ap.error(f"--precisions: unknown {bad}; expected some of {', '.join(PRECISIONS)}")
    runtime.use_backend("sim")
    mach = env.machine()
    mm = {c: figures(c)["matmul_dram_gbps"].value for c in CHIPS}
    print(f"# bench/decode_step.py on {mach['node']}, backend sim, context {a.context}, batch 1; cycle model "
          f"(ttl_kernels.perf) on n150 and p150; projections at the decode-matmul DRAM rate "
          f"(n150 {mm['n150']:g} GB/s, p150 {mm['p150']:.0f})")
    results = []
    for name in a.models.split(","):
        r = measure(name, a.context, precisions)
        results.append(r)
        print(f"\n{name}: {r['layers_run']} of {r['layers_model']} layers simulated per chip and KV dtype "
              f"({r['sim_wall_s']} s)")
        for key, ks in r["kernels"].items():
            print(f"  kernels ({key}): " + "; ".join(f"{k['kernel']} x{k['calls_per_step']:g} {k['model_us']:.1f} us "
                                                     f"({k['bound']})" for k in ks))
        print(f"  {'precision':<12} {'chip':<5} " + " ".join(f"{c:>12}" for c in KERNEL_CLASSES)
              + f" {'traced ms':>9} {'tok/s':>6} {'dispatch':>9} {'eager ms':>9} {'tok/s':>6}  {'binding':<10} fits")
        for row in r["rows"]:
            cu = row["class_us"]
            print(f"  {row['precision']:<12} {row['chip']:<5} "
                  + " ".join(f"{cu[c] / 1e3:>12.3f}" for c in KERNEL_CLASSES)
                  + f" {row['traced_us'] / 1e3:>9.2f} {row['tok_s_traced']:>6.1f} {row['dispatch_us'] / 1e3:>9.2f} "
                  f"{row['eager_us'] / 1e3:>9.2f} {row['tok_s_eager']:>6.1f}  {row['binding']:<10} "
                  f"{'yes' if row['fits'] else 'no'} ({row['weights_gb'] + row['kv_gb']:.1f} of {row['dram_gb']:g} GB)")
    tgt = target_check(results)
    if tgt:
        lo, hi = tgt["matmul_range_tok_s"] or (None, None)
        print(f"\ntarget: {tgt['model']} on {tgt['chip']}, {tgt['dispatch']}, {tgt['precision']} mode, "
              f"{tgt['context'] // 1024}K: modelled {tgt['modelled_tok_s']:.1f} tok/s (matmuls at 239-260 GB/s: "
              f"{lo:.1f}-{hi:.1f}) vs {tgt['tok_s']:g} measured by tt_transformers: "
              f"{'reached' if tgt['met'] else 'NOT reached'}; largest class {tgt['binding']}")
    out = Path(a.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": " ".join(["python bench/decode_step.py", *argv]), "machine": mach,
                               "precisions": {p: vars(PRECISIONS[p]) for p in precisions},
                               "figures": {c: {k: figures(c)[k].value for k in ("matmul_dram_gbps", "matmul_cores",
                                                                                  "dispatch_eager_us", "launch_us",
                                                                                  "dram_gb")} for c in CHIPS},
                               "target": tgt, "results": results}, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
