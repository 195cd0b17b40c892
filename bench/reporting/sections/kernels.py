"""Section 1 of REPORT.md: the kernels (``traffic.json``, ``attention.json``, ``decode_step.json``): simulator traces
and roofline models of them."""

from __future__ import annotations

import re

from ..hardware import HW_GBPS, LAUNCH_US, TTNN_GBPS, roofline_us, useful_gbps
from ..md import fmt_bytes, md_table, params_str, yes_no
from ..plots import attention_plot
from ..results import Results, rel
from . import Part, parts

LONG_CTX = 32768  # the plot and the summary stop here (the simulator's full sweep goes to 128K)


def attention_rows(doc: dict) -> list[dict]:
    """The rows of the contexts the document's command asked for (the file keeps earlier runs' rows too)."""
    rows = doc.get("rows", [])
    m = re.search(r"--contexts\s+([\d,]+)", doc.get("command", ""))
    if m:
        want = {int(x) for x in m.group(1).split(",") if x}
        rows = [r for r in rows if r["context"] in want]
    return rows


def flash_rows(doc: dict) -> list[dict]:
    """flash_decode's rows by context."""
    return sorted((r for r in attention_rows(doc) if r["kernel"] == "flash"), key=lambda r: r["context"])


def traffic(res: Results, t: dict, summ: dict) -> list[str]:
    out = ["\nBytes = tiles copied x bytes per tile in the simulator's copy trace; minimum = every input read "
           "once + every output written once (tile-padded; kv_update: in place, see `min_rule`).  Cores = cores "
           "that moved data; max/mean = bytes of the busiest core over the mean.  Roofline = traced bytes at the "
           f"DRAM peak (n150 {HW_GBPS['n150']:g} GB/s, p150 {HW_GBPS['p150']:g} GB/s; the n150 grid's bytes; "
           "launch overhead excluded).  PCC vs the torch reference.\n"]
    rows = [[r["kernel"], params_str(r["params"]), f"{r['bytes']:,}", f"{r['min_bytes']:,}", f"{r['ratio']:.3f}",
             r["cores"], f"{r['balance']:.2f}", f"{roofline_us(r['bytes'], 'n150'):.2f}",
             f"{roofline_us(r['bytes'], 'p150'):.2f}", f"{r['pcc']:.6f}"] for r in t["results"]]
    out.append(md_table(["kernel", "shape", "bytes", "minimum", "ratio", "cores", "max/mean", "n150 us", "p150 us",
                         "PCC"], rows, "llrrrrrrrr"))
    gated = [r for r in t["results"] if r["params"].get("passes", 1) == 1]
    worst = max(gated, key=lambda r: r["ratio"])
    ok = sum(r["ratio"] <= 1.05 for r in gated)
    summ["traffic"] = {"instances": len(t["results"]), "single_pass": len(gated), "within_1_05": ok,
                       "worst": f"{worst['ratio']:.2f} ({worst['kernel']} {params_str(worst['params'])})",
                       "min_pcc": min(r["pcc"] for r in t["results"])}
    over = sorted({r["kernel"] for r in gated if r["ratio"] > 1.05})
    out.append(f"\n{ok} of {len(gated)} single-pass instances within 1.05x of the minimum; above it: "
               f"{', '.join(over) or 'none'} (decode attention at 1K context is dominated by per-core constant tiles "
               "and partial results: see 1b for how the ratio falls with context).\n")
    return out


