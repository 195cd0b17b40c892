"""Section 1 of REPORT.md: the kernels (``traffic.json``, ``attention.json``, ``perf_validation.json``,
``decode_step.json``): simulator traces, and the cycle model of them (:mod:`ttl_kernels.perf`) on n150 and p150."""

from __future__ import annotations

import re

from ..hardware import DISPATCH_US, DRAM_GB, HW_GBPS, LAUNCH_US, MATMUL_GBPS, TTNN_GBPS
from ..md import fmt_bytes, md_table, params_str, yes_no
from ..plots import attention_plot
from ..results import Results, rel
from . import Part, parts

LONG_CTX = 32768  # the plot and the summary stop here (the simulator's full sweep goes to 128K)
CHIPS = ("n150", "p150")
ATTN_KERNEL = {"flash": "flash_decode", "speculative": "speculative_decode"}


def attention_rows(doc: dict) -> list[dict]:
    """The rows of the contexts the document's command asked for (the file keeps earlier runs' rows too)."""
    rows = doc.get("rows", [])
    m = re.search(r"--contexts\s+([\d,]+)", doc.get("command", ""))
    if m:
        want = {int(x) for x in m.group(1).split(",") if x}
        rows = [r for r in rows if r["context"] in want]
    return rows


def flash_rows(doc: dict, kv_dtype: str | None = "bf16") -> list[dict]:
    """flash_decode's rows by context (one KV dtype; None: all)."""
    return sorted((r for r in attention_rows(doc) if r["kernel"] == "flash"
                   and (kv_dtype is None or r.get("kv_dtype", "bf16") == kv_dtype)), key=lambda r: r["context"])


def model_cells(m: dict | None, full: bool = True) -> list[str]:
    """A chip's cycle-model cells: model us, [dram, compute, handoff,] bound, model/DRAM, useful GB/s."""
    if not m:
        return ["-"] * (7 if full else 4)
    gb = "-" if m.get("useful_gbps") is None else f"{m['useful_gbps']:.0f}"
    mid = [f"{m['dram_us']:.2f}", f"{m['compute_us']:.2f}", f"{m['handoff_us']:.2f}"] if full else []
    return [f"{m['model_us']:.2f}", *mid, m["bound"], f"{m['ratio_to_dram']:.2f}", gb]


def traffic(res: Results, t: dict, summ: dict) -> list[str]:
    out = ["\nBytes = tiles copied x bytes per tile in the simulator's copy trace (n150 grid); minimum = every input "
           "read once + every output written once (tile-padded; kv_update: in place, see `min_rule`).  Cores = cores "
           "that moved data; max/mean = bytes of the busiest core over the mean.  PCC vs the torch reference.  Model = "
           "the cycle model (`ttl_kernels.perf`: the call runs again on each chip's grid with its ops counted; per "
           "core max(compute + hand-offs, reader, writer), slowest core, floored by the DRAM time, plus a "
           f"{LAUNCH_US:g} us op-to-op gap per launch, traced); x DRAM = model / DRAM time (n150 {HW_GBPS['n150']:g} "
           f"GB/s, p150 {HW_GBPS['p150']:g} GB/s); 1b sorts them.\n"]
    rows = []
    for r in t["results"]:
        cells = [r["kernel"], params_str(r["params"]), f"{r['bytes']:,}", f"{r['min_bytes']:,}", f"{r['ratio']:.3f}",
                 r["cores"], f"{r['balance']:.2f}", f"{r['pcc']:.6f}"]
        for c in CHIPS:
            m = r.get(c)
            cells += [f"{m['model_us']:.2f}", m["bound"], f"{m['ratio_to_dram']:.2f}"] if m else ["-", "-", "-"]
        rows.append(cells)
    out.append(md_table(["kernel", "shape", "bytes", "minimum", "ratio", "cores", "max/mean", "PCC", "n150 us", "bound",
                         "x DRAM", "p150 us", "bound", "x DRAM"], rows, "llrrrrrrrlrrlr"))
    held = [r for r in t["results"] if r["params"].get("passes", 1) == 1 and not r.get("not_gated")]
    worst = max(held, key=lambda r: r["ratio"])
    ok = sum(r["ratio"] <= 1.05 for r in held)
    summ["traffic"] = {"instances": len(t["results"]), "single_pass": len(held), "within_1_05": ok,
                       "worst": f"{worst['ratio']:.2f} ({worst['kernel']} {params_str(worst['params'])})",
                       "min_pcc": min(r["pcc"] for r in t["results"])}
    over = sorted({r["kernel"] for r in held if r["ratio"] > 1.05})
    skipped = sorted({f"{r['kernel']} ({r['not_gated']})" for r in t["results"] if r.get("not_gated")})
    out.append(f"\n{ok} of {len(held)} gated instances within 1.05x of the minimum; above it: "
               f"{', '.join(over) or 'none'} (decode attention at 1K context is dominated by per-core constant tiles "
               "and partial results: see 1d for how the ratio falls with context).  Since the cycle model, plans are "
               "chosen by modelled time, not bytes: decode-sized norms split over cores read x twice, RoPE and "
               "head norms spread heads over cores with their tables, so the 1.05x byte target (and "
               "bench/traffic.py's exit status, which still holds it) marks traffic, not slowness: 1a and 1b give "
               "each instance's modelled time beside its bytes.  Not gated: two-pass norms"
               + (f"; {'; '.join(skipped)}" if skipped else "") + ".\n")
    return out


