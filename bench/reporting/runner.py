"""The commands behind each report section, running them one after another, and their record ``runs.json``.

Each command is a subprocess (``python <script> ...`` in the checkout's root) whose own JSON the report reads; a
failing command does not stop the others: its exit status and the tail of its output are recorded.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from reference import registry

from .results import ROOT, Results, load_json, rel

SECTIONS = ("kernels", "speculative", "sim", "alspec")
CTX_FULL = "1024,8192,32768,131072"  # x 2 kernels x 2 KV dtypes x 2 chips (the cycle model runs each call per chip)
CTX_QUICK = "1024,32768"
SIM = {"TTL_KERNELS_BACKEND": "sim"}
# output lines not worth logging: simulator / nanobind teardown and config dumps
NOISE = re.compile(r"nanobind|leaked|skipped remainder|^\s*- |Config\{|DEBUG\s*\|", re.I)


@dataclass(frozen=True)
class Command:
    section: str
    name: str  # "<name>" or "<name>:<output stem>" when the output file is named by the command
    argv: list[str]  # after the interpreter, relative to the checkout's root
    env: dict = field(default_factory=dict)  # extra environment


def alspec_targets() -> list[tuple[str, list[str]]]:
    """(output stem, target arguments) of the ALSpec sweeps: the trained tiny Llama-3 and the trained Qwen3 coder,
    whichever exist; with neither, the default (a random stand-in, which the output says)."""
    out = []
    llama = registry.checkpoint(registry.CHECKPOINTS["tiny-llama"])
    qwen = registry.checkpoint(registry.CHECKPOINTS["tiny-qwen3"])
    if (llama / "config.json").is_file():
        out.append((f"alspec_{llama.name}", []))
    if (qwen / "config.json").is_file():
        out.append((f"alspec_{qwen.name}", ["--target", rel(qwen)]))
    return out or [("alspec_random-tiny-llama", [])]


def commands(quick: bool) -> list[Command]:
    """Every section's commands in run order (``quick``: the smaller sweeps)."""
    if quick:
        spec_t = ["--num-prompts", "4", "--max-new-tokens", "48"]
        spec_s = ["--num-prompts", "1", "--max-new-tokens", "8"]
        alspec = ["--windows", "2", "--lambdas", "0,0.1,0.2", "--chunks", "32"]
    else:
        spec_t = ["--num-prompts", "16", "--max-new-tokens", "128"]
        spec_s = ["--num-prompts", "2", "--max-new-tokens", "16"]
        alspec = ["--windows", "8"]
    targets = alspec_targets()
    cmds = [
        Command("kernels", "traffic", ["bench/traffic.py"], SIM),
        Command("kernels", "attention", ["bench/attention.py", "--contexts", CTX_QUICK if quick else CTX_FULL]
                + ([] if quick else ["--check"]), SIM),
        Command("kernels", "perf_validation",
                ["-m", "ttl_kernels.perf", "validate", "--contexts", "1024,32768", "--json",
                 "bench/results/perf_validation.json"] + ([] if quick else ["--full"]), SIM),
        Command("kernels", "decode_step",
                ["bench/decode_step.py"] + (["--models", "tiny-qwen3,llama-3.1-8b"] if quick else []), SIM),
        Command("speculative", "speculative_torch", ["bench/speculative.py", *spec_t, "--skip-layers", "1,2,3"]),
        Command("speculative", "speculative_torch_ood", ["bench/speculative.py", *spec_t, "--skip-layers", "2",
                                                         "--prompt-set", "ood"]),
        Command("speculative", "step_profile", ["bench/step_profile.py", "--reps", "10" if quick else "30", "--json",
                                                "bench/results/step_profile.json"]),
        Command("sim", "speculative_sim", ["bench/speculative.py", "--backend", "sim", *spec_s], SIM),
        Command("alspec", "alspec_swap", ["bench/alspec.py"], SIM),
    ]
    cmds += [Command("alspec", f"alspec_hit:{stem}", ["models/llama_alspec.py", *target, "--name", stem, *alspec])
             for stem, target in targets]
    if not quick:  # the two-device protocol on the simulator: the first target only
        for stem, target in targets[:1]:
            sim = stem.replace("alspec_", "alspec_sim_")
            cmds.append(Command("alspec", f"alspec_sim:{sim}",
                                ["models/llama_alspec.py", "--backend", "sim", *target, "--name", sim], SIM))
    return cmds


def run_commands(todo: list[Command], log: Callable[[str], None]) -> list[dict]:
    """Run each command in the checkout's root; one record per command (exit status, seconds, output tail)."""
    runs = []
    for c in todo:
        shown = "python " + " ".join(shlex.quote(x) for x in c.argv)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **c.env}  # the report applied the project's defaults
        log(f"[{time.strftime('%H:%M:%S')}] {c.section}/{c.name}: {shown}")
        t0 = time.perf_counter()
        lines: list[str] = []
        with subprocess.Popen([sys.executable, *c.argv], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) as p:
            for line in p.stdout:
                line = line.rstrip("\n")
                if NOISE.search(line):
                    continue
                lines.append(line)
                log("    " + line)
            rc = p.wait()
        sec = time.perf_counter() - t0
        log(f"    -> exit {rc} after {sec:.0f} s")
        runs.append({"section": c.section, "name": c.name, "outputs": c.name.split(":", 1)[1:], "command": shown,
                     "env": dict(c.env), "rc": rc, "seconds": round(sec, 1), "tail": lines[-40:]})
    return runs


def save_runs(res: Results, runs: list[dict], sections: list[str], mach: dict, quick: bool, started: float,
              seconds: float) -> list[dict]:
    """Write ``runs.json``; a run of some sections keeps the other sections' earlier records.  Returns every record."""
    old = load_json(res.path("runs.json"))
    if set(sections) != set(SECTIONS) and old:
        runs = [r for r in old.get("runs", []) if r["section"] not in sections] + runs
    res.path("runs.json").write_text(json.dumps(
        {"machine": mach, "quick": quick, "started": started, "when": time.strftime("%Y-%m-%d %H:%M:%S"),
         "seconds": round(seconds, 1), "runs": runs}, indent=1))
    return runs


def saved_runs(res: Results) -> dict:
    """The last ``runs.json`` (empty when there is none)."""
    return load_json(res.path("runs.json")) or {}
