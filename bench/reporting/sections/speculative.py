"""Sections 2 and 3 of REPORT.md: speculative decoding on the torch backend (``speculative_torch.json``: ours and HF's
peers) and on the simulator backend (``speculative_sim.json``: the target on the TT-Lang kernels)."""

from __future__ import annotations

from pathlib import Path

from ..md import md_table, notes
from ..results import Results
from . import Part, parts


def _fmt(s: dict, key: str, spec: str, suffix: str = "") -> str:
    return f"{s[key]:{spec}}{suffix}" if s.get(key) is not None else "-"


def table(doc: dict, sim: bool) -> str:
    """One row per method: tau, acceptance, speed ratios and greedy identity."""
    rows = []
    for n, s in doc["methods"].items():
        tau, acc = _fmt(s, "tau", ".2f"), _fmt(s, "acceptance_rate", ".1%")
        ident = f"{s['identical_to_plain']}/{s['prompts']}"
        if sim:
            steps_per_tok = s["target_steps"] / s["tokens"] if s.get("target_steps") and s["tokens"] else None
            rows.append([n, tau, acc, s["tokens"], s.get("target_steps", "-"),
                         f"{steps_per_tok:.3f}" if steps_per_tok else "-", f"{s['seconds_per_token']:.2f}",
                         f"{s.get('seconds_per_target_step') or 0:.2f}", f"{s['speedup_vs_plain']:.2f}x", ident,
                         f"{s.get('identical_to_torch_plain', '-')}/{s['prompts']}"])
        else:
            median = _fmt(s, "speedup_per_prompt_median", ".2f", "x") if s.get("speedup_per_prompt_median") else "-"
            rows.append([n, s["kind"], tau, acc, f"{s['tokens_per_s']:.1f}", f"{s['speedup_vs_plain']:.2f}x", median,
                         _fmt(s, "speedup_vs_hf_generate", ".2f", "x"), ident])
    if sim:
        return md_table(["method", "tau", "accept", "tokens", "target steps", "steps/token", "sim s/token",
                         "sim s/step", "sim speedup", "== sim plain", "== torch plain"], rows)
    return md_table(["method", "kind", "tau", "accept", "tok/s", "speedup vs plain", "median per prompt",
                     "vs hf-generate", "== plain"], rows, "llrrrrrrr")


def details(doc: dict) -> str:
    """Per-method acceptance details, then every greedy output that differs from plain decoding."""
    out = []
    for n, s in doc["methods"].items():
        if s.get("per_position_acceptance"):
            out.append(f"- **{n}** ({s['description']}): per-position acceptance "
                       f"{' '.join(f'{x:.2f}' for x in s['per_position_acceptance'])}; accepted-per-step histogram "
                       f"{s['histogram']}")
        elif s["kind"] == "hf" or n == "plain":
            forwards = f"; {s['target_steps']} target forwards" if s["kind"] == "hf" else ""
            out.append(f"- **{n}**: {s['description']}{forwards}")
    mism = [(n, m) for n, s in doc["methods"].items() for m in s["mismatches"]]
    if mism:
        out.append("\n**Greedy outputs that differ from our plain decode** (reported, not hidden):\n")
        for n, m in mism:
            out.append(f"- {n}, prompt {m['prompt']}: first difference at new token {m['position']}: plain "
                       f"{m['expected']} vs {m['got']} (lengths {m['expected_len']} / {m['got_len']})")
    else:
        out.append("\nEvery method's greedy tokens are identical to our plain decode on every prompt.")
    return "\n".join(out)