def instance_key(kernel: str, params: dict) -> tuple:
    p = {k: v for k, v in params.items() if k not in ("pos", "chunk_size", "eps", "model", "start", "lambda_")}
    if kernel in ("flash_decode", "speculative_decode"):
        p.setdefault("kv_dtype", "bf16")
    return kernel, tuple(sorted(p.items()))


def instances(t: dict | None, a: dict | None) -> list[dict]:
    """Every modelled kernel instance of ``traffic.json`` and ``attention.json`` (deduplicated):
    ``{kernel, shape, n150, p150, source}``."""
    out: dict[tuple, dict] = {}
    for r in (t or {}).get("results", []):
        if "n150" in r:
            out.setdefault(instance_key(r["kernel"], r["params"]), dict(
                kernel=r["kernel"], shape=params_str(r["params"]), n150=r["n150"], p150=r.get("p150"),
                source="traffic"))
    for r in attention_rows(a or {}):
        if "n150" not in r:
            continue
        kernel = ATTN_KERNEL.get(r["kernel"], r["kernel"])
        p = dict(batch=1, n_q=32, n_kv=8, head_dim=128, s_max=r["context"], kv_dtype=r.get("kv_dtype", "bf16"))
        out.setdefault(instance_key(kernel, p), dict(
            kernel=kernel, shape=f"Llama-3.1-8B heads, ctx {r['context'] // 1024}K, {p['kv_dtype']} KV",
            n150=r["n150"], p150=r.get("p150"), source="attention"))
    return list(out.values())


def worst_first(res: Results, t: dict, summ: dict) -> list[str]:
    a = res.load("attention.json")
    insts = instances(t, a)
    insts.sort(key=lambda x: (-x["n150"]["ratio_to_dram"], -(x["p150"] or {}).get("ratio_to_dram", 0)))
    out = ["\nEvery kernel instance of 1a and 1d, sorted by the n150 model time over its DRAM time (`x DRAM`: 1.0 = "
           "DRAM-bound; above, compute, dataflow-buffer hand-offs, the NoC or the launch take longer than the bytes).  "
           "`bound` names the term that binds most of the call's time: dram, compute (the compute thread's tile "
           "ops), handoff (its dataflow-buffer reserve/push/wait/pop), noc (core-to-core transfers) or dispatch (the "
           f"{LAUNCH_US:g} us op-to-op launch gap exceeds the work).  Useful GB/s = the minimum bytes / model time.\n"]
    rows = []
    for i, x in enumerate(insts, 1):
        rows.append([i, x["kernel"], x["shape"], *model_cells(x["n150"]), *model_cells(x["p150"], full=False)])
    out.append(md_table(["#", "kernel", "instance", "n150 model us", "DRAM us", "compute us", "handoff us", "bound",
                         "x DRAM", "GB/s", "p150 model us", "bound", "x DRAM", "GB/s"], rows,
                        "rllrrrrlrrrlrr"))
    figs = {}
    for c in CHIPS:
        ms = [x[c] for x in insts if x.get(c)]
        w = max((x for x in insts if x.get(c)), key=lambda x: x[c]["ratio_to_dram"])
        figs[c] = {"dram_bound": sum(m["bound"] == "dram" for m in ms), "n": len(ms),
                   "within_1_1": sum(m["ratio_to_dram"] <= 1.1 for m in ms),
                   "worst": f"x{w[c]['ratio_to_dram']:.1f} ({w['kernel']} {w['shape']}, {w[c]['bound']})",
                   "bounds": {b: sum(m["bound"] == b for m in ms) for b in sorted({m["bound"] for m in ms})}}
    summ["worst_first"] = {"chips": figs, "top": [(x["kernel"], x["shape"], x["n150"]["ratio_to_dram"],
                                                   x["n150"]["bound"]) for x in insts[:10]]}
    out.append("\n" + "; ".join(f"{c}: {f['dram_bound']} of {f['n']} instances DRAM-bound, {f['within_1_1']} within "
                                f"1.1x of their DRAM time, bound by {f['bounds']}" for c, f in figs.items()) + ".\n")
    return out