def attention(res: Results, a: dict, summ: dict) -> list[str]:
    out = []
    n150, p150 = HW_GBPS["n150"], HW_GBPS["p150"]
    out.append("\nMinimum = K and V read once.  KV cores / max-mean from the per-core trace.  n150 us = traced bytes "
               f"at {n150:g} GB/s; p150 us = the p150 (13x10) plan's bytes at {p150:g} GB/s; ttnn@{TTNN_GBPS:g} = the "
               f"minimum at ttnn's ~{TTNN_GBPS:g} GB/s. Useful GB/s = minimum / (roofline + {LAUNCH_US:g} us launch).  "
               f"`speculative` is ALSpec's approximate kernel (S = {a.get('chunk')}, reads the sink + recent chunks: "
               "share 2S/P of KV).\n")
    rows = []
    for r in sorted(attention_rows(a), key=lambda r: (r["kernel"], r["context"])):
        rows.append([r["kernel"], f"{r['context'] // 1024}K", fmt_bytes(r["bytes"]), fmt_bytes(r["min_bytes"]),
                     f"{r['ratio']:.3f}", f"{r['kv_cores']}", f"{r['kv_max_over_mean']:.2f}",
                     f"{r['roofline_us_n150']:.1f}", f"{r['roofline_us_p150']:.1f}",
                     f"{r['min_at_ttnn_180gbps_us']:.1f}", f"{useful_gbps(r, 'n150', True):.0f}",
                     f"{useful_gbps(r, 'p150', True):.0f}", yes_no(r["model_matches_trace"]),
                     f"{r['pcc_exact']:.6f}" if "pcc_exact" in r else "-"])
    out.append(md_table(["kernel", "ctx", "bytes", "minimum", "ratio", "KV cores", "max/mean", "n150 us", "p150 us",
                         f"ttnn@{TTNN_GBPS:g} us", "useful GB/s n150", "p150", "plan == trace", "PCC"], rows,
                        "lrrrrrrrrrrrrr"))
    fl = flash_rows(a)
    png = res.path("attention_bandwidth.png")
    if attention_plot([r for r in fl if r["context"] <= LONG_CTX], png):
        out.append(f"\n![decode attention bandwidth vs context]({png.name})\n\n`{rel(png)}`: the flash-decode kernel's "
                   f"modelled useful bandwidth, 1K..32K, next to ttnn's ~{TTNN_GBPS:g} GB/s anchor.  A roofline model: "
                   "it assumes the traced bytes move at the DRAM peak, which real kernels do not reach (ttnn reaches "
                   f"~{TTNN_GBPS / n150:.0%} of {n150:g} GB/s); it shows what the kernel's traffic allows, not a "
                   "measurement.\n")
    if fl:
        short = [r for r in fl if r["context"] <= LONG_CTX]
        lo, hi = fl[0], (short or fl)[-1]
        summ["attention"] = {"lo_ctx": lo["context"], "hi_ctx": hi["context"], "ratio_lo": lo["ratio"],
                             "ratio_hi": hi["ratio"], "gbps_hi_n150": useful_gbps(hi, "n150", True),
                             "gbps_hi_p150": useful_gbps(hi, "p150", True), "kv_cores_hi": hi["kv_cores"],
                             "balance_hi": hi["kv_max_over_mean"]}
    return out


def decode_step(res: Results, d: dict, summ: dict) -> list[str]:
    out = ["\nTiny models: every layer simulated; full-size models: one layer (the whole-model estimate scales it "
           "by the depth, the LM head once).  Matmuls are ttnn (not TT-Lang): analytic bytes.  Times = max(bytes / "
           f"DRAM bandwidth, FLOPs / peak) + {LAUNCH_US:g} us per op call (models/alspec/latency.py).\n"]
    rows = [[r["model"], r["context"], f"{r['layers_run']}/{r['layers_model']}", f"{r['sim_wall_s']:.1f}",
             f"{r['step_us']['n150']:.1f}", f"{r['step_us']['p150']:.1f}",
             f"{r['model_step_ms_estimate']['n150']:.3f}", f"{r['model_step_ms_estimate']['p150']:.3f}"]
            for r in d["results"]]
    out.append(md_table(["model", "ctx", "layers run", "sim s", "n150 us (layers run)", "p150 us",
                         "whole model n150 ms", "p150 ms"], rows, "lrrrrrrr"))
    out.append("")
    for r in d["results"]:
        ops = [[o["op"], o["calls"], f"{o['sim_s']:.2f}", fmt_bytes(o["bytes"]), f"{o['flops'] / 1e9:.3f}",
                f"{o['n150_us']:.1f}", f"{o['p150_us']:.1f}"] for o in r["ops"]]
        table = md_table(["op", "calls", "sim s", "bytes", "GFLOP", "n150 us", "p150 us"], ops)
        out.append(f"<details><summary>{r['model']}: per op</summary>\n\n{table}\n\n</details>\n")
    summ["decode_step"] = {r["model"]: r for r in d["results"]}
    return out


PARTS: list[Part] = [
    ("traffic.json", "### 1a. DRAM <-> L1 traffic of every kernel at the models' shapes\n", "traffic", traffic),
    ("attention.json", "### 1b. Decode attention vs context (Llama-3.1-8B heads, batch 1, bf16 KV)\n", "attention",
     attention),
    ("decode_step.json", "\n### 1c. One decode step, per kernel (simulator wall time, bytes, roofline n150 / p150)\n",
     "decode_step", decode_step),
]


def section(res: Results, mach: dict, runs: dict) -> tuple[str, dict]:
    summ: dict = {}
    out = ["## 1. Kernels (simulator traces, roofline models)\n", *parts(res, mach, runs, summ, PARTS)]
    return "\n".join(out) + "\n", summ
