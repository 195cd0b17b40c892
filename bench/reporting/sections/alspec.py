"""Section 4 of REPORT.md: ALSpec.  The verify-only sweeps of ``models/llama_alspec.py`` (``alspec_<target>.json``:
hit rate vs lambda per layer, quality, agreement, modelled latency), its two-device protocol on the simulator
(``alspec_sim_<target>.json``) and the swap's traffic (``alspec_swap_traffic.json``)."""

from __future__ import annotations

from ..md import md_table, notes, params_str, provenance, ratio3, yes_no
from ..results import Results, load_json
from . import parts
from .kernels import flash_rows


def run_docs(res: Results, runs: dict, kind: str, key: str) -> list[tuple[dict, str, dict | None]]:
    """(doc, stem, run record) of the ``models/llama_alspec.py`` runs of ``kind`` (``alspec_hit``: the sweeps,
    ``alspec_sim``: the protocol on the simulator): those this run produced, else every ``alspec_*.json`` present;
    only documents with ``key`` (``sweep`` / ``sim``) count."""
    made = [(r["outputs"][0], r) for r in runs.values() if r["name"].startswith(kind) and r.get("outputs")]
    cands = [(res.path(f"{stem}.json"), r) for stem, r in made] if made else \
        [(p, None) for p in sorted(res.dir.glob("alspec_*.json"))]
    docs = [(load_json(p), p.stem, r) for p, r in cands]
    return [(d, stem, r) for d, stem, r in docs if isinstance(d, dict) and key in d]


def longest_and_mid(ctxs: list[int]) -> tuple[int, int]:
    """The longest modelled context and 32K (the proof of concept's limit), or the longest when 32K is missing."""
    big = max(ctxs)
    return big, 32768 if 32768 in ctxs else big


def latency_md(res: Results, lat: dict) -> tuple[str, dict]:
    """The modelled latency table of one sweep (a device pair vs one chip) and its figures for the summary."""
    meta, paper = lat["meta"], lat["paper"]
    measured = ", ".join(f"{k} x{v:.2f}" for k, v in (lat.get("measured") or {}).items()) or "none"
    r0 = lat["rows"][0] if lat["rows"] else {}
    srcs = r0.get("kernel_sources")
    if srcs:
        how = (f"cycle model (`ttl_kernels.perf` on {meta['hw']}'s chips; kernels timed {srcs}; "
               f"{r0.get('dispatch', 'traced')} dispatch; `models/alspec/latency.py`)")
    else:
        how = "roofline model (`models/alspec/latency.py`, before the cycle model)"
    out = [f"Modelled decode latency of {meta['model']} on a {meta['hw']} pair vs one chip (S = {meta['chunk']}, batch "
           f"1): {how} at the hit rate measured above (lambda = `--latency-lambda`, default 0.10) and at the paper's "
           f"assumed 0.875; measured kernel traffic multipliers (roofline kernels only): {measured}.  x = speedup "
           "over one chip; ovh = attention overhead (the step minus the same step "
           "without attention), one chip / ALSpec.  The paper (Cai et al., ICML 2025): "
           f"**{paper['attention_overhead_reduction_at_128k']}x** lower attention overhead at 128K and "
           f"**{paper['e2e_speedup']}x** end to end, in a different setup ({paper['e2e_setup']}); its proof of "
           f"concept: {paper['poc_setup']}.\n"]
    att = res.load("attention.json")
    m_attn = (lat.get("measured") or {}).get("attn")
    fl = flash_rows(att) if (m_attn and att and (not srcs or srcs.get("roofline"))) else []
    if fl and m_attn > fl[-1]["ratio"] * 1.05:
        out.append("> **caveat:** the latency model multiplies every context's attention bytes by the worst "
                   f"flash_decode traffic ratio it found in `traffic.json` (x{m_attn:.2f}, a 1K-context case where "
                   f"per-core constants dominate), while section 1d traces x{fl[0]['ratio']:.2f} at "
                   f"{fl[0]['context'] // 1024}K falling to x{fl[-1]['ratio']:.3f} at {fl[-1]['context'] // 1024}K: "
                   "the single-chip attention time below is overstated at long context (a context-matched multiplier "
                   "belongs in `models.alspec.latency.load_measured`).\n")
    labels = list(dict.fromkeys(r["label"] for r in lat["rows"]))
    by = {(r["label"], r["ctx"]): r for r in lat["rows"]}
    ctxs = sorted({r["ctx"] for r in lat["rows"]})
    rows = []
    for c in ctxs:
        r0 = by[(labels[0], c)]
        cells = [f"{c // 1024}K", f"{r0['single_ms']:.2f}"]
        for lb in labels:
            r = by[(lb, c)]
            cells += [f"{r['alspec_ms']:.2f}", f"{r['speedup']:.3f}x", f"{r['attention_overhead_ratio']:.2f}"]
        cells.append("yes" if r0["fits"] else "no")
        rows.append(cells)
    head = ["ctx", "1 chip ms"]
    for lb in labels:
        head += [f"{lb} (h={by[(lb, ctxs[0])]['hit_rate']:.3f}) ms", "x", "ovh"]
    out.append(md_table(head + ["fits 12 GB"], rows))
    measured_labels = [lb for lb in labels if lb.startswith("measured")]
    return "\n".join(out), {"measured_label": measured_labels[0] if measured_labels else None, "by": by, "ctxs": ctxs,
                            "paper": paper}


