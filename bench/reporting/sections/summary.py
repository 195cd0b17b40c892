"""The summary at the top of REPORT.md: one row per headline figure of the sections, the commands' exit statuses, the
torch speculative table again, and every note of the sections once."""

from __future__ import annotations

from ..hardware import TTNN_GBPS
from ..md import md_table, notes, yes_no
from .alspec import longest_and_mid


def kernel_rows(k: dict) -> list[list[str]]:
    rows = []
    t = k.get("traffic")
    if t:
        rows.append(["Kernels: traffic vs minimum", f"{t['within_1_05']}/{t['single_pass']} gated instances "
                     f"<= 1.05x (a byte target; plans are chosen by modelled time, 1b); worst {t['worst']}; min PCC "
                     f"{t['min_pcc']:.6f}"])
    w = k.get("worst_first")
    if w:
        rows.append(["Kernels: cycle model (1b)", "; ".join(
            f"{c}: {f['dram_bound']}/{f['n']} instances DRAM-bound, {f['within_1_1']} within 1.1x of their DRAM time; "
            f"worst {f['worst']}" for c, f in w["chips"].items())])
    v = k.get("validation")
    if v:
        mm = v["matmul"]
        rows.append(["  validation: matmul vs tt-lang (p150)",
                     f"model / published {mm['error_min']:.2f} .. {mm['error_max']:.2f} (geomean "
                     f"{mm['error_geomean']:.2f}, {mm['rows']} shapes, leans {mm['leans']})"])
        rows.append(["  validation: flash decode 32K vs ttnn (n150)", "; ".join(
            f"{dt} KV {x['useful_gbps']:.0f} GB/s modelled vs ~{TTNN_GBPS:g} measured: x{x['error']:.2f} "
            f"(leans {x['leans']})" for dt, x in v["flashdecode"].items())])
    a = k.get("attention")
    if a:
        rows.append(["Decode attention (Llama-3.1-8B, flash)",
                     f"traffic ratio {a['ratio_lo']:.2f}x at {a['lo_ctx'] // 1024}K -> {a['ratio_hi']:.3f}x at "
                     f"{a['hi_ctx'] // 1024}K; {a['kv_cores_hi']} KV cores, max/mean {a['balance_hi']:.2f}"])

        def gb(m: dict) -> str:
            return f"{m['useful_gbps']:.0f} GB/s ({m['bound']}, x{m['ratio_to_dram']:.2f} DRAM)"

        b8 = a.get("hi_bfp8")
        rows.append([f"  modelled bandwidth at {a['hi_ctx'] // 1024}K (cycle model)",
                     f"bf16 KV: n150 {gb(a['hi']['n150'])}, p150 {gb(a['hi']['p150'])}"
                     + (f"; bfp8_b KV: n150 {gb(b8['n150'])}, p150 {gb(b8['p150'])}" if b8 else "")
                     + f" (ttnn ~{TTNN_GBPS:g} GB/s measured on Wormhole)"])
    tgt = k.get("decode_target")
    if tgt:
        rows.append([f"Decode step target: {tgt['model']}, {tgt['chip']}, {tgt['dispatch']}, {tgt['precision']} mode, "
                     f"{tgt['context'] // 1024}K",
                     f"modelled {tgt['modelled_tok_s']:.1f} tok/s vs {tgt['tok_s']:g} (tt_transformers): "
                     f"{'reached' if tgt['met'] else 'NOT reached'}; largest op class {tgt['binding']}"])
    ds = k.get("decode_step") or {}
    for name in ("llama-3.1-8b", "qwen3-8b", "tiny-qwen3"):
        if name in ds:
            r = ds[name]
            cells = [f"{x['chip']} {x['precision']} {x['tok_s_traced']:.1f} / {x['tok_s_eager']:.1f}"
                     for x in r["rows"]]
            ctx = r["context"]
            rows.append([f"Decode step {name} @ {ctx // 1024 if ctx >= 1024 else ctx}{'K' if ctx >= 1024 else ''} "
                         "(tok/s traced / eager)", "; ".join(cells)])
    return rows


def speculative_rows(s: dict) -> list[list[str]]:
    rows = []
    tor = s.get("torch")
    if tor:
        ms = tor["methods"]
        best = max((n for n in ms if n != "plain"), key=lambda n: ms[n]["speedup_vs_plain"] or 0, default=None)
        st = tor["settings"]
        rows.append(["Speculative, torch CPU", f"{st['prompts']} prompts x {st['max_new_tokens']} "
                     f"tokens; greedy outputs identical across methods: {yes_no(tor['identical_all'])}"
                     + (f"; fastest {best} {ms[best]['speedup_vs_plain']:.2f}x" if best else "")])
    sim = s.get("sim")
    if sim:
        ms = sim["methods"]
        plain = ms["plain"]
        pspt = plain["target_steps"] / plain["tokens"] if plain["tokens"] else 0
        parts = []
        for n, x in ms.items():
            if n == "plain":
                continue
            spt = x["target_steps"] / x["tokens"] if x["tokens"] else 0
            parts.append(f"{n} tau {x['tau']:.2f}, {pspt / spt:.2f}x fewer target steps, sim wall "
                         f"{x['speedup_vs_plain']:.2f}x")
        rows.append(["Speculative, simulator (kernel target)",
                     "; ".join(parts) + f"; identical to plain: {yes_no(sim['identical_all'])}"])
    return rows


