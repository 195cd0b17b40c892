"""ALSpec quality per lambda with the LM Evaluation Harness (the paper's Table 1, on the project's targets).

    python models/alspec_eval.py                                      # tiny-llama3, the local tasks, lambda 0..0.2
    python models/alspec_eval.py --target checkpoints/tiny-qwen3-coder --lambdas 0,0.05,0.1 --chunk 64 --limit 8
    python models/alspec_eval.py --tasks alspec_code_mc,alspec_retrieval --json out.json --markdown out.md
    python models/alspec_eval.py --from-json a.json,b.json --markdown table.md   # one table from earlier runs

Needs the optional dependency lm-eval (``pip install '.[eval]'``).  For ALSpec off and then each chunk size S
and lambda, it runs ``lm_eval.simple_evaluate`` with the ``ttl-alspec`` model (:mod:`models.alspec.lm_eval_model`:
verify-only ALSpec on the reference model; contexts prefilled exactly, every continuation / generated token
through a decode step) and prints one grid: per task its metric per run and the hit rate (decode steps x layers
that kept the speculative attention; in brackets the share of decode steps where ``P <= 2S`` makes the
approximation exact).  lambda 0 must equal ALSpec off: every response of every request is compared and the
result printed.

Tasks: by default the local tasks (:mod:`models.alspec.tasks`: code completion as multiple choice and exact
match, key retrieval from a long prompt (generated and multiple choice), held-out perplexity; all cut from the
held-out stdlib files), generated into ``--task-dir`` (default: a temporary directory).  Any task of the
harness's own collection can be named too (``--tasks hellaswag``); its data must already be in the Hugging Face
cache, as this project never downloads (see models/alspec/README.md).
"""

from __future__ import annotations

import sys

from ttl_kernels import env

env.apply_defaults()  # before torch loads (OpenMP reads OMP_WAIT_POLICY then); HF offline

import argparse
import json
import tempfile
import time
from pathlib import Path

from models.cli import ArgumentParser, UsageError, csv_of, existing_dir, float_in, int_in, run_main
from reference import registry

PROG = "alspec_eval.py"
DEFAULT_TARGET = "tiny-llama3"
LAMBDAS = (0.0, 0.05, 0.10, 0.20)
# the metric shown per local task (others: the first metric the harness reports)
MAIN_METRIC = {"alspec_code_mc": "acc", "alspec_code_line": "exact_match", "alspec_retrieval": "exact_match",
               "alspec_retrieval_mc": "acc", "alspec_heldout_ppl": "bits_per_byte"}


def parse_args(argv: list[str]):
    ap = ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", type=existing_dir, default=None,
                    help=f"HF checkpoint directory (default: {registry.checkpoint(DEFAULT_TARGET)})")
    ap.add_argument("--tasks", type=csv_of(str, "tasks"), default=None,
                    help="comma-separated task names (default: alspec_local, all local tasks)")
    ap.add_argument("--task-dir", default=None,
                    help="directory of the local tasks: used if it holds a manifest.json, else generated there "
                         "(default: a temporary directory)")
    ap.add_argument("--lambdas", type=csv_of(float_in(0.0), "lambdas"), default=list(LAMBDAS),
                    help=f"comma-separated lambdas >= 0 (default: {','.join(f'{x:g}' for x in LAMBDAS)}); "
                         "ALSpec off always runs first")
    ap.add_argument("--chunk", type=csv_of(int_in(32, 4096), "chunk"), default=[128],
                    help="ALSpec chunk size S, a multiple of 32; a comma-separated list runs each (default: 128)")
    ap.add_argument("--limit", type=int_in(1), default=None, help="examples per task (default: all)")
    ap.add_argument("--batch-size", type=int_in(1, 256), default=8, help="users per decode forward")
    ap.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32")
    ap.add_argument("--bootstrap-iters", type=int_in(0), default=1000, help="harness bootstrap for stderrs (0: none)")
    ap.add_argument("--seed", type=int_in(0), default=0, help="task generation seed")
    ap.add_argument("--json", default=None, help="write the runs and the grid as JSON here")
    ap.add_argument("--markdown", default=None, help="write the grid as a Markdown table here")
    ap.add_argument("--from-json", type=csv_of(str, "files"), default=None,
                    help="no evaluation: read these --json outputs and write / print their grids")
    ap.add_argument("--debug", action="store_true", help="on failure, print the traceback (default: one line)")
    a = ap.parse_args(argv)
    for c in a.chunk:
        if c % 32:
            ap.error(f"--chunk: expected multiples of 32 (ALSpec's S, the flash-decode chunk size); got {c}")
    if a.from_json:
        for f in a.from_json:
            if not Path(f).is_file():
                ap.error(f"--from-json: no file at {f!r}")
    a.lambdas = list(dict.fromkeys(a.lambdas))
    a.chunk = list(dict.fromkeys(a.chunk))
    return a


