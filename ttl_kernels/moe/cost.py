"""Modelled cost of one routed-experts MLP (one sparse layer) at a MoE model's shapes: the all-experts masked
compute against the gathered compute, per chip, weight precision and step (a decode token, a verify block).

    all-experts (what the traced kernel step runs at tiny shapes)  gathered (a real-shape step)
    router logits        ttnn matmul [rows, H] x [H, E]           same
    routing              moe_router (TT-Lang)                      same (its ids / topw drive the gather)
    gate, up             [H, E * I] each: every expert             D distinct selected experts' [H, I] each
    SwiGLU               silu_mul on [rows, E * Ip]                silu_mul on [rows, k * Ip] (k slots per row)
    routing weights      expert_scale, E slots                     expert_scale, k slots (topw)
    down (weighted sum)  [E * I, H]                                the D experts' [I, H]

``D`` is the number of distinct experts a step touches: ``k`` for one decode token; for a block of ``rows``
tokens its expectation under uniform routing, ``E (1 - (1 - k / E) ** rows)`` (82.4 of 128 for a 16-token block
at k = 8; the reference measures about 82 on random inputs).  The gathered matmuls are modelled
as one ttnn sparse / gather matmul per projection (:func:`ttl_kernels.perf.decoder.projection` over the ``D``
experts' weights; the tiles of the (row, expert) pairs, rows padded to a tile per expert); driving one program
per expert slot instead adds ``launch_us`` per extra launch (``per_expert_launch_us`` in the rows).  TT-Lang
kernels (router, silu_mul, expert_scale) come from the cycle model (:func:`ttl_kernels.perf.model_case`, on the
simulator; their time does not depend on the weights' precision).  Traced dispatch (op-to-op launch gap only).

``python -m ttl_kernels.moe.cost [--model qwen3-coder-30b-a3b] [--json OUT]`` prints the table.
"""

from __future__ import annotations

import math

from ..host import TILE

CHIPS = ("n150", "p150")
PRECISIONS = ("bf16", "bfp8_b", "bfp4_b")
STEPS = {"decode": 1, "verify16": 16}


def distinct_experts(experts: int, k: int, rows: int) -> float:
    """Expected distinct experts picked by ``rows`` tokens routing to ``k`` of ``experts`` each, uniformly."""
    if rows == 1:
        return float(k)
    return experts * (1.0 - (1.0 - k / experts) ** rows)


def kernel_times(model: str, rows_list=(1, 16), chips=CHIPS) -> dict:
    """Modelled times (us) of the TT-Lang kernels of both paths: ``{(kernel, path, rows, chip): model_us}``."""
    from ..perf import model_case
    from . import moe_models

    m = moe_models()[model]
    out = {}
    for rows in rows_list:
        cases = {
            ("moe_router", "both"): ("moe_router", dict(rows=rows, experts=m["experts"], k=m["k"], norm=m["norm"],
                                                        dtype="bf16")),
            ("silu_mul", "all"): ("silu_mul", dict(rows=rows, cols=m["experts"] * _ip(m["inter"]), dtype="bf16")),
            ("silu_mul", "gathered"): ("silu_mul", dict(rows=rows, cols=m["k"] * _ip(m["inter"]), dtype="bf16")),
            ("expert_scale", "all"): ("expert_scale", dict(rows=rows, slots=m["experts"], inter=m["inter"],
                                                           dtype="bf16")),
            ("expert_scale", "gathered"): ("expert_scale", dict(rows=rows, slots=m["k"], inter=m["inter"],
                                                                dtype="bf16")),
        }
        for (label, path), (kernel, params) in cases.items():
            res = model_case(kernel, params, chips, seed=0)
            for chip in chips:
                out[(label, path, rows, chip)] = res[chip].model_us
    return out


