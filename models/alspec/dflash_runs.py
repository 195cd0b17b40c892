"""Runs of DFlash with ALSpec in verification (:mod:`models.alspec.dflash_verify`) on the shipped tiny checkpoints, and
the modelled latency of a verification step.

    python -m models.alspec.dflash_runs [--prompts 6] [--prompt-tokens 384] [--new-tokens 64]
                                        [--lambdas 0,0.05,0.1,0.2,0.5] [--chunks 32,64,128]
                                        [--sim] [--sim-lambdas 0,0.1,0.5] [--sim-new-tokens 24]
                                        [--json bench/results/alspec_in_dflash.json]
                                        [--markdown bench/results/alspec_in_dflash.md]

Target ``checkpoints/tiny-qwen3-coder`` (4 layers, trained on 512-token windows) with its DFlash draft
``checkpoints/tiny-qwen3-coder-dflash-b16`` (block 16), greedy, held-out stdlib prompts of ~``prompt-tokens`` tokens
(every verification row then has ``P > 2 S`` for S up to 128).  Per (S, lambda), over all prompts: tau (tokens per
verify step, bonus included), token agreement with plain DFlash (which equals plain greedy decoding: lossless,
checked) as the share of equal positions and of prompts generated identically, the mean common prefix, agreement
with ALSpec greedy decoding (one token per step, :func:`models.alspec.reference.generate`: what the definition
predicts DFlash + ALSpec emits), hit rates per row and per block (all B rows), and the modelled verification
latency at those rates.

``--sim`` repeats a short run on the TT-Lang kernels (simulator): plain DFlash (split-KV flash decode), verification
through the speculative kernel's exact output (``select=False``) and ALSpec per lambda, one prompt.

Latency model of one verification step (:func:`verify_latency`): Qwen3-8B, a block of B = 16 rows, on the cycle
model (:mod:`models.alspec.tp_timeline`'s segments with B rows: projections and row kernels take one 32-row tile
as for one row; the block's attention is modelled by :func:`models.alspec.tp_table.block_attention`, measured on the
simulator at 1-4K, affine in the context beyond).  A layer's timeline is
ALSpec's hit (the receiver's post-attention work overlaps the sender's exact attention) when all 16 rows hit, its
miss otherwise, with the measured block hit rate.  Setups: one n150 chip (exact) vs an n300 pair (ALSpec), TP-8
(exact) vs ALSpec 4+4.  The measured rates come from a 4-layer model at ~400 tokens; applying them at 8K-128K is an
extrapolation, stated as such.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from ttl_kernels import env

from . import tp_table, tp_timeline
from .dflash_verify import ALSpecTorchTarget, BlockStats, kernel_target

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
TARGET, DRAFT = "tiny-qwen3-coder", "tiny-qwen3-coder-dflash-b16"
LATENCY_MODEL = "qwen3-8b"
BLOCK = 16
LATENCY_CONTEXTS = (8192, 32768, 131072)
DEFAULT_CCL = tp_timeline.CCL()


def load_pair():
    """(reference target fp32, DFlash draft, tokenizer) of the shipped checkpoints."""
    from models.dflash import DFlashDraft
    from reference import FP32, registry
    from reference.hf import load_pretrained, load_tokenizer

    t = registry.checkpoint(TARGET)
    model, _ = load_pretrained(t, dtype=FP32)
    draft = DFlashDraft.from_pretrained(registry.checkpoint(DRAFT)).eval()
    return model, draft, load_tokenizer(t)


def prompts_for(tokenizer, n: int, tokens: int) -> list[list[int]]:
    """Token ids of ``n`` held-out stdlib prefixes cut at a line end near ``tokens`` tokens."""
    from models.corpus import heldout_prompts

    return [tokenizer.encode(p) for p in heldout_prompts(tokenizer, n, prompt_tokens=tokens)]


# ------------------------------------------------------------------------------------------ the latency model


def verify_segments(ctx: int, tp: int, rows: int = BLOCK, setup: tp_timeline.Setup | None = None,
                    ccl: tp_timeline.CCL = DEFAULT_CCL) -> tp_timeline.Segments:
    """One layer of a ``rows``-row verification step on one device of a TP-``tp`` group (tp 1: one chip holding
    the whole model): :func:`models.alspec.tp_timeline.segments` with the block's attention and per-row layout ops.
    ``setup.kernels == "ttnn"``: the attention at ttnn's FlashDecode anchor with the block's KV read once (a
    DRAM-bound SDPA over a shared cache costs what one row costs), the rest as ``cycle``."""
    setup = setup or tp_timeline.Setup(model=LATENCY_MODEL)
    s = tp_timeline.segments(ctx, tp, replace(setup, batch=rows), ccl)
    if setup.kernels == "ttnn":  # the KV read once per block: the attention of one row (batch 1)
        one = tp_timeline.segments(ctx, tp, setup, ccl)
        return replace(s, attn=one.attn, attn_x=one.attn_x, spec=one.spec)
    d = dict(s.detail)
    m = tp_table.shard_params(setup.model, tp) if tp > 1 else None
    heads = (m["n_q"], m["n_kv"]) if m else (32, 8)
    p = dict(batch=1, n_q=heads[0], n_kv=heads[1], head_dim=128, s_max=ctx, pos=ctx - 1, chunk_size=setup.chunk,
             kv_dtype=setup.kv)
    fd = tp_table.block_attention("flash_decode", rows, p)
    sp = tp_table.block_attention("speculative_decode", rows, p)
    part = tp_table.block_attention("flash_decode", rows, dict(p, s_max=2 * setup.chunk, pos=2 * setup.chunk - 1))
    launch = tp_timeline.figures(tp_timeline.CHIP)["launch_us"].value
    extra_layout = (d["heads_to_groups"] + d["groups_to_heads"] - 2 * launch) * (rows - 1)
    extra_kv = (d["kv_update"] - launch) * (rows - 1)
    layout = d["heads_to_groups"] + d["groups_to_heads"] + extra_layout
    d.update(block_flash_decode=fd, block_speculative_decode=sp, block_spec_part=part, block_layout_extra=extra_layout,
             block_kv_update_extra=extra_kv)
    return replace(s, pre=s.pre + extra_kv, attn=layout + fd, attn_x=layout + sp, spec=layout + part, detail=d)


def verify_latency(ctx: int, block_hit_rate: float, rows: int = BLOCK, ccl: tp_timeline.CCL = DEFAULT_CCL,
                   kernels: str = "cycle") -> dict:
    """Modelled ms of one verification step of ``rows`` rows at context ``ctx``: one chip (exact) and an n300 pair
    (ALSpec), TP-8 (exact) and ALSpec 4+4, at ``block_hit_rate`` (the share of layers whose rows all hit);
    ``kernels``: "cycle" (TT-Lang kernels) or "ttnn" (the block's attention at ttnn's FlashDecode anchor)."""
    L = tp_timeline.perf_decoder.shape(LATENCY_MODEL)["layers"]
    setup = tp_timeline.Setup(model=LATENCY_MODEL, kernels=kernels)
    out = {"ctx": ctx, "block_hit_rate": block_hit_rate, "kernels": kernels}
    for name, tp, base in (("pair", 1, "one_chip"), ("tp4x2", 4, "tp8")):
        s = verify_segments(ctx, tp, rows, setup, ccl)
        ref = s if tp == 1 else verify_segments(ctx, 8, rows, setup, ccl)
        out[f"{base}_exact_ms"] = (L * ref.single + ref.final) / 1e3
        out[f"{name}_alspec_ms"] = (L * s.expected(block_hit_rate) + s.final) / 1e3
        out[f"{name}_speedup"] = out[f"{base}_exact_ms"] / out[f"{name}_alspec_ms"]
    return out


# ------------------------------------------------------------------------------------------ runs


def _agreement(got: list[int], want: list[int]) -> tuple[float, int]:
    n = min(len(got), len(want))
    eq = [a == b for a, b in zip(got[:n], want[:n])]
    prefix = next((i for i, e in enumerate(eq) if not e), n)
    return (sum(eq) / n if n else 1.0), prefix


@torch.inference_mode()
def reference_grid(model, draft, prompts: list[list[int]], new_tokens: int, lambdas, chunks, log=print) -> dict:
    from models.alspec.reference import generate as alspec_generate
    from models.speculative import DFlashRunner, speculative_generate
    from models.targets import TorchTarget
    from reference.decoder import greedy_generate

    t0 = time.perf_counter()
    plain, greedy = [], []
    for p in prompts:
        t = TorchTarget(model)
        plain.append(speculative_generate(t, DFlashRunner(draft, t), p, new_tokens))
        greedy.append(greedy_generate(model, torch.tensor([p]), new_tokens)[0, len(p):].tolist())
    lossless = all(g.tokens == w[:len(g.tokens)] for g, w in zip(plain, greedy))
    steps = sum(g.verify_steps for g in plain)
    base = {"tau": sum(g.emitted for g in plain) / steps, "verify_steps": steps, "lossless_vs_greedy": lossless}
    log(f"plain DFlash: tau {base['tau']:.3f} over {steps} verify steps, lossless vs greedy: {lossless}")
    runs = []
    for S in chunks:
        for lam in lambdas:
            stats = BlockStats(model.config.num_layers, S)
            gens, agree, prefix, ident, agree_al, ident_al = [], [], [], 0, [], 0
            for p, g0 in zip(prompts, plain):
                t = ALSpecTorchTarget(model, lam, S)
                g = speculative_generate(t, DFlashRunner(draft, t), p, new_tokens)
                stats.merge(t.hook.stats)
                gens.append(g)
                a, pre = _agreement(g.tokens, g0.tokens)
                agree.append(a)
                prefix.append(pre)
                ident += g.tokens == g0.tokens
                al, _ = alspec_generate(model, torch.tensor([p]), new_tokens, lam, S)
                al = al[0, len(p):].tolist()
                a2, _ = _agreement(g.tokens, al)
                agree_al.append(a2)
                ident_al += g.tokens == al[:len(g.tokens)]
            steps = sum(g.verify_steps for g in gens)
            s = stats.summary()
            run = {"chunk": S, "lambda": lam, "tau": sum(g.emitted for g in gens) / steps, "verify_steps": steps,
                   "agreement_with_plain": sum(agree) / len(agree), "identical_prompts": ident,
                   "mean_common_prefix": sum(prefix) / len(prefix),
                   "agreement_with_alspec_decoding": sum(agree_al) / len(agree_al),
                   "identical_to_alspec_decoding": ident_al, **s,
                   "latency": [verify_latency(c, s["block_hit_rate"] or 0.0, kernels=k) for c in LATENCY_CONTEXTS
                               for k in ("cycle", "ttnn")]}
            runs.append(run)
            log(f"S={S:>3} lambda={lam:<5g} tau {run['tau']:.3f}  agreement {run['agreement_with_plain']:.3f} "
                f"({ident}/{len(prompts)} identical, prefix {run['mean_common_prefix']:.1f})  vs ALSpec decoding "
                f"{run['agreement_with_alspec_decoding']:.3f}  hit rows {s['row_hit_rate']:.3f} blocks "
                f"{s['block_hit_rate']:.3f}")
    return {"plain": base, "runs": runs, "seconds": time.perf_counter() - t0}


@torch.inference_mode()
def kernel_runs(model, draft, prompt: list[int], new_tokens: int, lambdas, chunk: int, log=print) -> dict:
    """Short DFlash runs on the TT-Lang kernels (simulator): plain, the speculative kernel's exact output, ALSpec."""
    from ttl_kernels import runtime

    runtime.use_backend("sim")
    from models.dflash_step import StepDFlashRunner
    from models.speculative import speculative_generate

    out, ref = [], None
    cases = [("plain (flash_decode)", None, True), ("speculative kernel, exact output", 0.0, False)]
    cases += [(f"ALSpec lambda {lam:g}", lam, True) for lam in lambdas]
    for name, lam, select in cases:
        t0 = time.perf_counter()
        t = kernel_target(model, lam, chunk, max_seq_len=len(prompt) + new_tokens + 2 * BLOCK, dtype="bf16",
                          select=select, mask_token_id=draft.config.mask_token_id)
        g = speculative_generate(t, StepDFlashRunner(draft, t), prompt, new_tokens)
        ref = ref or g.tokens
        a, pre = _agreement(g.tokens, ref)
        r = {"run": name, "lambda": lam, "select": select, "tau": g.tau, "verify_steps": g.verify_steps,
             "tokens": g.tokens, "agreement_with_plain": a, "common_prefix": pre, "identical": g.tokens == ref,
             "seconds": time.perf_counter() - t0}
        if lam is not None:
            r.update(t.hook.stats.summary())
        out.append(r)
        log(f"sim {name}: tau {g.tau:.3f}, {'identical to' if r['identical'] else 'differs from'} plain "
            f"(agreement {a:.3f}), {r['seconds']:.0f} s" + (f", hit rows {r['row_hit_rate']:.3f}" if lam is not None
                                                              else ""))
    exact = next(r for r in out if r["select"] is False)
    zero = next((r for r in out if r["lambda"] == 0.0 and r["select"]), None)
    return {"chunk": chunk, "prompt_tokens": len(prompt), "new_tokens": new_tokens, "dtype": "bf16", "runs": out,
            "lambda0_equals_kernel_exact": zero is not None and zero["tokens"] == exact["tokens"]}