def import_lm_eval():
    try:
        import lm_eval  # noqa: F401
    except ImportError as e:
        raise RuntimeError(f"lm-eval is not installed ({e}); install the optional dependency: "
                           "pip install -c constraints.txt '.[eval]'") from None
    import lm_eval.api.model  # noqa: F401

    from models.alspec import lm_eval_model

    return lm_eval_model


# ---------------------------------------------------------------------------------------------- results


def metric_of(task: str, res: dict) -> tuple[str, float | None]:
    """(metric name, value) shown for a task: :data:`MAIN_METRIC`, else the first numeric metric."""
    want = MAIN_METRIC.get(task)
    for k, v in res.items():
        if "," not in k or "_stderr" in k:
            continue
        name = k.split(",")[0]
        if (want is None or name == want) and isinstance(v, (int, float)):
            return name, float(v)
    return want or "?", None


def responses(samples: dict) -> dict[str, list]:
    """Per task, the raw responses of every request in doc order (for the lambda-0 check)."""
    out = {}
    for task, rows in (samples or {}).items():
        out[task] = [(r["doc_id"], r["resps"]) for r in sorted(rows, key=lambda r: r["doc_id"])]
    return out


def label(run: dict) -> str:
    return "off" if run["lambda"] is None else f"S={run['chunk']} l={run['lambda']:g}"


def grid(res: dict) -> str:
    """The Table-1-style grid: a row per task, a column per run (metric, hit rate and covered share)."""
    runs = res["runs"]
    tasks = list(runs[0]["metrics"])
    labels = [label(r) for r in runs]
    w = max(22, *(len(x) for x in labels))
    tw = max(28, *(len(f"{t} ({runs[0]['metrics'][t]['metric']})") for t in tasks))
    head = f"{'task (metric)':<{tw}} | " + " | ".join(f"{x:>{w}}" for x in labels)
    lines = [head, "-" * len(head)]

    def cell(r, t):
        m = r["metrics"][t]["value"]
        s = "   n/a" if m is None else f"{m:6.3f}"
        st = r["alspec"]["tasks"].get(t) if r["alspec"] else None
        if st and st.get("hit_rate") is not None:
            s += f" h {st['hit_rate']:.2f} ({st['covered_fraction']:.2f})"
        return s

    for t in tasks:
        name = f"{t} ({runs[0]['metrics'][t]['metric']})"
        lines.append(f"{name:<{tw}} | " + " | ".join(f"{cell(r, t):>{w}}" for r in runs))
    for i in range(res["num_layers"]):
        row = []
        for r in runs:
            h = r["alspec"]["all"]["layer_hit_rates"][i] if r["alspec"] else None
            row.append("" if h is None else f"{h:.3f}")
        lines.append(f"{'hit rate, layer ' + str(i):<{tw}} | " + " | ".join(f"{x:>{w}}" for x in row))
    row = []
    for r in runs:
        a = r["alspec"]["all"] if r["alspec"] else None
        row.append("" if not a or a["hit_rate"] is None else f"{a['hit_rate']:.3f} ({a['covered_fraction']:.2f})")
    lines.append(f"{'hit rate, all (covered)':<{tw}} | " + " | ".join(f"{x:>{w}}" for x in row))
    row = [f"{r['seconds']:.0f} s" for r in runs]
    lines.append(f"{'wall time':<{tw}} | " + " | ".join(f"{x:>{w}}" for x in row))
    return "\n".join(lines)