def validation(res: Results, v: dict, summ: dict) -> list[str]:
    s = v["summary"]
    out = [f"\n(a) Matmul: our TT-Lang `matmul` with tt-lang's published blocks and grid on p150, its traffic remapped "
           "to the published multicast design, fp32 accumulation, against the published device time of tt-lang's "
           f"kernel ({v['sources']['matmul']}).  Error = model / published.\n"]
    rows = [[r["label"], f"{r['published_us']:.1f}", f"{r['model_us']:.1f}", f"{r['error']:.3f}", r["leans"],
             r["bound"], f"{r['own_kernel_model_us']:.1f} ({r['own_kernel_bound']})"] for r in v["matmul"]]
    out.append(md_table(["shape", "published us", "model us", "model / published", "leans", "bound",
                         "own kernel, no multicast: us"], rows, "lrrrllr"))
    mm = s["matmul"]
    out.append(f"\nModel / published {mm['error_min']:.2f} .. {mm['error_max']:.2f} (geomean "
               f"{mm['error_geomean']:.2f}, {mm['rows']} shapes, leans {mm['leans']}: low on small shapes where launch "
               "ramp and multicast latency are not modelled, high on the largest where our kernel packs its "
               "accumulator every K step).\n")
    out.append(f"(b) Decode attention: our `flash_decode` at Llama-3.1-8B heads, batch 1, against ttnn FlashDecode's "
               f"measured ~{TTNN_GBPS:g} GB/s of KV on Wormhole ({v['sources']['flashdecode']}; a different kernel and "
               "configuration: it checks the range, not a one-to-one prediction).  Error = modelled useful GB/s / "
               f"{TTNN_GBPS:g}.\n")
    rows = []
    for r in v["flashdecode"]:
        c, p = r["call"], r["partial"]
        rows.append([f"{r['context'] // 1024}K", r["kv_dtype"], r["chip"], f"{c['model_us']:.1f}", c["bound"],
                     f"{c['useful_gbps']:.1f}", f"{r['error']:.2f} ({r['leans']})" if "error" in r else "-",
                     f"{p['compute_us']:.1f} + {p['handoff_us']:.1f}", f"{p['dram_us']:.1f}"])
    out.append(md_table(["ctx", "KV", "chip", "model us", "bound", "useful GB/s", f"/ ttnn {TTNN_GBPS:g}",
                         "partial: compute + handoff us", "partial: DRAM us"], rows, "lllrlrrrr"))
    fd = s["flashdecode"]
    out.append("\n" + "; ".join(f"{dt}: {x['useful_gbps']:.0f} GB/s modelled on n150, x{x['error']:.2f} of ttnn's "
                                f"~{TTNN_GBPS:g} (leans {x['leans']})" for dt, x in fd.items())
               + ".  The two kernels differ: ours is modelled compute-bound (typecasts of K and V, exp, butterfly and "
                 "selector matmuls, hand-offs; 1b, 1d), so the ratio mixes our kernel's design with the model's own "
                 "error, which leans low for DRAM-bound kernels (spec bandwidth, ideal sharing).\n")
    summ["validation"] = s
    return out


