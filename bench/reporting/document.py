"""REPORT.md: the header (machine, commit, date), the summary, the sections and the commands run, in that order."""

from __future__ import annotations

import time
from pathlib import Path

from .hardware import HW_GBPS
from .md import md_table
from .results import Results, git_rev, rel
from .sections import alspec, kernels, speculative
from .sections.summary import summary


def header(mach: dict, quick: bool, total_s: float | None) -> list[str]:
    return [
        "# ttl-kernels benchmark report\n",
        f"Produced by `make bench` (`python bench/report.py{' --quick' if quick else ''}`) on **{mach['node']}** "
        f"({mach['cpu']}, {mach['cores']} cores, load average {' '.join(map(str, mach['loadavg']))} at the start), "
        f"commit {git_rev()}, {time.strftime('%Y-%m-%d %H:%M')}"
        + (f", {total_s / 60:.1f} min wall." if total_s else "."),
        "No Tenstorrent device was used: kernel figures are simulator traces (bytes, cores, op counts) and the cycle "
        "model of `ttl_kernels.perf` on them (compute, dataflow-buffer hand-offs, DRAM and NoC per core, launch; "
        f"n150: {HW_GBPS['n150']:g} GB/s DRAM, p150: {HW_GBPS['p150']:g} GB/s; every figure cited in "
        "`ttl_kernels/perf/hardware.py`); speed figures of the CPU runs are ratios measured side by side in one run "
        "on this shared CPU.\n",
    ]


def commands_run(res: Results, runs: list[dict], started: float) -> list[str]:
    """The table of the commands run (or a line saying the report was rebuilt) and the result files."""
    out = ["## Commands run\n"]
    if runs:
        rows = [[r["section"], f"`{r['command']}`", " ".join(f"{k}={v}" for k, v in r["env"].items()) or "-", r["rc"],
                 f"{r['seconds']:.0f}"] for r in runs]
        out.append(md_table(["section", "command", "env", "exit", "wall s"], rows, "llllr"))
    else:
        out.append("_REPORT.md rebuilt from existing JSON (`--no-run`); see each table's command line._")
    files = sorted(p.name for p in res.dir.iterdir()
                   if p.suffix in (".json", ".png") and p.stat().st_mtime >= started - 1)
    out.append(("\nFiles this run wrote" if started else "\nFiles") + f" in `{rel(res.dir)}/`: "
               + ", ".join(f"`{f}`" for f in files))
    return out


def write_report(res: Results, runs: list[dict], mach: dict, quick: bool, total_s: float | None,
                 started: float = 0.0) -> Path:
    """Write ``REPORT.md`` into the results directory from its JSON; ``runs``: the commands' records (may be empty)."""
    by_name = {r["name"]: r for r in runs}
    k_md, k_s = kernels.section(res, mach, by_name)
    s_md, s_s = speculative.section(res, mach, by_name)
    a_md, a_s = alspec.section(res, mach, by_name)
    text = "\n".join([
        "\n".join(header(mach, quick, total_s)), summary(k_s, s_s, a_s, runs), k_md, s_md, a_md,
        "\n".join(commands_run(res, runs, started)),
    ]) + "\n"
    p = res.path("REPORT.md")
    p.write_text(text)
    return p