def markdown(results: list[dict]) -> str:
    """One Markdown section per target: tasks x runs (metric, hit rate), then the per-layer hit rates."""
    out = ["# ALSpec quality per lambda (lm-eval, local held-out tasks)", "",
           "Verify-only ALSpec on the reference model (`python models/alspec_eval.py`): contexts prefilled exactly, "
           "every continuation / generated token through a decode step whose attention is the sink + recent "
           "approximation when `||O - O_spec|| <= lambda ||O||` (per layer and user, all heads).  Cell: the task "
           "metric, then `h` the hit rate over that task's decode steps x layers and, in brackets, the share of "
           "decode steps where `P <= 2S` (the approximation equals the exact attention, a hit at any lambda).  "
           "lambda 1e9 accepts every approximation: static sink + recent attention, the paper's static baseline.", ""]
    for res in results:
        runs = res["runs"]
        tasks = list(runs[0]["metrics"])
        lams = ", ".join(dict.fromkeys(f"{r['lambda']:g}" for r in runs if r["lambda"] is not None))
        chunks = ", ".join(dict.fromkeys(str(r["chunk"]) for r in runs if r["chunk"] is not None))
        out += [f"## {res['target_name']}: lambda {lams}; S {chunks}", "",
                f"lm-eval {res['lm_eval_version']}, {res['dtype']}, {res['limit'] or 'all'} examples per task, "
                f"{res['seconds']:.0f} s on {res['machine'].get('cpu', '?')} ({res['machine'].get('cores', '?')} "
                f"cores, load {res['machine'].get('loadavg', '?')}).  lambda 0 vs off: {res['lambda0_check']}.", ""]
        out.append("| task (metric) | " + " | ".join(label(r) for r in runs) + " |")
        out.append("|---|" + "---|" * len(runs))
        for t in tasks:
            cells = []
            for r in runs:
                m = r["metrics"][t]["value"]
                c = "n/a" if m is None else f"{m:.3f}"
                st = r["alspec"]["tasks"].get(t) if r["alspec"] else None
                if st and st.get("hit_rate") is not None:
                    c += f" h {st['hit_rate']:.2f} ({st['covered_fraction']:.2f})"
                cells.append(c)
            out.append(f"| {t} ({runs[0]['metrics'][t]['metric']}) | " + " | ".join(cells) + " |")
        for i in range(res["num_layers"]):
            cells = []
            for r in runs:
                h = r["alspec"]["all"]["layer_hit_rates"][i] if r["alspec"] else None
                cells.append("" if h is None else f"{h:.3f}")
            out.append(f"| hit rate, layer {i} | " + " | ".join(cells) + " |")
        cells = []
        for r in runs:
            a = r["alspec"]["all"] if r["alspec"] else None
            cells.append("" if not a or a["hit_rate"] is None else f"{a['hit_rate']:.3f} ({a['covered_fraction']:.2f})")
        out += ["| hit rate, all | " + " | ".join(cells) + " |", ""]
    return "\n".join(out) + "\n"


# -------------------------------------------------------------------------------------------------- run


def local_tasks(a, log) -> tuple[Path, dict, object]:
    """(directory, manifest, temporary-directory handle or None) of the local tasks."""
    from models.alspec import tasks as local

    tmp = None
    if a.task_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="alspec_tasks_")
        d = Path(tmp.name)
    else:
        d = Path(a.task_dir)
    if (d / "manifest.json").is_file():
        return d, json.loads((d / "manifest.json").read_text()), tmp
    log(f"generating the local tasks in {d} ...")
    tok = None
    try:
        from reference.hf import load_tokenizer

        tok = load_tokenizer(a.target_path)
    except (OSError, ValueError):
        tok = local.default_tokenizer()
    return d, local.build(d, a.seed, tok), tmp