# ------------------------------------------------------------------------------------------ report


def markdown(doc: dict) -> str:
    g = doc["reference"]
    out = ["# ALSpec inside DFlash verification", "",
           f"Target `{TARGET}` + draft `{DRAFT}` (block {BLOCK}), greedy, {doc['prompts']} held-out prompts of "
           f"{doc['prompt_tokens_min']}-{doc['prompt_tokens_max']} tokens, {doc['new_tokens']} new tokens; reference "
           "model (fp32).  Written by `python -m models.alspec.dflash_runs`.", "",
           "Per row of a verification block and per layer: the sink + recent attention when its verdict "
           "`||O - O_spec||^2 <= lambda^2 ||O||^2` (all heads of the row) hits, else the exact attention; both from "
           "one pass, nothing recomputed; the cache, the taps for the draft and the accept / reject follow from the "
           "chosen outputs.  lambda 0 is bit-identical to plain DFlash (tested).", "",
           f"Plain DFlash: tau {g['plain']['tau']:.3f} over {g['plain']['verify_steps']} verify steps; lossless vs "
           f"plain greedy: {g['plain']['lossless_vs_greedy']}.", "",
           f"Modelled verification step ({LATENCY_MODEL}, B = {BLOCK}, n150 chips, traced) at the run's block hit "
           "rate (layers whose 16 rows all hit): speedup of an n300 pair with ALSpec over one chip at 32K, and of "
           "ALSpec 4+4 over TP-8 at 128K, with the TT-Lang kernels (cycle model) / the block's attention at ttnn's "
           "FlashDecode anchor (milliseconds: the next table).", "",
           "| S | lambda | tau | agreement with plain | identical prompts | mean common prefix | = ALSpec decoding | "
           "row hit rate | block hit rate | pair vs 1 chip @32K (cycle / ttnn) | 4+4 vs TP-8 @128K (cycle / ttnn) |",
           "|" + "---|" * 11]
    for r in g["runs"]:
        lat = {(x["kernels"], x["ctx"]): x for x in r["latency"]}
        out.append(f"| {r['chunk']} | {r['lambda']:g} | {r['tau']:.3f} | {r['agreement_with_plain']:.3f} | "
                   f"{r['identical_prompts']}/{doc['prompts']} | {r['mean_common_prefix']:.1f} | "
                   f"{r['identical_to_alspec_decoding']}/{doc['prompts']} | {r['row_hit_rate']:.3f} | "
                   f"{r['block_hit_rate']:.3f} | {lat['cycle', 32768]['pair_speedup']:.3f} / "
                   f"{lat['ttnn', 32768]['pair_speedup']:.3f} | {lat['cycle', 131072]['tp4x2_speedup']:.3f} / "
                   f"{lat['ttnn', 131072]['tp4x2_speedup']:.3f} |")
    out += ["", "## The verification-step model across contexts", "",
            "Kernels `cycle`: TT-Lang kernels on the cycle model (the block's flash decode reads the KV once per "
            "row: compute-bound, ~16x one row); `ttnn`: the block's attention at ttnn's FlashDecode anchor with the KV "
            "read once per block.", "",
            "| kernels | ctx | block hit rate | 1 chip exact ms | pair ALSpec ms | pair speedup | TP-8 exact ms | "
            "ALSpec 4+4 ms | 4+4 speedup |", "|" + "---|" * 9]
    for x in doc["latency_grid"]:
        out.append(f"| {x['kernels']} | {x['ctx'] // 1024}K | {x['block_hit_rate']:g} | {x['one_chip_exact_ms']:.1f} | "
                   f"{x['pair_alspec_ms']:.1f} | {x['pair_speedup']:.3f} | {x['tp8_exact_ms']:.1f} | "
                   f"{x['tp4x2_alspec_ms']:.1f} | {x['tp4x2_speedup']:.3f} |")
    chk = doc["block_check"]
    if chk:
        out += ["", "Block attention (16 rows of one sequence, simulator, n150): us per 1K tokens of context (the "
                "line the model extends): " + ", ".join(
                    f"{c['kernel']} {c['n_q']}q/{c['n_kv']}kv {c['us_per_1k_tokens']:.1f}"
                    + (f" (middle point {100 * c['max_rel_off_line']:.2f}% off the line)"
                       if c["max_rel_off_line"] is not None else "") for c in chk)]
    if doc.get("sim"):
        s = doc["sim"]
        out += ["", f"## On the TT-Lang kernels (simulator): S = {s['chunk']}, {s['prompt_tokens']}-token prompt, "
                    f"{s['new_tokens']} new tokens, bf16", "",
                "| run | tau | identical to plain | agreement | row hit rate | block hit rate | seconds |",
                "|---|---|---|---|---|---|---|"]
        for r in s["runs"]:
            hr = f"{r['row_hit_rate']:.3f} | {r['block_hit_rate']:.3f}" if r["lambda"] is not None else "- | -"
            out.append(f"| {r['run']} | {r['tau']:.3f} | {r['identical']} | {r['agreement_with_plain']:.3f} | {hr} | "
                       f"{r['seconds']:.0f} |")
        out += ["", f"lambda 0 equals verification through the speculative kernel's exact output: "
                    f"{s['lambda0_equals_kernel_exact']}."]
    out += ["", "## Assumptions", ""] + [f"* {a}" for a in ASSUMPTIONS]
    return "\n".join(out) + "\n"