def attention(res: Results, a: dict, summ: dict) -> list[str]:
    out = []
    n150, p150 = HW_GBPS["n150"], HW_GBPS["p150"]
    out.append(f"\nMinimum = K and V read once (2 bytes per element for bf16, 1088/1024 for bfp8_b).  KV cores / "
               "max-mean from the per-core trace (n150 grid).  Model = the cycle model on each chip's grid (n150 "
               f"{n150:g} GB/s, p150 {p150:g} GB/s): model, DRAM, compute and hand-off us, bound, useful GB/s = "
               f"minimum / model.  ttnn@{TTNN_GBPS:g} = the minimum at ttnn's ~{TTNN_GBPS:g} GB/s.  `speculative` is "
               f"ALSpec's kernel (S = {a.get('chunk')}: exact and speculative attention and the verdict in one pass; "
               "2S/P = the share of KV the approximation reads).\n")
    rows = []
    for r in sorted(attention_rows(a), key=lambda r: (r["kernel"], r.get("kv_dtype", "bf16"), r["context"])):
        cells = [r["kernel"], f"{r['context'] // 1024}K", r.get("kv_dtype", "bf16"), fmt_bytes(r["bytes"]),
                 fmt_bytes(r["min_bytes"]), f"{r['ratio']:.3f}", f"{r['kv_cores']}", f"{r['kv_max_over_mean']:.2f}"]
        for c in CHIPS:
            m = r.get(c)
            cells += ([f"{m['model_us']:.1f}", f"{m['dram_us']:.1f}", f"{m['compute_us']:.1f}",
                       f"{m['handoff_us']:.1f}", m["bound"], f"{m['useful_gbps']:.0f}"] if m else ["-"] * 6)
        cells += [f"{r['min_at_ttnn_180gbps_us']:.1f}", yes_no(r["model_matches_trace"]),
                  f"{r['pcc_exact']:.6f}" if "pcc_exact" in r else "-"]
        rows.append(cells)
    head = ["kernel", "ctx", "KV", "bytes", "minimum", "ratio", "KV cores", "max/mean"]
    for c in CHIPS:
        head += [f"{c} model us", "DRAM us", "compute us", "handoff us", "bound", "GB/s"]
    out.append(md_table(head + [f"ttnn@{TTNN_GBPS:g} us", "plan == trace", "PCC"], rows,
                        "lllrrrrrrrrrlrrrrrlrrlr"))
    fl = flash_rows(a, None)
    png = res.path("attention_bandwidth.png")
    if attention_plot([r for r in fl if r["context"] <= LONG_CTX and "n150" in r], png):
        out.append(f"\n![decode attention bandwidth vs context]({png.name})\n\n`{rel(png)}`: the flash-decode kernel's "
                   "modelled useful bandwidth (cycle model) next to the traced bytes at the DRAM peak (roofline) and "
                   f"ttnn's measured ~{TTNN_GBPS:g} GB/s on Wormhole.\n")
    bf = [r for r in flash_rows(a) if "n150" in r]
    if bf:
        short = [r for r in bf if r["context"] <= LONG_CTX]
        lo, hi = bf[0], (short or bf)[-1]
        b8 = next((r for r in flash_rows(a, "bfp8_b") if r["context"] == hi["context"] and "n150" in r), None)
        summ["attention"] = {"lo_ctx": lo["context"], "hi_ctx": hi["context"], "ratio_lo": lo["ratio"],
                             "ratio_hi": hi["ratio"], "kv_cores_hi": hi["kv_cores"],
                             "balance_hi": hi["kv_max_over_mean"], "hi": {c: hi[c] for c in CHIPS},
                             "hi_bfp8": {c: b8[c] for c in CHIPS} if b8 else None}
    return out


CLASSES = ("attention", "matmuls", "norms", "element-wise", "layout")


