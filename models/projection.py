"""On silicon: what a run's measured tau would buy on an n150 / p150, from the cycle model (:mod:`ttl_kernels.perf`).

A speculative step is a draft step plus a verify step plus token selection; plain decoding is a decode step plus
its selection.  Each is costed from its OWN kernel instances: the step is run once on the simulator at the model's
shapes, its TT-Lang kernels counted and modelled per chip (:func:`ttl_kernels.perf.model_call`); the ttnn
projections (QKV, O, gate/up, down, the draft's fc, the LM heads) are modelled as DRAM-sharded decode matmuls
(:func:`ttl_kernels.perf.decoder.projection`) in tt_transformers' performance precisions (bfp8_b attention
weights, bfp4_b MLP weights, bfp8_b LM head).  Steps are simulated with one and two layers; the difference is one
layer's cost, scaled to the model's layer count.  Dispatch is explicit: ``traced`` (none) and ``eager`` (the
host cost per launch, :mod:`ttl_kernels.perf.hardware`).

    tokens/s plain = 1 / (decode + select_1)        tokens/s DFlash = tau / (draft + verify + select_B)

The simulations take minutes, so :func:`build` writes :data:`TABLE` once (``python -m models.projection --build``)
and every run of ``models/qwen3_dflash.py`` looks its steps up there (the nearest block size the table holds).
Targets: the shipped tiny coder with its draft, Qwen3-8B with z-lab's Qwen3-8B-DFlash-b16, and Llama-3.1-8B with
a draft of the same layout at Llama's width (a hypothetical draft: z-lab publishes none for Llama-3.1-8B).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

TABLE = Path(__file__).resolve().parent / "projection_table.json"
CTX = 1024  # context of the modelled steps (tokens already in the cache)
BLOCKS = (4, 8, 16)
# (label, target registry name, draft registry name or None = the same layout at the target's width)
SETUPS = (("tiny-qwen3-coder", "tiny-qwen3", "tiny-qwen3-dflash-b16"),
          ("qwen3-8b", "qwen3-8b", "qwen3-8b-dflash-b16"),
          ("llama-3.1-8b", "llama-3.1-8b", None))
PRECISION = "performance"
# What-if: z-lab publishes a 6.17x lossless speedup for Qwen3-8B (MATH-500, T = 0; z-lab.ai/projects/dflash); a
# speedup cannot exceed tau, so tau >= 6.17 there (their per-task tau table was not retrievable offline)
ZLAB_TAU_QWEN3_8B = 6.17


def _draft_config(target_name: str, draft_name: str | None):
    from reference import registry

    from .dflash import DFlashConfig

    if draft_name is not None:
        return DFlashConfig.from_hf(registry.draft_dict(draft_name)[1])
    _, raw = registry.draft_dict("qwen3-8b-dflash-b16")  # z-lab's layout, at the target's width
    t = registry.config(target_name)
    raw = dict(raw, hidden_size=t.hidden_size, intermediate_size=t.intermediate_size, num_attention_heads=t.num_heads,
               num_key_value_heads=t.num_kv_heads, head_dim=t.head_dim, vocab_size=t.vocab_size,
               num_target_layers=t.num_layers)
    n = t.num_layers
    raw["dflash_config"] = dict(raw["dflash_config"], target_layer_ids=[1, n // 4, n // 2, 3 * n // 4, n - 3])
    return DFlashConfig.from_hf(raw)


def _kernel_steps(target_name: str, dcfg, block: int, layers: int):
    """Functions that run the TT-Lang kernels of a decode step, a verify block and a draft step (``layers`` layers;
    projections shape-only) on the simulator."""
    from reference import registry
    from ttl_kernels import host

    from .decoder_step import decode_step
    from .dflash_step import DraftWeights, draft_step
    from .kernel_model import ShapeOps, _ShapeOnly
    from .protocols import TapSegment

    tcfg = registry.config(target_name, num_layers=layers)
    span = CTX + 2 * block + 1

    def target_step(rows: int):
        ops = ShapeOps(tcfg, max_seq_len=span)
        cache = ops.new_cache(1)
        cache.lengths.fill_(CTX)
        ws, fn, lm = ops.weights()
        decode_step(ops, ws, fn, lm, cache, [0] * rows, list(range(CTX, CTX + rows)))

    def draft():
        ops = ShapeOps(dataclasses.replace(dcfg.layer_config(), num_layers=layers), max_seq_len=span)
        H = dcfg.hidden_size
        lw, norm, lm = ops.weights()
        dw = DraftWeights(fc=[_ShapeOnly(H, H, ops.dtype)] * len(dcfg.target_layer_ids),
                          hidden_norm=host.empty((1, H), ops.dtype), layers=lw, norm=norm)
        taps = TapSegment([host.empty((block, H), ops.dtype)] * len(dcfg.target_layer_ids), block)
        draft_step(ops, dw, lm, ops.new_cache(1), CTX, [(taps, block)], [0] * block)

    return {"decode": lambda: target_step(1), "verify": lambda: target_step(block), "draft": draft}


def _select(vocab: int, rows: int, chip: str) -> dict:
    """Token selection on the device: the argmax over the vocabulary for ``rows`` rows (+ the accept rule)."""
    from ttl_kernels.perf import model_case

    t = model_case("argmax", dict(rows=rows, vocab=vocab, dtype="bf16"), chips=(chip,))[chip]
    out = {"us": t.model_us, "launches": len(t.launches)}
    if rows > 1:
        a = model_case("greedy_accept", dict(k=rows - 1), chips=(chip,))[chip]
        out = {"us": out["us"] + a.model_us, "launches": out["launches"] + len(a.launches)}
    return out


def _projections(kind: str, tcfg, dcfg, block: int) -> list[tuple[int, int, str, int]]:
    """(K, N, weight group, rows) of every ttnn matmul of one step."""
    from ttl_kernels.perf.decoder import PRECISIONS

    p = PRECISIONS[PRECISION]
    out = []
    if kind in ("decode", "verify"):
        c, rows, layers = tcfg, (1 if kind == "decode" else block), tcfg.num_layers
    else:
        c, rows, layers = dcfg.layer_config(), block, dcfg.num_layers
    q, kv = c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim
    per_layer = [(c.hidden_size, q + 2 * kv, p.attn), (q, c.hidden_size, p.attn),
                 (c.hidden_size, 2 * c.intermediate_size, p.mlp), (c.intermediate_size, c.hidden_size, p.mlp)]
    for K, N, dt in per_layer:
        out += [(K, N, dt, rows)] * layers
    if kind == "draft":  # the context injection (fc, then K and V of every layer) and the draft's LM head rows
        out.append((len(dcfg.target_layer_ids) * c.hidden_size, c.hidden_size, p.attn, block))
        out += [(c.hidden_size, 2 * kv, p.attn, block)] * layers
    out.append((tcfg.hidden_size, tcfg.vocab_size, p.lm_head, rows))
    return out


def build(setups=SETUPS, blocks=BLOCKS, chips=("n150", "p150"), log=print) -> dict:
    """Simulate and model every step of every setup; returns the table (and :func:`main` writes it)."""
    from reference import registry
    from ttl_kernels import runtime
    from ttl_kernels.perf import model_call

    runtime.use_backend("sim")
    doc = {"ctx": CTX, "precision": PRECISION, "setups": {}}
    for label, target_name, draft_name in setups:
        dcfg = _draft_config(target_name, draft_name)
        tcfg = registry.config(target_name)
        entry = {"target": target_name, "draft": draft_name or "z-lab layout at the target's width (hypothetical)",
                 "target_layers": tcfg.num_layers, "draft_layers": dcfg.num_layers, "vocab": tcfg.vocab_size,
                 "steps": {}}
        for block in blocks:
            steps1, steps2 = _kernel_steps(target_name, dcfg, block, 1), _kernel_steps(target_name, dcfg, block, 2)
            for kind in ("decode", "verify", "draft"):
                if kind == "decode" and block != blocks[0]:
                    continue
                layers = tcfg.num_layers if kind != "draft" else dcfg.num_layers
                for chip in chips:
                    m1 = model_call(steps1[kind], chips=(chip,))[chip]
                    m2 = model_call(steps2[kind], chips=(chip,))[chip]
                    per_layer = m2.model_us - m1.model_us
                    kernels_us = m1.model_us + (layers - 1) * per_layer
                    launches = len(m1.launches) + (layers - 1) * (len(m2.launches) - len(m1.launches))
                    key = f"{kind}/{block if kind != 'decode' else 1}/{chip}"
                    entry["steps"][key] = {"kernels_us": kernels_us, "kernel_launches": launches,
                                           "bound": m2.bound}
                    log(f"{label} {key}: kernels {kernels_us:.1f} us ({launches} launches)")
        for chip in chips:
            entry["steps"][f"select/1/{chip}"] = _select(tcfg.vocab_size, 1, chip)
            for block in blocks:
                entry["steps"][f"select/{block}/{chip}"] = _select(tcfg.vocab_size, block, chip)
        doc["setups"][label] = entry
    return doc


def _step_us(entry: dict, kind: str, block: int, chip: str, dispatch: str) -> float:
    from reference import registry
    from ttl_kernels.perf.decoder import projection
    from ttl_kernels.perf.hardware import figures

    s = entry["steps"][f"{kind}/{1 if kind == 'decode' else block}/{chip}"]
    tcfg = registry.config(entry["target"])
    dcfg = _draft_config(entry["target"], None if entry["draft"].startswith("z-lab layout") else entry["draft"])
    mats = [projection(K, N, dt, chip, rows=rows) for K, N, dt, rows in _projections(kind, tcfg, dcfg, block)]
    us = s["kernels_us"] + sum(m["model_us"] for m in mats)
    if dispatch == "eager":
        us += figures(chip)["dispatch_eager_us"].value * (s["kernel_launches"] + len(mats))
    return us


def project(tau: float, block: int, *, table: dict | None = None, setups=None) -> list[dict]:
    """Rows (setup, chip, dispatch): modelled tokens/s of plain decoding and of DFlash at ``tau`` with ``block``
    (the nearest block the table holds), and the step times they come from."""
    doc = table or json.loads(TABLE.read_text())
    b = min(BLOCKS, key=lambda x: (abs(x - block), x))
    rows = []
    for label, entry in doc["setups"].items():
        if setups is not None and label not in setups:
            continue
        for chip in ("n150", "p150"):
            sel1, selb = entry["steps"][f"select/1/{chip}"], entry["steps"][f"select/{b}/{chip}"]
            for dispatch in ("traced", "eager"):
                plain = _step_us(entry, "decode", b, chip, dispatch) + sel1["us"]
                draft = _step_us(entry, "draft", b, chip, dispatch)
                verify = _step_us(entry, "verify", b, chip, dispatch) + selb["us"]
                if dispatch == "eager":
                    from ttl_kernels.perf.hardware import figures

                    d = figures(chip)["dispatch_eager_us"].value
                    plain += d * sel1["launches"]
                    verify += d * selb["launches"]
                rows.append({"setup": label, "chip": chip, "dispatch": dispatch, "block": b, "tau": tau,
                             "plain_ms": plain / 1e3, "draft_ms": draft / 1e3, "verify_ms": verify / 1e3,
                             "plain_tok_s": 1e6 / plain, "dflash_tok_s": tau * 1e6 / (draft + verify),
                             "speedup": tau * plain / (draft + verify)})
    return rows


def format_rows(rows: list[dict], title: str) -> str:
    lines = [title, f"{'target':<18} {'chip':<5} {'dispatch':<7} {'plain tok/s':>11} {'DFlash tok/s':>12} "
             f"{'x':>6}  {'draft+verify ms':>15}"]
    for r in rows:
        lines.append(f"{r['setup']:<18} {r['chip']:<5} {r['dispatch']:<7} {r['plain_tok_s']:>11.1f} "
                     f"{r['dflash_tok_s']:>12.1f} {r['speedup']:>5.2f}x  {r['draft_ms']:>6.2f}+{r['verify_ms']:<6.2f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    from ttl_kernels import env

    env.apply_defaults()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", action="store_true", help=f"simulate every step and write {TABLE.name}")
    ap.add_argument("--tau", type=float, default=ZLAB_TAU_QWEN3_8B)
    ap.add_argument("--block", type=int, default=16)
    a = ap.parse_args(argv)
    if a.build:
        TABLE.write_text(json.dumps(build(), indent=1))
        print(f"wrote {TABLE}")
    print(format_rows(project(a.tau, a.block), f"on silicon (modelled), tau {a.tau}, block {a.block}, ctx {CTX}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
