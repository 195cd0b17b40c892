"""`make bench`: run every benchmark and write bench/results/REPORT.md (summary first, then the tables), with
JSON for every table and PNG plots.

    python bench/report.py                  # everything (~25-40 min on a shared 2-core machine)
    python bench/report.py --quick          # smaller sweeps (~6-10 min): the same tables, fewer points
    python bench/report.py --sections speculative,sim
    python bench/report.py --no-run         # only rebuild REPORT.md (and the attention plot) from the JSON there
    python bench/report.py --no-run --results DIR   # the same for another results directory

Sections and the commands they run (full / --quick), each a subprocess whose own JSON the report reads:

1. kernels   ``bench/traffic.py`` (every registered kernel at the models' shapes: traced bytes vs minimum,
             cores, max/mean per core, and the cycle model of each call on n150 and p150; ~1 min);
             ``bench/attention.py`` (Llama-3.1-8B decode attention, bf16 and bfp8_b KV, context 1K, 8K, 32K,
             128K with --check / 1K and 32K; ~25 min / ~6 min); ``ttl-perf validate`` (the cycle model
             against tt-lang's published matmul times and ttnn FlashDecode's ~180 GB/s; --full / 4 shapes;
             ~4 min / ~1.5 min); ``bench/decode_step.py`` (one decode step per model: per-token time by op
             class on n150 / p150, bf16 / bfp8_b / performance-mode weights, traced and eager; four models /
             two; ~4 min / ~2 min).  The report adds the worst-first table of every kernel instance (model
             time over DRAM time) and plots the modelled decode-attention bandwidth vs context next to ttnn's
             ~180 GB/s anchor (``attention_bandwidth.png``).
2. speculative  ``bench/speculative.py`` (torch backend: ours and HF's peers on the same weights and
             prompts, 16 prompts x 128 tokens / 4 x 48, held-out and out-of-distribution prompts; ~2 x 1 min on
             a quiet machine) and ``bench/step_profile.py`` (ms per plain / verify / draft step, reference vs
             fast torch path; ~5 s).
3. sim       ``bench/speculative.py --backend sim`` (2 prompts x 16 tokens / 1 x 8; ~4 min / ~1.5 min).
4. alspec    ``bench/alspec.py`` (swap traffic on the simulator + latency table; ~30 s) and
             ``models/llama_alspec.py`` (hit rate vs lambda per layer on held-out text, agreement with
             plain decoding, modelled latency vs context; 8 windows / 2 windows, fewer lambdas; ~2 min / ~20 s
             per target) on ``checkpoints/tiny-llama3`` and ``checkpoints/tiny-qwen3-coder``, whichever exist
             (neither: a random stand-in, said so in the report).

Each table in REPORT.md names the command that produced it and the machine; absolute times on shared
CPUs are noise, so every speed figure is a ratio measured side by side in one run, and every hardware
figure is a model (the cycle model of ``ttl_kernels.perf``, or a roofline where it says so), labelled as
such.  A failing command does not stop the others: its exit status and the tail of its output are in
``runs.json`` and in the report.

This file is the command line only; the runner, the sections, the Markdown and the plots are in ``bench/reporting/``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ttl_kernels import env

env.apply_defaults()  # before torch loads (OMP_WAIT_POLICY); the benchmarks run as children inherit them

from reporting.document import write_report
from reporting.results import DEFAULT_DIR, Results, rel
from reporting.runner import SECTIONS, commands, run_commands, save_runs, saved_runs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sweeps (~6-10 min instead of ~25-40)")
    ap.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    ap.add_argument("--no-run", action="store_true", help="only rebuild REPORT.md from the JSON in bench/results")
    ap.add_argument("--results", default=None, help="with --no-run: the results directory to rebuild REPORT.md in "
                                                    "(default: bench/results)")
    a = ap.parse_args(argv)
    wanted = [s for s in a.sections.split(",") if s]
    bad = [s for s in wanted if s not in SECTIONS]
    if bad:
        ap.error(f"--sections: unknown {bad}; expected some of {','.join(SECTIONS)}")
    if a.results is not None and not a.no_run:
        ap.error("--results: only with --no-run (the benchmarks write bench/results)")
    res = Results(Path(a.results) if a.results else DEFAULT_DIR)
    if a.no_run and not res.dir.is_dir():
        ap.error(f"--results: no directory {str(res.dir)!r}")
    res.dir.mkdir(parents=True, exist_ok=True)
    mach = env.machine()
    t0 = time.perf_counter()
    started = time.time()
    quick = a.quick
    if a.no_run:  # the last run's record, when there is one
        saved = saved_runs(res)
        runs, mach, quick = saved.get("runs", []), saved.get("machine", mach), saved.get("quick", quick)
        started, total = saved.get("started", 0.0), saved.get("seconds")
    else:
        print(f"# bench/report.py on {mach['node']} ({mach['cpu']}, {mach['cores']} cores), sections {','.join(wanted)}"
              f"{' (quick)' if quick else ''}", flush=True)
        runs = run_commands([c for c in commands(quick) if c.section in wanted], lambda s: print(s, flush=True))
        runs = save_runs(res, runs, wanted, mach, quick, started, time.perf_counter() - t0)
        total = time.perf_counter() - t0
    p = write_report(res, runs, mach, quick, total, started)
    print(f"wrote {rel(p)} ({(time.perf_counter() - t0) / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