def decode_step(res: Results, d: dict, summ: dict) -> list[str]:
    figs = d.get("figures", {})
    out = ["\nOne decode step (batch 1) of the kernel-built decoder per model, run on the simulator once per chip and "
           "KV dtype with every TT-Lang kernel call counted and modelled (tiny models: every layer; full-size: one "
           "layer, times the depth, plus the first norm and the LM head).  The projections and the LM head are ttnn "
           "DRAM-sharded decode matmuls, modelled at the measured decode-matmul DRAM rate (n150 "
           f"{MATMUL_GBPS['n150']:g} GB/s, the middle of the 239-260 GB/s tt-metal measures in Llama decode; p150 "
           f"{MATMUL_GBPS['p150']:.0f} GB/s, the same share of its 512) on one worker per DRAM bank.  Precisions: "
           + "; ".join(f"`{k}` = {v['note']}" for k, v in d.get("precisions", {}).items())
           + ".  Per-token ms by op class, traced (no host cost); eager adds `dispatch` = "
           f"{DISPATCH_US:g} us of host dispatch per launch, serially (an upper bound: a device busier than the host "
           "hides part of it).  Binding = the op class with the most time.  Fits = weights + KV cache within the "
           f"chip's DRAM (n150 {DRAM_GB['n150']:g} GB, p150 {DRAM_GB['p150']:g} GB; a step that does not fit is "
           "still modelled, as a what-if).\n"]
    if figs:
        out.append("Figures used: " + "; ".join(
            f"{c}: projections at {f['matmul_dram_gbps']:.1f} GB/s on {f['matmul_cores']:g} cores, launch gap "
            f"{f['launch_us']:g} us, eager dispatch {f['dispatch_eager_us']:g} us per launch, {f['dram_gb']:g} GB DRAM"
            for c, f in figs.items()) + ".\n")
    tgt = d.get("target")
    if tgt:
        lo, hi = tgt.get("matmul_range_tok_s") or (None, None)
        rng = f" ({lo:.1f}-{hi:.1f} with the matmuls at 239-260 GB/s)" if lo else ""
        out.append(f"**Target** ({tgt['source']}): {tgt['model']} on {tgt['chip']}, {tgt['dispatch']}, "
                   f"{tgt['precision']} mode, {tgt['context'] // 1024}K context: >= {tgt['tok_s']:g} tok/s/user.  "
                   f"Modelled: **{tgt['modelled_tok_s']:.1f} tok/s**{rng}: "
                   f"**{'reached' if tgt['met'] else 'not reached'}**; per token: "
                   + ", ".join(f"{k} {v / 1e3:.2f} ms" for k, v in tgt["class_us"].items()) + ".\n")
    for r in d["results"]:
        rows = []
        for x in r["rows"]:
            cu = x["class_us"]
            rows.append([x["chip"], x["precision"], *[f"{cu[c] / 1e3:.2f}" for c in CLASSES],
                         f"{x['traced_us'] / 1e3:.2f}", f"{x['tok_s_traced']:.1f}", x["binding"],
                         f"{x['dispatch_us'] / 1e3:.2f}", f"{x['eager_us'] / 1e3:.2f}", f"{x['tok_s_eager']:.1f}",
                         x["binding_eager"],
                         f"{yes_no(x['fits'])} ({x['weights_gb'] + x['kv_gb']:.1f} / {x['dram_gb']:g} GB)"])
        out.append(f"\n**{r['model']}**, {r['context'] // 1024 if r['context'] >= 1024 else r['context']}"
                   f"{'K' if r['context'] >= 1024 else ''} context ({r['layers_run']} of {r['layers_model']} layers "
                   f"simulated; {r['sim_wall_s']:.0f} s):\n")
        out.append(md_table(["chip", "weights", *[f"{c} ms" for c in CLASSES], "traced ms", "tok/s", "binding",
                             "dispatch ms", "eager ms", "tok/s", "binding", "fits"], rows,
                            "llrrrrrrrlrrrll"))
        for key, ks in r["kernels"].items():
            table = md_table(["kernel", "launch grids", "class", "calls / step", "model us", "DRAM us", "compute us",
                              "handoff us", "bound", "us / step"],
                             [[k["kernel"], k["case"].split("[", 1)[1].rstrip("]"), k["op_class"],
                               f"{k['calls_per_step']:g}", f"{k['model_us']:.2f}", f"{k['dram_us']:.2f}",
                               f"{k['compute_us']:.2f}", f"{k['handoff_us']:.2f}", k["bound"],
                               f"{k['us_per_step']:.1f}"] for k in ks], "lllrrrrrlr")
            out.append(f"<details><summary>{r['model']}: TT-Lang kernels per step, {key.replace('/', ' KV, ')}"
                       f"</summary>\n\n{table}\n\n</details>\n")
    summ["decode_step"] = {r["model"]: r for r in d["results"]}
    summ["decode_target"] = tgt
    return out


PARTS: list[Part] = [
    ("traffic.json", "### 1a. Every kernel at the models' shapes: DRAM <-> L1 traffic and modelled time\n", "traffic",
     traffic),
    ("traffic.json", "\n### 1b. Every kernel instance by its distance from DRAM-bound (cycle model), worst first\n",
     "traffic", worst_first),
    ("perf_validation.json", "\n### 1c. The cycle model against published measurements\n", "perf_validation",
     validation),
    ("attention.json", "\n### 1d. Decode attention vs context (Llama-3.1-8B heads, batch 1, bf16 and bfp8_b KV)\n",
     "attention", attention),
    ("decode_step.json", "\n### 1e. Decode step per token by op class (n150 / p150, weight precisions, traced / eager)"
     "\n", "decode_step", decode_step),
]


def section(res: Results, mach: dict, runs: dict) -> tuple[str, dict]:
    summ: dict = {}
    out = ["## 1. Kernels (simulator traces; cycle model of n150 and p150)\n", *parts(res, mach, runs, summ, PARTS)]
    return "\n".join(out) + "\n", summ