def torch_part(res: Results, d: dict, summ: dict, key: str = "torch") -> list[str]:
    st = d["settings"]
    kind = ("out-of-distribution prompts (prefixes of installed third-party package sources, code the tiny models "
            "never saw)" if d["settings"].get("prompt_set") == "ood" else
            "held-out prompts (prefixes of held-out stdlib files)")
    out = [f"\nTarget: {st['target']}; {st['prompts']} {kind}, <= "
           f"{st['prompt_tokens_max']} tokens, {st['max_new_tokens']} new tokens, greedy; methods interleaved per "
           "prompt (rotated order), each warmed up once.  Speedup = tokens/s over our plain decode's tokens/s in "
           "the same run (aggregate; the median of the per-prompt ratios beside it).  tau: ours = tokens per "
           "verify step (bonus included); HF = new tokens / target forwards (counted, prefill included).\n"]
    out.append("Checkpoints: " + "; ".join(f"{k}: {v}" for k, v in d["checkpoints"].items()) + "\n")
    out += notes(d["notes"])
    out += [table(d, False), "\n" + details(d) + "\n"]
    out += [f"![{Path(p).stem}]({Path(p).name})" for p in d.get("plots", [])]
    summ[key] = d
    return out


def torch_ood_part(res: Results, d: dict, summ: dict) -> list[str]:
    return torch_part(res, d, summ, "torch_ood")


def profile_part(res: Results, d: dict, summ: dict) -> list[str]:
    """ms per step of the reference and the fast torch path (``bench/step_profile.py``)."""
    rows = [[path, f"{m['plain']:.2f}", f"{m['verify']:.2f}", f"{m['draft']:.2f}",
             f"{m['dflash_step_in_plain_steps']:.2f}"] for path, m in d["ms"].items()]
    rows.append(["fast over reference"] + [f"{d['fast_over_reference'][k]:.2f}x" for k in ("plain", "verify", "draft")]
                + ["-"])
    out = [f"\nMedian of {d['reps']} interleaved repetitions, block {d['block']}, prompt {d['prompt_tokens']} tokens, "
           f"{d['threads']} torch threads: a plain step (one token), a verification of the block, a draft proposal.  "
           "(draft + verify) / plain = the plain steps one DFlash step costs: speculation wins when tau exceeds it.\n",
           md_table(["path", "plain ms", "verify ms", "draft ms", "(draft + verify) / plain"], rows, "lrrrr")]
    summ["profile"] = d
    return out


def sim_part(res: Results, s: dict, summ: dict) -> list[str]:
    st = s["settings"]
    out = [f"\n{st['prompts']} prompts x {st['max_new_tokens']} new tokens, greedy.  The target is the "
           "kernel-built model (`models/kernel_model.py`: every layer op a TT-Lang kernel on the simulator, bf16); "
           "a verification block runs as ONE kernel decode step (its rows share the sequence's KV cache).  Wall "
           "seconds are simulator time, which grows with the rows of a block; on hardware a block of <= 32 rows "
           "reads the same weights and KV as a one-row step, so the modelled hardware cost per token is "
           "proportional to `steps/token` (target steps per generated token, prefill counted once; draft cost "
           "excluded).  `== torch plain`: identical to the fp32 torch reference's greedy output.\n"]
    out += notes(s["notes"])
    out += [table(s, True), "\n" + details(s) + "\n"]
    summ["sim"] = s
    return out


PARTS: list[Part] = [
    ("speculative_torch.json", "## 2. Speculative decoding, torch backend (CPU)\n", "speculative_torch", torch_part),
    ("speculative_torch_ood.json", "\n### 2b. The same on out-of-distribution prompts\n", "speculative_torch_ood",
     torch_ood_part),
    ("step_profile.json", "\n### 2c. Step costs of the torch backend: reference path vs fast path\n", "step_profile",
     profile_part),
    ("speculative_sim.json", "\n## 3. Speculative decoding, simulator backend (the target on the TT-Lang kernels)\n",
     "speculative_sim", sim_part),
]


def section(res: Results, mach: dict, runs: dict) -> tuple[str, dict]:
    summ: dict = {}
    return "\n".join(parts(res, mach, runs, summ, PARTS)) + "\n", summ