def sweep_md(res: Results, d: dict, stem: str) -> tuple[list[str], dict]:
    """A verify-only sweep: hit rate per layer, quality and agreement per (S, lambda), its plots, its latency table."""
    sw = d["sweep"]
    out = [f"\nVerify-only ALSpec on the reference model (torch): {sw['windows']} windows of {sw['window_tokens']} "
           f"tokens from {sw['text']}; teacher-forced decode after {sw['prefill']} prefilled tokens (hit rate per "
           f"layer; perplexity vs exact attention's {sw['plain_ppl']:.3f}); greedy generation of {sw['new_tokens']} "
           f"tokens from {sw['prompt_len']} (agreement = share of generated positions where ALSpec's greedy token "
           "equals plain decoding's; `same` = windows whose whole output is identical).\n"]
    out += notes(sw.get("notes", []))
    rows = [[r["chunk"], f"{r['lambda']:.2f}", *[f"{h:.3f}" for h in r["tf_layer_hit_rates"]],
             f"{r['tf_hit_rate']:.3f}", f"{r['gen_hit_rate']:.3f}", f"{r['ppl']:.3f}", f"{r['ppl_rel_delta']:+.3%}",
             f"{r['agreement']:.3f}", f"{r['identical_users']}/{r['users']}"] for r in sw["runs"]]
    out.append(md_table(["S", "lambda", *[f"L{j}" for j in range(sw["layers"])], "all", "gen", "ppl", "d ppl",
                         "agreement", "same"], rows))
    out += [f"\n![{suffix}]({stem}_{suffix}.png)" for suffix in ("hit_rate", "latency")
            if res.path(f"{stem}_{suffix}.png").is_file()]
    lat_md, lat_s = latency_md(res, d["latency"])
    out.append("\n" + lat_md + "\n")
    return out, {"model": sw["model"], "runs": sw["runs"], "notes": sw.get("notes", []), **lat_s}


