"""``ttl-perf``: model kernel calls on n150 / p150 from what they execute on the simulator.

    ttl-perf KERNEL[:k=v,...] [CASE ...] [--chip n150|p150|both] [--json OUT] [--sensitivity] [--dispatch MODE]
    ttl-perf table [--shapes tiny|llama|both] [--chip n150] [--json OUT]
    ttl-perf validate [--full] [--contexts 32768] [--json OUT]
    ttl-perf figures [--chip n150|p150|both] [--json OUT]
    ttl-perf decoder-table [--models llama-3.1-8b,...] [--contexts 256,...] [--kv-dtypes bf16,bfp8_b] [--out F]

A CASE is ``kernel[:k=v,...]`` as for ``ttl-compile`` (a registry kernel, or ``matmul``), or
``package.module:function[:k=v,...]`` for any function of yours that calls kernels (no minimum bytes then).
Every case runs on the simulator once per chip, on that chip's core grid.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

SUBCOMMANDS = ("table", "validate", "figures", "decoder-table")


def _chips(s: str) -> tuple[str, ...]:
    return ("n150", "p150") if s == "both" else (s,)


def _model_function_case(name: str, params: dict, chips, dispatch):
    from .model import model
    from .run import count_call

    mod, fn = name.split(":")
    f = getattr(importlib.import_module(mod), fn)
    res = {"kernel": name, "params": params, "min_bytes": None, "min_rule": "not known for a function case"}
    for chip in chips:
        _, counts, _ = count_call(f, chip=chip, **params)
        res[chip] = model(counts, chip, dispatch=dispatch)
        res.setdefault("counts", {})[chip] = counts
    return res


def _print_case(case: str, res: dict, chips, per_launch: bool = True) -> None:
    mb = res.get("min_bytes")
    print(f"{case}" + (f"   (minimum {mb:,} B: {res['min_rule']})" if mb else ""))
    print(f"  {'chip':<5} {'model_us':>9} {'bound':<9} {'dram_us':>8} {'compute':>8} {'handoff':>8} {'noc_us':>7} "
          f"{'launch':>7} {'ratio':>6} {'GB/s':>6}  launches")
    for chip in chips:
        m = res[chip]
        gbps = "-" if m.useful_gbps is None else f"{m.useful_gbps:.0f}"
        print(f"  {chip:<5} {m.model_us:9.2f} {m.bound:<9} {m.dram_us:8.2f} {m.compute_us:8.2f} {m.handoff_us:8.2f} "
              f"{m.noc_us:7.2f} {m.launch_us + m.dispatch_us:7.2f} {m.ratio_to_dram:6.2f} {gbps:>6}  {len(m.launches)}")
    if per_launch:
        for chip in chips:
            for L in res[chip].launches:
                print(f"    {chip} {L.name:<22} cores {L.cores:>3}  body {L.body_us:8.2f} us ({L.bound}; "
                      f"dram {L.dram_us:.2f}, compute {L.compute_us:.2f}, handoff {L.handoff_us:.2f}, "
                      f"data movement {L.dm_us:.2f}) "
                      f"slowest core {L.slowest_core}")
            m = res[chip]
            print(f"    {chip} binding core ops: {m.binding_core_ops}")
            if m.uncosted:
                print(f"    {chip} costed with sfpu.default (no figure of their own): {m.uncosted}")


def _print_sensitivity(rows: list[dict], top: int = 12) -> None:
    print(f"  {'figure':<26} {'value':>9} {'confirmed':<9} {'x0.5':>9} {'x1':>9} {'x2':>9}  bound (x0.5/x1/x2)  source")
    for r in rows[:top]:
        print(f"  {r['figure']:<26} {r['value']:9.4g} {str(r['confirmed']):<9} {r['model_us_half']:9.2f} "
              f"{r['model_us']:9.2f} {r['model_us_double']:9.2f}  {r['bound_half']}/{r['bound']}/{r['bound_double']}"
              f"  {r['source']}")


def run_cases(cases, chips, dispatch, sensitivity_on, json_path) -> int:
    from ..compile import parse_case
    from .model import sensitivity
    from .run import count_case, model_case

    out = []
    for case in cases:
        name, params = parse_case(case)
        t0 = time.perf_counter()
        if ":" in name:
            res = _model_function_case(name, params, chips, dispatch)
        else:
            res = model_case(name, params, chips, dispatch, keep_counts=sensitivity_on)
        _print_case(case, res, chips)
        print(f"  (simulated in {time.perf_counter() - t0:.1f} s)")
        row = {"case": case, "kernel": name, "params": params, "min_bytes": res.get("min_bytes"),
               "min_rule": res.get("min_rule")}
        for chip in chips:
            row[chip] = res[chip].as_dict()
            if sensitivity_on:
                counts = res["counts"][chip] if "counts" in res else count_case(name, params, chip)[0]
                rows = sensitivity(counts, chip, min_bytes=res.get("min_bytes"), dispatch=dispatch)
                print(f"  sensitivity on {chip} (each figure halved / doubled, largest swing first):")
                _print_sensitivity(rows)
                row[chip]["sensitivity"] = rows
        out.append(row)
    if json_path:
        _write(json_path, {"command": "ttl-perf " + " ".join(sys.argv[1:]), "cases": out})
    return 0


def _write(path: str, obj) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(obj, indent=1, default=str))
    print(f"wrote {path}")


LLAMA_VALUES = {4096, 14336, 32, 8, 128, 1e-5, "llama-3.1-8b"}


def llama_case(cases: list[dict]) -> dict:
    """The model case closest to Llama-3.1-8B's dimensions (most parameter values that are Llama's)."""
    def score(p):
        return sum(1 for v in p.values() if isinstance(v, (int, float, str)) and not isinstance(v, bool)
                   and v in LLAMA_VALUES)

    return max(cases, key=score)


def run_table(shapes: str, chips, dispatch, json_path, kernels: str = "") -> int:
    from ..compile import format_case
    from .run import all_specs, model_case

    specs = all_specs()
    wanted = [k for k in kernels.split(",") if k] or list(specs)
    rows = []
    print(f"{'case':<78} {'chip':<5} {'model_us':>9} {'bound':<9} {'dram_us':>8} {'ratio':>6}")
    for name in wanted:
        cases = specs[name].model_cases()
        pick = {"tiny": [cases[0]], "llama": [llama_case(cases)], "both": [cases[0], llama_case(cases)]}[shapes]
        for params in list({format_case(name, p): p for p in pick}.values()):
            res = model_case(name, params, chips, dispatch)
            for chip in chips:
                m = res[chip]
                case = format_case(name, params)
                print(f"{case:<78} {chip:<5} {m.model_us:9.2f} {m.bound:<9} {m.dram_us:8.2f} {m.ratio_to_dram:6.2f}",
                      flush=True)
                rows.append(dict(case=case, kernel=name, params=params, chip=chip, model_us=round(m.model_us, 3),
                                 bound=m.bound, dram_us=round(m.dram_us, 3), ratio_to_dram=round(m.ratio_to_dram, 3),
                                 compute_us=round(m.compute_us, 3), handoff_us=round(m.handoff_us, 3),
                                 launches=len(m.launches), useful_gbps=m.useful_gbps and round(m.useful_gbps, 1),
                                 min_bytes=res["min_bytes"], dram_bytes=m.dram_bytes))
    if json_path:
        _write(json_path, {"command": "ttl-perf " + " ".join(sys.argv[1:]), "rows": rows})
    return 0


def run_figures(chips, json_path) -> int:
    from .hardware import ETHERNET, HARDWARE, figure_table

    out = {}
    for chip in chips:
        rows = figure_table(chip)
        out[chip] = rows
        print(f"{chip}: {'figure':<26} {'value':>9} {'unit':<12} {'conf':<5} source")
        for r in rows:
            print(f"      {r['name']:<26} {r['value']:9.4g} {r['unit']:<12} {'yes' if r['confirmed'] else 'no':<5} "
                  f"{r['source']}" + (f" [{r['note']}]" if r["note"] else ""))
    print("ethernet:", {k: (v.gbps, v.hop_latency_us, v.topology) for k, v in ETHERNET.items()})
    print("roofline view (models/alspec/latency.py):",
          {k: (v.dram_gbps, v.attn_gbps, v.link_gbps) for k, v in HARDWARE.items()})
    if json_path:
        _write(json_path, {"figures": out, "ethernet": {k: vars(v) for k, v in ETHERNET.items()}})
    return 0


DECODER_CONTEXTS = "256,512,1024,2048,4096,8192,16384,32768,65536,131072"
DECODER_MODELS = "llama-3.1-8b,qwen3-8b,tiny-llama"


def run_decoder_table(models: str, contexts: str, kv_dtypes: str, chips, out: str | None) -> int:
    """Build the decoder table; rows already in ``OUT.json`` (a checkpoint the build writes after every row) or in
    the shipped table (same figures) are kept, so an interrupted build resumes."""
    from .decoder import TABLE_FILE, build_table, stale_figures, table, write_table

    path = Path(out) if out else Path(__file__).resolve().parent / TABLE_FILE
    ckpt = path.with_suffix(".json")
    done = dict(table().get("rows", {})) if not any(stale_figures(c) for c in chips) else {}
    if ckpt.is_file():
        done.update(json.loads(ckpt.read_text()).get("rows", {}))
    doc = build_table([m for m in models.split(",") if m], [int(c) for c in contexts.split(",") if c],
                      [k for k in kv_dtypes.split(",") if k], chips, log=lambda s: print(s, flush=True), done=done,
                      save=lambda d: ckpt.write_text(json.dumps(d)))
    write_table(doc, path)
    ckpt.unlink(missing_ok=True)
    print(f"wrote {path} ({len(doc['rows'])} instances)")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from .. import env

    env.apply_defaults()  # before torch / ttnn load (OMP_WAIT_POLICY, loguru level, HF offline)
    sub = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    ap = argparse.ArgumentParser(prog="ttl-perf", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    if sub is None:
        ap.add_argument("cases", nargs="+", help="kernel[:k=v,...] or package.module:function[:k=v,...]")
        ap.add_argument("--sensitivity", action="store_true", help="rerun with each figure halved and doubled")
    else:
        ap.add_argument("sub", choices=SUBCOMMANDS)
    ap.add_argument("--chip", default="both" if sub in (None, "figures", "decoder-table") else "n150",
                    choices=["n150", "p150", "both"])
    ap.add_argument("--json", help="write the results as JSON here")
    ap.add_argument("--dispatch", default="traced", choices=["traced", "eager", "eager_python"])
    if sub == "table":
        ap.add_argument("--shapes", default="both", choices=["tiny", "llama", "both"])
        ap.add_argument("--kernels", default="", help="comma-separated subset")
    if sub == "validate":
        ap.add_argument("--full", action="store_true", help="every published matmul shape (8k^3 takes minutes)")
        ap.add_argument("--contexts", default="32768", help="flash-decode contexts, comma-separated")
    if sub == "decoder-table":
        ap.add_argument("--models", default=DECODER_MODELS)
        ap.add_argument("--contexts", default=DECODER_CONTEXTS)
        ap.add_argument("--kv-dtypes", default="bf16,bfp8_b")
        ap.add_argument("--out", help="default: ttl_kernels/perf/kernel_table.json")
    a = ap.parse_args(argv)
    chips = _chips(a.chip)
    if sub == "decoder-table":
        return run_decoder_table(a.models, a.contexts, a.kv_dtypes, chips, a.out)
    if sub == "figures":
        return run_figures(chips, a.json)
    if sub == "table":
        return run_table(a.shapes, chips, a.dispatch, a.json, a.kernels)
    if sub == "validate":
        from .validate import validate

        validate(full=a.full, json_path=a.json, contexts=tuple(int(c) for c in a.contexts.split(",")),
                 command="ttl-perf " + " ".join(argv))
        return 0
    return run_cases(a.cases, chips, a.dispatch, a.sensitivity, a.json)


if __name__ == "__main__":
    sys.exit(main())
