"""The side-by-side run every entry point reports: plain decoding and each draft on the same prompts, with
the same sampling and seed; the report as a short plain table and the same figures as JSON."""

from __future__ import annotations

import contextlib
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from ttl_kernels import audit

from .protocols import Draft, Target
from .sampling import SamplingParams
from .speculative import Generation, plain_generate, speculative_generate


def run_comparison(target: Target, drafts: dict[str, Draft], prompts: list[str], tokenizer, a) -> dict:
    """Plain decoding and every draft on every prompt, side by side; returns the report dict."""
    params = SamplingParams(a.temperature, a.top_k, a.top_p)
    stop = target.stop_tokens
    rows = []
    show = not a.quiet and sys.stderr.isatty()
    audit.reset()
    counting = audit.count_calls(target.model, "forward") if target.backend != "torch" else contextlib.nullcontext([0])
    with counting as host_forwards:
        _run_prompts(target, drafts, prompts, tokenizer, a, params, stop, rows, show)
    summary = {}
    for name in drafts:
        gens = [r["drafts"][name] for r in rows]
        steps = sum(g["verify_steps"] for g in gens)
        acc = sum(g["accepted"] for g in gens)
        emitted = sum(g["emitted"] for g in gens)
        prop = sum(g["proposed"] for g in gens)
        k = len(gens[0]["histogram"]) - 1
        hist = [sum(g["histogram"][n] for g in gens) for n in range(k + 1)]
        at = [sum(g["accepted_at"][j] for g in gens) for j in range(k)]
        plain_tok = sum(len(r["plain"]["tokens"]) for r in rows)
        plain_s = sum(r["plain"]["seconds"] for r in rows)
        spec_tok = sum(len(g["tokens"]) for g in gens)
        spec_s = sum(g["seconds"] for g in gens)
        summary[name] = {
            "tau": emitted / steps if steps else 1.0,  # tokens kept per verify step (Generation.tau)
            "acceptance_rate": acc / prop if prop else 0.0,
            "per_position_acceptance": [x / steps for x in at] if steps else [],
            "histogram": hist,
            "verify_steps": steps,
            "tokens_per_s": spec_tok / spec_s if spec_s else 0.0,
            "plain_tokens_per_s": plain_tok / plain_s if plain_s else 0.0,
            "speedup": (spec_tok / spec_s) / (plain_tok / plain_s) if spec_s and plain_s and plain_tok else 0.0,
            "prompts_equal_to_plain": sum(g["equal_to_plain"] for g in gens),
            "prompts": len(gens),
            "speedup_per_prompt_median": statistics.median(
                (len(g["tokens"]) / g["seconds"]) / (len(r["plain"]["tokens"]) / r["plain"]["seconds"])
                for g, r in zip(gens, rows)
                if g["seconds"] and r["plain"]["seconds"] and r["plain"]["tokens"]
            )
            if rows
            else 0.0,
        }
    lossless = all(s["prompts_equal_to_plain"] == s["prompts"] for s in summary.values())
    step_audit = audit.report() if target.backend != "torch" else None
    return {
        "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
        "machine": f"{platform.node()} ({platform.machine()}, {torch.get_num_threads()} threads)",
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "backend": a.backend,
        "target": target.name,
        "sampling": {"temperature": a.temperature, "top_k": a.top_k, "top_p": a.top_p, "seed": a.seed},
        "max_new_tokens": a.max_new_tokens,
        "summary": summary,
        "lossless_ok": lossless if a.temperature == 0 else True,
        "rows": rows,
        # per step kind (prefill, decode = plain decoding, verify, draft): kernel compiles, launches, host<->device
        # transfers and bytes, totals / per step / the last step; and the host model forwards after loading
        "step_audit": step_audit,
        "host_model_forwards": host_forwards[0] if target.backend != "torch" else None,
    }


def _run_prompts(target, drafts, prompts, tokenizer, a, params, stop, rows: list, show: bool) -> None:
    """Plain decoding, then every draft, prompt by prompt (same sampling and seed); appends one row each."""
    for i, text in enumerate(prompts):
        ids = tokenizer.encode(text)
        if show:
            print(f"\r[{i + 1}/{len(prompts)}] plain ...", end="", file=sys.stderr, flush=True)
        plain = plain_generate(target, ids, a.max_new_tokens, params, stop, seed=a.seed + i)
        row = {"prompt": text, "prompt_tokens": len(ids), "plain": _gen_dict(plain), "drafts": {}}
        for name, draft in drafts.items():
            if show:
                print(f"\r[{i + 1}/{len(prompts)}] {name} ...", end="", file=sys.stderr, flush=True)
            g = speculative_generate(target, draft, ids, a.max_new_tokens, params, stop, seed=a.seed + i)
            d = _gen_dict(g)
            d["equal_to_plain"] = g.tokens == plain.tokens
            row["drafts"][name] = d
        rows.append(row)
        if not a.quiet:
            print(
                ("\r" if show else "")
                + f"[{i + 1}/{len(prompts)}] plain {plain.tokens.__len__()} tok "
                + " ".join(f"| {n}: tau {r['tau']:.2f}" for n, r in row["drafts"].items()),
                file=sys.stderr,
                flush=True,
            )

def _gen_dict(g: Generation) -> dict:
    return {"tokens": g.tokens, "seconds": g.seconds, "verify_steps": g.verify_steps, "proposed": g.proposed,
            "accepted": g.accepted, "emitted": g.emitted, "histogram": g.histogram, "accepted_at": g.accepted_at,
            "tau": g.tau}


def print_report(report: dict, tokenizer, a) -> None:
    print(f"\n{report['command']}   backend {report['backend']}   target {report['target']}   {report['machine']}")
    print(f"{len(report['rows'])} prompts, {report['max_new_tokens']} new tokens, "
          f"temperature {report['sampling']['temperature']}")
    print(f"{'method':<34} {'tau':>5} {'accept':>7} {'steps':>6} {'tok/s':>8} {'speedup':>8}  {'==plain':>8}")
    first = next(iter(report["summary"].values()), None)
    if first:
        print(f"{'plain decoding':<34} {'1.00':>5} {'-':>7} {'-':>6} {first['plain_tokens_per_s']:>8.1f} {'1.00x':>8}")
    for name, s in report["summary"].items():
        eq = f"{s['prompts_equal_to_plain']}/{s['prompts']}"
        print(
            f"{name:<34} {s['tau']:>5.2f} {s['acceptance_rate']:>7.1%} {s['verify_steps']:>6} "
            f"{s['tokens_per_s']:>8.1f} "
            f"{s['speedup']:>7.2f}x  {eq:>8}"
        )
        print(f"  per-position acceptance: {' '.join(f'{x:.2f}' for x in s['per_position_acceptance'])}")
        print(f"  accepted-per-step histogram: {s['histogram']}")
    if report["sampling"]["temperature"] == 0:
        print("lossless (speculative == plain greedy on every prompt):", "yes" if report["lossless_ok"] else "NO")
    for n in report.get("notes", []):
        print("note:", n)
    if not a.quiet and report["rows"]:
        r = report["rows"][0]
        print(
            "\n--- prompt 1 ---\n"
            + r["prompt"]
            + "\n--- generated (plain decoding) ---\n"
            + tokenizer.decode(r["plain"]["tokens"])
        )