def _ip(inter: int) -> int:
    return -(-inter // TILE) * TILE


def layer_cost(model: str, path: str, rows: int, weight_dtype: str, chip: str, ktimes: dict) -> dict:
    """One sparse layer's MLP on ``chip``: per-part times (us), total, weight bytes read, distinct experts."""
    from ..perf.decoder import projection
    from . import moe_models

    m = moe_models()[model]
    H, E, k, inter = m["hidden"], m["experts"], m["k"], m["inter"]
    d = float(E) if path == "all" else distinct_experts(E, k, rows)
    dn = math.ceil(d)  # whole experts for the matmul shapes (the bytes below use the expectation)
    router = projection(H, E, weight_dtype, chip, rows=rows)
    gate = projection(H, dn * inter, weight_dtype, chip, rows=rows)
    down = projection(dn * inter, H, weight_dtype, chip, rows=rows)
    kpath = "all" if path == "all" else "gathered"
    parts = {
        "router_matmul": router["model_us"],
        "moe_router": ktimes[("moe_router", "both", rows, chip)],
        "gate_up": 2 * gate["model_us"],
        "silu_mul": ktimes[("silu_mul", kpath, rows, chip)],
        "expert_scale": ktimes[("expert_scale", kpath, rows, chip)],
        "down": down["model_us"],
    }
    scale = d / dn
    expert_bytes = (2 * gate["dram_bytes"] + down["dram_bytes"]) * scale
    launch = router["launch_us"]
    return dict(model=model, path=path, rows=rows, weight_dtype=weight_dtype, chip=chip, distinct_experts=d,
                parts=parts, total_us=sum(parts.values()), expert_bytes=expert_bytes,
                matmul_bound={"gate_up": gate["bound"], "down": down["bound"]},
                per_expert_launch_us=0.0 if path == "all" else 3 * max(dn - 1, 0) * launch)


def table(model: str = "qwen3-coder-30b-a3b", chips=CHIPS, precisions=PRECISIONS, steps=STEPS,
          ktimes: dict | None = None) -> list[dict]:
    """Every (step, chip, precision, path) row of :func:`layer_cost` (the TT-Lang kernels modelled once)."""
    ktimes = ktimes if ktimes is not None else kernel_times(model, tuple(sorted(set(steps.values()))), chips)
    rows = []
    for step, r in steps.items():
        for chip in chips:
            for wdt in precisions:
                for path in ("all", "gathered"):
                    rows.append({"step": step, **layer_cost(model, path, r, wdt, chip, ktimes)})
    return rows


def format_table(rows: list[dict], layers: int = 48) -> str:
    lines = ["| step | chip | weights | all experts: us/layer (MB read) | gathered: us/layer (MB read, experts) | "
             f"all / gathered | per token x {layers} layers: all / gathered (ms) |",
             "|---|---|---|---|---|---|---|"]
    key = {}
    for r in rows:
        key[(r["step"], r["chip"], r["weight_dtype"], r["path"])] = r
    for (step, chip, wdt, path), a in key.items():
        if path != "all":
            continue
        g = key[(step, chip, wdt, "gathered")]
        lines.append(f"| {step} | {chip} | {wdt} | {a['total_us']:.0f} ({a['expert_bytes'] / 1e6:.0f}) | "
                     f"{g['total_us']:.0f} ({g['expert_bytes'] / 1e6:.0f}, {g['distinct_experts']:.1f}) | "
                     f"{a['total_us'] / g['total_us']:.1f}x | {a['total_us'] * layers / 1e3:.1f} / "
                     f"{g['total_us'] * layers / 1e3:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    from .. import env

    env.apply_defaults()  # before torch / ttnn load
    ap = argparse.ArgumentParser(prog="python -m ttl_kernels.moe.cost", description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="qwen3-coder-30b-a3b")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    rows = table(a.model)
    print(format_table(rows))
    for r in rows:
        if r["weight_dtype"] == "bf16":
            print(r["step"], r["chip"], r["path"], {k: round(v, 1) for k, v in r["parts"].items()},
                  f"per-expert launches +{r['per_expert_launch_us']:.0f} us")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