ASSUMPTIONS = [
    "Hit rates come from the tiny 4-layer coder at ~400-token contexts; the latency model applies their per-layer "
    "mean to Qwen3-8B (36 layers) at 8K-128K: an extrapolation (a longer context leaves more keys outside sink + "
    "recent, so real rates there are likely lower).",
    "A verification layer takes ALSpec's hit timeline only when all 16 rows hit (the sender can skip its "
    "post-attention work only then); the per-row choice still decides the values.",
    "Block attention: measured on the simulator for 16 rows at 1-4K (full heads) and 1-2K (TP shards), affine in the "
    "context beyond (a 16-row block keeps every core busy from 1K: the measured points lie on a line whose slope is "
    "proportional to the KV heads); the single-row kernels of a shard are merge-bound and do not follow the block.",
    "Per-row layout ops (heads <-> groups, KV update) scale with the rows; projections and row kernels take one "
    "32-row tile as for one row; CCL and link figures, fixed 5 us per transfer, tile rows: as models/alspec/"
    "tp_timeline.py.",
    "Draft time is not in the verification step (the same with and without ALSpec).",
    "Qwen3-8B on one n150 chip (bfp8_b weights ~8.7 GB + a bf16 KV cache) fits 12 GB only up to ~16K; the one-chip and "
    "pair rows beyond are what-ifs, as in models/alspec/latency.py.",
]