def evaluate(a, log=print) -> dict:
    M = import_lm_eval()
    import lm_eval
    from lm_eval.tasks import TaskManager

    from models.alspec import tasks as local
    from models.alspec.scoring import ALSpecScorer, PrefillCache
    from reference.hf import load_pretrained, load_tokenizer

    t_all = time.perf_counter()
    a.target_path = Path(a.target) if a.target else registry.checkpoint(DEFAULT_TARGET)
    if not a.target_path.is_dir():
        raise FileNotFoundError(f"--target: no checkpoint at {str(a.target_path)!r} (train it: make train)")
    names = a.tasks or [local.TAG]
    own = set(local.TASKS) | {local.TAG}
    task_dir, manifest, tmp = local_tasks(a, log)
    tm = TaskManager(include_path=str(task_dir), include_defaults=any(n not in own for n in names))
    unknown = [n for n in names if n not in tm.all_tasks]
    if unknown:
        raise UsageError(f"--tasks: unknown task(s) {', '.join(unknown)} (local: {', '.join(sorted(own))})")
    model, _ = load_pretrained(a.target_path, dtype=a.dtype)
    tokenizer = load_tokenizer(a.target_path)
    cache = PrefillCache()
    settings = [(None, a.chunk[0])] + [(lam, c) for c in a.chunk for lam in a.lambdas]
    res = {"command": " ".join([f"python models/{PROG}", *sys.argv[1:]]), "machine": env.machine(),
           "target": str(a.target_path), "target_name": a.target_path.name, "arch": model.config.arch,
           "num_layers": model.config.num_layers, "dtype": a.dtype, "tasks": names, "limit": a.limit,
           "lm_eval_version": lm_eval.__version__, "task_manifest": {k: manifest.get(k) for k in
                                                                     ("seed", "python", "sizes", "tasks", "data")},
           "runs": []}
    samples = {}
    for lam, chunk in settings:
        t0 = time.perf_counter()
        scorer = ALSpecScorer(model, tokenizer, lambda_=lam, chunk=chunk, batch_size=a.batch_size,
                              prefill_cache=cache)
        lm = M.ALSpecLM.from_scorer(scorer, name=str(a.target_path))
        out = lm_eval.simple_evaluate(model=lm, tasks=names, task_manager=tm, limit=a.limit,
                                      bootstrap_iters=a.bootstrap_iters, log_samples=True)
        run = {"lambda": lam, "chunk": None if lam is None else chunk, "seconds": time.perf_counter() - t0,
               "results": out["results"], "n_samples": out.get("n-samples"),
               "metrics": {t: dict(zip(("metric", "value"), metric_of(t, r))) for t, r in out["results"].items()},
               "alspec": None if lam is None else lm.alspec_summary()}
        res["runs"].append(run)
        samples[(lam, chunk)] = responses(out.get("samples"))
        hit = run["alspec"]["all"]["hit_rate"] if run["alspec"] else None
        log(f"{label(run):>16}: " + "  ".join(f"{t} {m['metric']} {m['value']:.3f}" for t, m in run["metrics"].items()
                                              if m["value"] is not None)
            + ("" if hit is None else f"  hit {hit:.3f}") + f"  ({run['seconds']:.0f} s)")
    base = samples[(None, a.chunk[0])]
    checks = []
    for c in a.chunk:
        if 0.0 in a.lambdas:
            same = samples[(0.0, c)] == base
            n = sum(len(v) for v in base.values())
            checks.append(f"S={c}: {'identical' if same else 'DIFFERENT'} ({n} requests)")
    res["lambda0_check"] = "; ".join(checks) if checks else "not run (lambda 0 not in --lambdas)"
    res["lambda0_identical"] = all("identical" in c for c in checks) if checks else None
    res["prefill_cache"] = {"hits": cache.hits, "misses": cache.misses}
    res["seconds"] = time.perf_counter() - t_all
    res["grid"] = grid(res)
    if tmp is not None:
        tmp.cleanup()
    return res


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    if a.from_json:
        results = [json.loads(Path(f).read_text()) for f in a.from_json]
        for r in results:
            print(f"{r['target_name']}:\n{grid(r)}\n")
    else:
        r = evaluate(a)
        print(f"\n{r['target_name']} ({r['seconds']:.0f} s); lambda 0 vs off: {r['lambda0_check']}\n{r['grid']}")
        results = [r]
        if a.json:
            Path(a.json).parent.mkdir(parents=True, exist_ok=True)
            Path(a.json).write_text(json.dumps(r, indent=1, default=str) + "\n")
            print(f"wrote {a.json}")
    if a.markdown:
        Path(a.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(a.markdown).write_text(markdown(results))
        print(f"wrote {a.markdown}")
    if not a.from_json and results[0]["lambda0_identical"] is False:
        print(f"{PROG}: error: lambda 0 differs from ALSpec off", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog=PROG))