def protocol_md(sm: dict) -> list[str]:
    """The two-device protocol on the simulator: hit rates, kept results, agreement, time per step per (S, lambda)."""
    out = ["\nThe protocol (`models/alspec/protocol.py`: two replicas on the simulator's 1x2 mesh, the sender ships "
           f"its speculative attention output, priorities decide whose residual both keep) on {sm['windows']} "
           f"window(s) from {sm['text']}: prompt {sm['prompt_len']} tokens, {sm['new_tokens']} greedy tokens, "
           f"{sm['dtype']} activations.  Agreement = share of generated tokens equal to plain kernel decoding's "
           "(split-KV flash decode); `= verify-only`: the protocol's tokens and logits equal the single-device kernel "
           "verify-only mode's.  Wall seconds per decode step are simulator time (both replicas simulated in one "
           "process).\n"]
    out += notes(sm.get("notes", []))
    rows = [[r["chunk"], f"{r['lambda']:.2f}", ratio3(r["hit_rate"]), " ".join(ratio3(h) for h in r["layer_hit_rates"]),
             " ".join(ratio3(h) for h in r["layer_accept_rates"]), r["role_switches"], f"{r['agreement_plain']:.3f}",
             f"{r['identical_windows']}/{sm['windows']}", yes_no(r["equal_verify_only"]),
             f"{r['protocol_s_per_step']:.2f}", f"{r['verify_s_per_step']:.2f}", f"{r['plain_s_per_step']:.2f}"]
            for r in sm["runs"]]
    out.append(md_table(["S", "lambda", "hit", "hit per layer", "kept receiver per layer", "role switches", "agreement",
                         "identical", "= verify-only", "protocol s/step", "verify s/step", "plain s/step"], rows))
    return out


def swap_md(res: Results, sw_t: dict, summ: dict) -> list[str]:
    """The two-device swap's traffic (the format of ``bench/traffic.py``)."""
    rows = [[r["op"], params_str(r["params"]), f"{r['bytes']:,}", f"{r['min_bytes']:,}", f"{r['ratio']:.3f}",
             r["cores"], yes_no(r["exact"]), f"{r['per_device_link_bytes']:,}"] for r in sw_t["results"]]
    return ["\n" + md_table(["op", "shape", "bytes", "minimum", "ratio", "cores", "bit-exact", "link bytes / device"],
                            rows)]


def section(res: Results, mach: dict, runs: dict) -> tuple[str, dict]:
    out, summ = ["## 4. ALSpec (attention-level speculation)\n"], {"alspec": []}
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    sweeps = run_docs(res, runs, "alspec_hit", "sweep")
    if not sweeps:
        out.append("_not run (no JSON)._\n")
    for d, stem, run in sweeps:
        out.append(f"### 4{next(letters)}. {d['sweep']['model']}: hit rate vs lambda per layer, quality, agreement "
                   "with plain decoding, modelled latency\n")
        out.append(provenance(d, mach, run))
        md, figures = sweep_md(res, d, stem)
        out += md
        summ["alspec"].append(figures)
    for d, _, run in run_docs(res, runs, "alspec_sim", "sim"):
        out.append(f"\n### 4{next(letters)}. {d['sim']['model']}: the two-device ALSpec protocol on the TT-Lang "
                   "kernels (simulator)\n")
        out.append(provenance(d, mach, run))
        out += protocol_md(d["sim"])
        summ.setdefault("alspec_sim", []).append(d["sim"])
    heading = f"\n### 4{next(letters)}. Two-device swap (mesh_select) traffic on the simulator\n"
    out += parts(res, mach, runs, summ, [("alspec_swap_traffic.json", heading, "alspec_swap", swap_md)])
    for name, what in EMBEDDED:
        text = embedded(res, name)
        if text:
            out.append(f"\n### 4{next(letters)}. {what}\n")
            out.append(text)
    return "\n".join(out) + "\n", summ


# Markdown results other commands write whole (their own tables): embedded with their headings demoted
EMBEDDED = (
    ("alspec_eval.md", "Quality per lambda with the LM Evaluation Harness (`python models/alspec_eval.py`, local "
                       "held-out tasks): accuracy and hit rate per lambda, lambda 0 equal to ALSpec off"),
    ("alspec_tp8.md", "Eight devices: 4-way tensor parallelism + speculative attention devices, beside the paper"),
    ("alspec_in_dflash.md", "ALSpec inside DFlash verification"),
)


def embedded(res: Results, name: str) -> str | None:
    """The markdown file ``name`` of the results directory with its headings two levels down (None if absent)."""
    path = res.path(name)
    if not path.is_file():
        return None
    lines = []
    for line in path.read_text().splitlines():
        lines.append("##" + line if line.startswith("#") else line)
    return "\n".join(lines) + "\n"