def alspec_rows(al: dict) -> list[list[str]]:
    rows = []
    for alx in al.get("alspec", []):
        lab, by = alx["measured_label"], alx["by"]
        big, mid = longest_and_mid(alx["ctxs"])
        r10 = [r for r in alx["runs"] if abs(r["lambda"] - 0.1) < 1e-9]
        if r10:
            rows.append([f"ALSpec hit rate, {alx['model']}, lambda 0.1",
                         "; ".join(f"S={r['chunk']}: {r['tf_hit_rate']:.3f} (per layer "
                                   f"{' '.join(f'{h:.2f}' for h in r['tf_layer_hit_rates'])}), agreement "
                                   f"{r['agreement']:.3f}, ppl {r['ppl_rel_delta']:+.2%}" for r in r10)])
        if lab:
            rows.append(["  modelled Llama-3.1-8B, n300 pair vs 1 chip",
                         f"at that h ({by[(lab, mid)]['hit_rate']:.3f}): {by[(lab, mid)]['speedup']:.2f}x at "
                         f"{mid // 1024}K; attention overhead 1 chip / ALSpec "
                         f"{by[(lab, big)]['attention_overhead_ratio']:.2f} at {big // 1024}K"])
    for sm in al.get("alspec_sim", []):
        parts = [f"S={r['chunk']} lambda {r['lambda']:g}: hit "
                 f"{r['hit_rate'] if r['hit_rate'] is not None else float('nan'):.2f}, agreement "
                 f"{r['agreement_plain']:.2f}, = verify-only {yes_no(r['equal_verify_only'])}" for r in sm["runs"]]
        rows.append([f"  two-device protocol on the simulator ({sm['model']})", "; ".join(parts)])
    if al.get("alspec"):
        alx = al["alspec"][0]
        by, paper = alx["by"], alx["paper"]
        big, mid = longest_and_mid(alx["ctxs"])
        pa = "paper's assumption"
        if (pa, big) in by and (pa, mid) in by:
            rows.append(["  the same model at the paper's h = 0.875",
                         f"{by[(pa, mid)]['speedup']:.2f}x at {mid // 1024}K; attention overhead ratio "
                         f"{by[(pa, big)]['attention_overhead_ratio']:.2f} at {big // 1024}K "
                         f"(paper: {paper['attention_overhead_reduction_at_128k']}x at 128K, {paper['e2e_speedup']}x "
                         "end to end, on 8 devices)"])
    return rows


def summary(k: dict, s: dict, al: dict, runs: list[dict]) -> str:
    """``k``, ``s``, ``al``: the figures of the kernels, speculative and alspec sections; ``runs``: the commands run."""
    rows = kernel_rows(k) + speculative_rows(s) + alspec_rows(al)
    if runs:
        bad = [r for r in runs if r["rc"] != 0]
        rows.append(["Commands", f"{len(runs)} run, {len(bad)} nonzero exit"
                     + (": " + ", ".join(f"{r['name']} ({r['rc']})" for r in bad) if bad else "")])
    out = ["## Summary\n", md_table(["", "result"], rows, "ll")]
    tor = s.get("torch")
    if tor:
        rows2 = [[n, f"{x['tau']:.2f}" if x.get("tau") is not None else "-", f"{x['speedup_vs_plain']:.2f}x",
                  f"{x['speedup_vs_hf_generate']:.2f}x" if "speedup_vs_hf_generate" in x else "-",
                  f"{x['identical_to_plain']}/{x['prompts']}"] for n, x in tor["methods"].items()]
        out.append("\nSpeculative decoding on the tiny Qwen3 coder (torch, CPU; ratios measured side by side):\n")
        out.append(md_table(["method", "tau", "speedup vs plain", "vs hf-generate", "greedy == plain"], rows2))
    seen: list[str] = []
    for ns in [doc["notes"] for doc in (tor, s.get("sim")) if doc] + [alx["notes"] for alx in al.get("alspec", [])]:
        seen += [n for n in ns if n not in seen]
    out += notes(seen, before="\n", after="")
    return "\n".join(out) + "\n"