def main(argv=None) -> int:
    env.apply_defaults()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=int, default=6)
    ap.add_argument("--prompt-tokens", type=int, default=384)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--lambdas", default="0,0.05,0.1,0.2,0.5")
    ap.add_argument("--chunks", default="32,64,128")
    ap.add_argument("--sim", action="store_true", help="also run on the TT-Lang kernels (simulator; minutes)")
    ap.add_argument("--sim-lambdas", default="0,0.1,0.5")
    ap.add_argument("--sim-new-tokens", type=int, default=24)
    ap.add_argument("--sim-chunk", type=int, default=32)
    ap.add_argument("--json", default=str(RESULTS / "alspec_in_dflash.json"))
    ap.add_argument("--markdown", default=str(RESULTS / "alspec_in_dflash.md"))
    ap.add_argument("--render", action="store_true", help="only rewrite --markdown from the existing --json")
    a = ap.parse_args(argv)
    if a.render:
        Path(a.markdown).write_text(markdown(json.loads(Path(a.json).read_text())))
        return 0
    model, draft, tok = load_pair()
    prompts = prompts_for(tok, a.prompts, a.prompt_tokens)
    lambdas = [float(x) for x in a.lambdas.split(",")]
    doc = {"target": TARGET, "draft": DRAFT, "prompts": len(prompts), "prompt_tokens_min": min(map(len, prompts)),
           "prompt_tokens_max": max(map(len, prompts)), "new_tokens": a.new_tokens, "latency_model": LATENCY_MODEL,
           "block": BLOCK, "assumptions": ASSUMPTIONS, "block_check": tp_table.block_check(),
           "reference": reference_grid(model, draft, prompts, a.new_tokens, lambdas,
                                       [int(c) for c in a.chunks.split(",")]),
           "latency_grid": [verify_latency(c, h, kernels=k) for k in ("cycle", "ttnn")
                            for c in (8192, 16384, 32768, 65536, 131072) for h in (0.0, 0.5, 1.0)]}
    if a.sim:
        doc["sim"] = kernel_runs(model, draft, prompts[0], a.sim_new_tokens,
                                 [float(x) for x in a.sim_lambdas.split(",")], a.sim_chunk)
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(doc, indent=1) + "\n")
    if a.markdown:
        Path(a.markdown).write_text(markdown(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
