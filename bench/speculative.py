"""Speculative decoding on the project's tiny trained Qwen3 coder: our loop's drafts next to HF transformers' peers.

    python bench/speculative.py                                   # torch backend (section 2 of the report)
    python bench/speculative.py --backend sim                     # the target on the TT-Lang kernels (section 3)
    python bench/speculative.py --num-prompts 2 --max-new-tokens 16 --methods plain,dflash-b16

Torch backend (CPU), every method on the SAME held-out prompts (:func:`models.corpus.heldout_prompts`), the
same ``--max-new-tokens``, greedy:

  ours  plain          plain decoding of the target (:func:`models.speculative.plain_generate`), the baseline
  ours  layer-skip     self-draft: the target's first ``--skip-layers`` layers + its head, ``--skip-k`` tokens
                       (a comma list of layer counts runs one method per count: layer-skip-<n>)
  ours  small-draft    the small separate draft (``checkpoints/tiny-qwen3-coder-draft``), ``--k`` tokens
  ours  dflash-b8/-b16 the DFlash block draft ``checkpoints/tiny-qwen3-coder-dflash-b16`` at block 16 and block 8
                       (``checkpoints/tiny-qwen3-coder-dflash-b8`` or ``--dflash-b8`` when a separate one exists)
  ours  dflash-auto    the block-16 draft at the block ``make run`` would choose on this machine
                       (:func:`models.speculative.choose_block_size`: acceptance on a validation-split warm-up prompt,
                       draft + verify timed per candidate block; torch backend)
  hf    hf-generate    transformers ``generate`` on the same checkpoint (greedy)
  hf    hf-assisted    ``generate(assistant_model=<the same small draft>)`` (transformers' default schedule
                       unless ``--hf-assist-k`` pins a constant number of draft tokens)
  hf    hf-prompt-lookup ``generate(prompt_lookup_num_tokens=--prompt-lookup)``

Timing: the methods run interleaved per prompt (prompt i runs them in an order rotated by i) so they share
the machine's noise; every speedup is a ratio of tokens/s measured in this run (absolute times on a shared
CPU are noise).  Each method is warmed up once before timing.  tau = tokens kept per target verify step
(ours: bonus included, prefill excluded); for the HF methods it is new tokens / target forwards (counted
with a forward hook; prefill included, HF fuses it with the first verification).  Every method's greedy
tokens are compared with our plain decode and every mismatch is reported (position, tokens), not hidden.

Sim backend (``--backend sim``): the target is :class:`models.kernel_model.KernelTarget` (every layer op a
TT-Lang kernel on the simulator; a verification block is ONE kernel decode step); default methods plain,
dflash-b16, dflash-b8 on 2 prompts x 16 tokens.  Reported: wall seconds per generated token and per target
step (simulator time, a cost model of nothing on hardware), tau, and token identity with the simulator's
plain decode and with the torch reference's plain decode.  About 1 s per plain step and 2-3 s per 16-row
verification step on a 2-core machine: the default takes ~2-3 minutes.

Missing checkpoints (before ``make train`` has run) are replaced by deterministic random models of the
same shapes, saved as HF directories in a temporary folder so the same loading code runs; the JSON and the
report say so in ``notes`` and the figures are then meaningless (tau ~1).  Writes ``--json`` and PNG plots
(tau histogram, per-position acceptance, speedup bars) next to it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ttl_kernels import env

env.apply_defaults()  # before torch loads: OMP_WAIT_POLICY, HF offline

import torch

from models.corpus import heldout_prompts, ood_prompts
from models.dflash_step import StepDFlashRunner
from models.fast_torch import FastDFlashRunner, FastTorchTarget
from models.sampling import SamplingParams
from models.speculative import (
    AutoregressiveDraft,
    Generation,
    auto_block_size,
    layer_skip,
    plain_generate,
    speculative_generate,
)
from models.targets import ByteTokenizer, TorchTarget
from reference import registry

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TOKENIZER_DIR = ROOT / "training" / "data" / "tokenizer"
DRAFT_DIR = "tiny-qwen3-coder-draft"  # the shipped small draft (not a registry name: no kernel runs it)
DEFAULT_DIRS = {
    "target": registry.checkpoint(registry.CHECKPOINTS["tiny-qwen3"]),
    "draft": registry.checkpoint(DRAFT_DIR),
    "dflash-b16": registry.checkpoint("tiny-qwen3-coder-dflash-b16"),
    "dflash-b8": registry.checkpoint("tiny-qwen3-coder-dflash-b8"),
}
OURS = ("plain", "layer-skip", "small-draft", "dflash-b8", "dflash-b16", "dflash-auto")
HF = ("hf-generate", "hf-assisted", "hf-prompt-lookup")
DEFAULT_METHODS = {"torch": OURS + HF, "sim": ("plain", "dflash-b16", "dflash-b8")}


def _rel(p: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


# ------------------------------------------------------------------------------------------ checkpoints


def stand_in_config(role: str) -> dict:
    """The HF config of a random stand-in for ``role`` (``target`` or ``draft``): the shipped checkpoint's (its shape
    comes from :mod:`reference.registry`, like every model shape of the project)."""
    if role == "target":
        d = registry.hf_dict("tiny-qwen3")
    else:
        d = json.loads((registry.checkpoint(DRAFT_DIR) / "config.json").read_text())
    return {k: v for k, v in d.items() if k not in ("architectures", "dtype", "torch_dtype", "transformers_version")}


def random_hf_checkpoint(out: Path, config: dict, seed: int) -> Path:
    """A deterministic random Qwen3 HF directory of the HF ``config`` (config, safetensors, the training tokenizer
    when present)."""
    from transformers import Qwen3Config, Qwen3ForCausalLM

    cfg = Qwen3Config.from_dict(config)
    torch.manual_seed(seed)
    m = Qwen3ForCausalLM(cfg).eval()
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() > 1:  # larger than HF's 0.02 init so greedy choices are not near-ties
                p.normal_(0, 0.05)
    m.save_pretrained(out, safe_serialization=True)
    if (TOKENIZER_DIR / "tokenizer.json").is_file():
        for f in TOKENIZER_DIR.iterdir():
            shutil.copy(f, out / f.name)
    return out


def resolve_dirs(a, tmp: Path, wanted: list[str]) -> tuple[dict[str, Path | None], dict[str, str], list[str]]:
    """Checkpoint directory per role the methods need (real, or a random stand-in in ``tmp``), a status per
    role, notes."""
    dirs: dict[str, Path | None] = {}
    status: dict[str, str] = {}
    notes: list[str] = []
    given = {"target": a.target, "draft": a.draft, "dflash-b16": a.dflash_b16, "dflash-b8": a.dflash_b8}
    needs = {"target": True, "draft": bool({"small-draft", "hf-assisted"} & set(wanted)),
             "dflash-b16": bool({"dflash-b16", "dflash-auto"} & set(wanted)), "dflash-b8": "dflash-b8" in wanted}
    for role, default in DEFAULT_DIRS.items():
        if not needs[role]:
            dirs[role] = None
            continue
        p = Path(given[role]) if given[role] else default
        b16 = Path(given["dflash-b16"]) if given["dflash-b16"] else DEFAULT_DIRS["dflash-b16"]
        if (p / "config.json").is_file():
            dirs[role], status[role] = p, f"trained: {_rel(p)}"
        elif role == "dflash-b8" and not given[role] and (b16 / "config.json").is_file():
            # the project ships one DFlash draft (block 16); block 8 runs it with 7 proposals per step
            dirs[role], status[role] = b16, f"trained: {_rel(b16)} run at block size 8 (no separate block-8 checkpoint)"
            notes.append(f"dflash-b8 is the block-16 draft ({_rel(b16)}) run with block size 8 (7 proposals per step): "
                         "the project trains one DFlash draft (training/run_drafts.sh)")
        elif given[role]:
            raise FileNotFoundError(f"--{role}: no checkpoint (config.json) at {str(p)!r}")
        else:
            dirs[role], status[role] = None, f"MISSING: {_rel(p)}"
    if dirs["target"] is None:
        dirs["target"] = random_hf_checkpoint(tmp / "random-target", stand_in_config("target"), a.seed)
        notes.append(f"no trained target at {_rel(DEFAULT_DIRS['target'])}: a deterministic random Qwen3 of the same "
                     "shape stands in; every acceptance / speedup figure below is meaningless until `make train` has "
                     "run")
    if needs["draft"] and dirs["draft"] is None:
        cfg = stand_in_config("draft")
        dirs["draft"] = random_hf_checkpoint(tmp / "random-draft", cfg, a.seed + 1)
        notes.append(f"no trained small draft at {_rel(DEFAULT_DIRS['draft'])}: a random "
                     f"{cfg['num_hidden_layers']}-layer Qwen3 stands in (small-draft and hf-assisted figures are "
                     "meaningless)")
    for b in ("dflash-b16", "dflash-b8"):
        if needs[b] and dirs[b] is None:
            notes.append(f"no trained DFlash draft at {_rel(DEFAULT_DIRS[b])}: random weights stand in ({b} tau ~1, "
                         "meaningless)")
    return dirs, status, notes


def load_decoder(path: Path):
    """(reference Decoder fp32, tokenizer or ByteTokenizer) from an HF directory."""
    from reference import FP32
    from reference.hf import load_pretrained, load_tokenizer

    model, _ = load_pretrained(path, dtype=FP32)
    try:
        tok = load_tokenizer(path)
    except FileNotFoundError:
        tok = ByteTokenizer()
    return model.eval(), tok


def load_hf(path: Path):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32).eval()


# ---------------------------------------------------------------------------------------------- methods


class Method:
    """One way to generate: ``run(ids) -> (tokens, seconds, stats)``."""

    def __init__(self, name: str, kind: str, description: str, fn):
        self.name, self.kind, self.description, self.fn = name, kind, description, fn

    def run(self, ids: list[int], max_new: int) -> tuple[list[int], float, dict]:
        return self.fn(ids, max_new)


def ours(name: str, description: str, target, draft, stop, params) -> Method:
    def fn(ids, max_new):
        g: Generation = (plain_generate(target, ids, max_new, params, stop) if draft is None
                         else speculative_generate(target, draft, ids, max_new, params, stop))
        st = {"verify_steps": g.verify_steps, "proposed": g.proposed, "accepted": g.accepted, "emitted": g.emitted,
              "histogram": g.histogram, "accepted_at": g.accepted_at}
        return g.tokens, g.seconds, st

    return Method(name, "ours", description, fn)


class ForwardCounter:
    def __init__(self, module):
        self.n = 0
        self.handle = module.register_forward_hook(self._hook)

    def _hook(self, *_):
        self.n += 1


def hf_method(name: str, description: str, model, stop, extra: dict, assistant=None) -> Method:
    from transformers import GenerationConfig

    tcount = ForwardCounter(model)
    dcount = ForwardCounter(assistant) if assistant is not None else None
    eos = list(stop) or None

    def fn(ids, max_new):
        gc = GenerationConfig(max_new_tokens=max_new, do_sample=False, eos_token_id=eos,
                              pad_token_id=eos[0] if eos else None, **extra)
        x = torch.tensor([ids])
        tcount.n = 0
        if dcount is not None:
            dcount.n = 0
        kw = {"assistant_model": assistant} if assistant is not None else {}
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), generation_config=gc, **kw)
        sec = time.perf_counter() - t0
        toks = out[0, len(ids):].tolist()
        st = {"target_forwards": tcount.n}
        if dcount is not None:
            st["draft_forwards"] = dcount.n
        return toks, sec, st

    return Method(name, "hf", description, fn)


def build_methods(a, wanted: list[str], dirs: dict, notes: list[str]):
    """(methods in order, target, tokenizer, info) for the backend."""
    from models.qwen3_dflash import random_draft

    model, tok = load_decoder(dirs["target"])
    try:
        mask = int(tok.convert_tokens_to_ids("<|MASK|>"))
    except (KeyError, TypeError, ValueError):
        mask = 1
    eos = getattr(tok, "eos_token_id", None)
    stop = [eos] if eos is not None else []
    ident = dict(name=_rel(dirs["target"]), stop_tokens=stop, mask_token_id=mask)
    if a.backend == "torch":  # our loop on the torch fast path (models/fast_torch.py), as the main job runs it
        target = FastTorchTarget(model, **ident)
    else:
        from ttl_kernels import runtime

        runtime.use_backend("sim")
        from models.kernel_model import KernelTarget

        target = KernelTarget(model, max_seq_len=a.prompt_tokens + a.max_new_tokens + 40, **ident)
    params = SamplingParams(0.0, None, None)
    info: dict = {"target": _rel(dirs["target"]), "target_layers": model.config.num_layers}
    methods = []
    small = None
    hf_target = hf_draft = None
    for name in wanted:
        if name == "plain":
            methods.append(ours(name, "plain decoding of the target (our loop)", target, None, stop, params))
        elif name == "layer-skip":
            for n in a.skip_layers:  # one method per kept-layer count (a sweep when several are given)
                label = name if len(a.skip_layers) == 1 else f"{name}-{n}"
                d = AutoregressiveDraft(layer_skip(model, n), a.skip_k, label)
                info.setdefault("layer_skip", []).append({"method": label, "layers": n, "of": model.config.num_layers,
                                                          "k": a.skip_k})
                methods.append(ours(label, f"self-draft: first {n} of {model.config.num_layers} target layers, "
                                           f"k={a.skip_k}",
                                    target, d, stop, params))
        elif name == "small-draft":
            small = small or load_decoder(dirs["draft"])[0]
            d = AutoregressiveDraft(small, a.k, name, target_vocab=model.config.vocab_size)
            info["small_draft"] = {"dir": _rel(dirs["draft"]), "layers": small.config.num_layers,
                                   "hidden": small.config.hidden_size, "k": a.k}
            methods.append(ours(name, f"small separate draft ({small.config.num_layers}L "
                                      f"H{small.config.hidden_size}), k={a.k}",
                                target, d, stop, params))
        elif name in ("dflash-b8", "dflash-b16", "dflash-auto"):
            from models.dflash import DFlashDraft

            role = "dflash-b16" if name == "dflash-auto" else name
            block = 16 if name == "dflash-auto" else int(name.split("-b")[1])
            if dirs[role] is not None:
                dd = DFlashDraft.from_pretrained(dirs[role]).eval()
                src = _rel(dirs[role])
            else:
                dd = random_draft(target, block, a.seed)
                src = "random weights"
            make = FastDFlashRunner if a.backend == "torch" else StepDFlashRunner
            auto = None
            if name == "dflash-auto":
                if a.backend != "torch":
                    raise ValueError("--methods: dflash-auto runs on the torch backend only (it times CPU steps)")
                auto = auto_block_size(target, dd, tok, make, name, a.prompt_tokens)
                block = auto["block"]
            runner = make(dd, target, block_size=block, name=name)
            trained_block = dd.config.block_size
            info[name] = {"dir": src, "block_size": block, "trained_block_size": trained_block,
                          "layers": dd.config.num_layers, "target_layer_ids": list(dd.config.target_layer_ids)}
            desc = f"DFlash block draft ({dd.config.num_layers}L), block {block} ({block - 1} proposals), {src}"
            if auto is not None:
                info[name]["auto"] = auto
                desc += " (block chosen by --block-size auto on this machine)"
            elif trained_block != block:
                desc += f" (trained at block {trained_block})"
            methods.append(ours(name, desc, target, runner, stop, params))
        elif name in HF:
            if a.backend != "torch":
                raise ValueError(f"--methods: {name} runs on the torch backend only")
            hf_target = hf_target or load_hf(dirs["target"])
            if name == "hf-generate":
                methods.append(hf_method(name, "transformers generate, greedy", hf_target, stop, {}))
            elif name == "hf-assisted":
                hf_draft = hf_draft or load_hf(dirs["draft"])
                if a.hf_assist_k:
                    hf_draft.generation_config.num_assistant_tokens = a.hf_assist_k
                    hf_draft.generation_config.num_assistant_tokens_schedule = "constant"
                    hf_draft.generation_config.assistant_confidence_threshold = 0.0
                    desc = (f"transformers assisted generation, the same small draft, constant {a.hf_assist_k} "
                            "draft tokens")
                else:
                    desc = "transformers assisted generation, the same small draft, transformers' default schedule"
                gcd = hf_draft.generation_config
                info["hf_assisted"] = {"num_assistant_tokens": gcd.num_assistant_tokens,
                                       "num_assistant_tokens_schedule": gcd.num_assistant_tokens_schedule,
                                       "assistant_confidence_threshold": gcd.assistant_confidence_threshold,
                                       "note": "None = transformers' default (20 tokens, constant, confidence 0.4)"}
                methods.append(hf_method(name, desc, hf_target, stop, {}, assistant=hf_draft))
            else:
                extra = {"prompt_lookup_num_tokens": a.prompt_lookup}
                info["hf_prompt_lookup"] = {"prompt_lookup_num_tokens": a.prompt_lookup}
                desc = f"transformers prompt lookup, {a.prompt_lookup} tokens"
                methods.append(hf_method(name, desc, hf_target, stop, extra))
        else:
            raise ValueError(f"--methods: unknown method {name!r}; expected some of {', '.join(OURS + HF)}")
    return methods, target, model, tok, info


# ------------------------------------------------------------------------------------------------ the run


def first_mismatch(a: list[int], b: list[int]) -> dict | None:
    if a == b:
        return None
    i = next((j for j, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return {"position": i, "expected": a[i:i + 4], "got": b[i:i + 4], "expected_len": len(a), "got_len": len(b)}


def run(a) -> dict:
    t_start = time.perf_counter()
    try:  # transformers' assisted generation warns about its own internal generate call on every prompt
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
    except ImportError:
        pass
    if a.threads:
        torch.set_num_threads(a.threads)
    wanted = [m for m in (a.methods.split(",") if a.methods else DEFAULT_METHODS[a.backend]) if m]
    if "plain" not in wanted:
        wanted = ["plain"] + wanted  # the baseline every ratio and identity check refers to
    tmp = Path(tempfile.mkdtemp(prefix="bench-spec-"))
    try:
        dirs, status, notes = resolve_dirs(a, tmp, wanted)
        methods, target, model, tok, info = build_methods(a, wanted, dirs, notes)
        trained = status["target"].startswith("trained")
        info["target"] = status["target"] if trained else "random stand-in (no trained target)"
        if a.prompt_set == "ood":
            prompts = ood_prompts(tok, a.num_prompts, a.prompt_tokens)
        else:
            prompts = heldout_prompts(tok, a.num_prompts, a.prompt_tokens)
        info["prompt_set"] = a.prompt_set
        if isinstance(tok, ByteTokenizer):
            notes.append("no tokenizer: byte-level stand-in tokenizer")
        if len(prompts) < a.num_prompts:
            notes.append(f"only {len(prompts)} prompts available (asked for {a.num_prompts})")
        enc = [tok.encode(p) for p in prompts]
        mach = env.machine()
        print(f"# bench/speculative.py on {mach['node']} ({mach['cpu']}, {mach['torch_threads']} torch threads), "
              f"backend {a.backend}, {len(prompts)} prompts, {a.max_new_tokens} new tokens, greedy", flush=True)
        for n in notes:
            print("note:", n, flush=True)
        # warm-up: every method once on a short generation (first-call allocations, lazy imports, uploads)
        for m in methods:
            m.run(enc[0], min(4 if a.backend == "torch" else 2, a.max_new_tokens))
        reference_tokens = None
        if a.backend != "torch":  # the fp32 torch reference's greedy output, for the bf16-kernel identity check
            ref = TorchTarget(model)
            reference_tokens = [plain_generate(ref, ids, a.max_new_tokens, SamplingParams(), target.stop_tokens).tokens
                                for ids in enc]
        rows = []
        for i, ids in enumerate(enc):
            r = i % len(methods)
            order = methods[r:] + methods[:r]
            res = {}
            for m in order:
                toks, sec, st = m.run(ids, a.max_new_tokens)
                res[m.name] = {"tokens": toks, "seconds": sec, **st}
            base = res["plain"]["tokens"]
            for x in res.values():
                x["mismatch_vs_plain"] = first_mismatch(base, x["tokens"])
                if reference_tokens is not None:
                    x["mismatch_vs_torch_plain"] = first_mismatch(reference_tokens[i], x["tokens"])
            rows.append({"prompt": prompts[i], "prompt_tokens": len(ids), "order": [m.name for m in order],
                         "methods": res})
            print(f"[{i + 1}/{len(enc)}] " + " | ".join(
                f"{n} {len(x['tokens'])} tok {x['seconds']:.2f}s{'' if x['mismatch_vs_plain'] is None else ' MISMATCH'}"
                for n, x in res.items()), flush=True)
        summary = summarize(methods, rows, a.backend)
        doc = {
            "section": "speculative-" + a.backend,
            "command": "python bench/speculative.py " + " ".join(a.argv),
            "machine": mach,
            "when": time.strftime("%Y-%m-%d %H:%M:%S"),
            "backend": a.backend,
            "checkpoints": status,
            "settings": {"prompts": len(prompts), "prompt_tokens_max": a.prompt_tokens,
                         "max_new_tokens": a.max_new_tokens, "greedy": True, "interleaved": True, "warmup": True,
                         **info},
            "notes": notes,
            "methods": summary,
            "identical_all": all(s["identical_to_plain"] == s["prompts"] for s in summary.values()),
            "rows": rows,
        }
        if reference_tokens is not None:
            doc["identical_to_torch_all"] = all(s.get("identical_to_torch_plain") == s["prompts"]
                                                for s in summary.values())
        doc["seconds"] = round(time.perf_counter() - t_start, 1)
        return doc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def rate(x: dict) -> float:
    """Tokens per second of one generation record."""
    return len(x["tokens"]) / x["seconds"]


def summarize(methods, rows, backend: str) -> dict:
    out = {}
    plain_tok = sum(len(r["methods"]["plain"]["tokens"]) for r in rows)
    plain_s = sum(r["methods"]["plain"]["seconds"] for r in rows)
    hf_gen = [r["methods"].get("hf-generate") for r in rows]
    hf_tok = sum(len(x["tokens"]) for x in hf_gen if x) if all(hf_gen) else 0
    hf_s = sum(x["seconds"] for x in hf_gen if x) if all(hf_gen) else 0.0
    for m in methods:
        xs = [r["methods"][m.name] for r in rows]
        tok = sum(len(x["tokens"]) for x in xs)
        sec = sum(x["seconds"] for x in xs)
        tps = tok / sec if sec else 0.0
        s = {"kind": m.kind, "description": m.description, "prompts": len(xs), "tokens": tok, "seconds": round(sec, 4),
             "tokens_per_s": round(tps, 3), "seconds_per_token": round(sec / tok, 5) if tok else None,
             "speedup_vs_plain": round(tps / (plain_tok / plain_s), 4) if plain_s and plain_tok else None,
             "speedup_per_prompt": [round(rate(x) / rate(r["methods"]["plain"]), 4) for x, r in zip(xs, rows)
                                    if x["seconds"] and r["methods"]["plain"]["seconds"]],
             "identical_to_plain": sum(x["mismatch_vs_plain"] is None for x in xs),
             "mismatches": [{"prompt": i, **x["mismatch_vs_plain"]} for i, x in enumerate(xs)
                            if x["mismatch_vs_plain"]]}
        per_prompt = s["speedup_per_prompt"]
        s["speedup_per_prompt_median"] = round(statistics.median(per_prompt), 4) if per_prompt else None
        if hf_s and hf_tok:
            s["speedup_vs_hf_generate"] = round(tps / (hf_tok / hf_s), 4)
        if "mismatch_vs_torch_plain" in xs[0]:
            s["identical_to_torch_plain"] = sum(x["mismatch_vs_torch_plain"] is None for x in xs)
        if m.kind == "ours" and m.name != "plain":
            steps = sum(x["verify_steps"] for x in xs)
            acc = sum(x["accepted"] for x in xs)
            prop = sum(x["proposed"] for x in xs)
            k = len(xs[0]["histogram"]) - 1
            s.update({
                "k": k,
                "tau": round(sum(x["emitted"] for x in xs) / steps, 4) if steps else 1.0,
                "tau_definition": "tokens kept per target verify step (accepted + 1 bonus/correction; tokens a last "
                                  "step made past --max-new-tokens do not count; prefill excluded), as "
                                  "models.speculative.Generation.tau",
                "acceptance_rate": round(acc / prop, 4) if prop else 0.0,
                "per_position_acceptance": [round(sum(x["accepted_at"][j] for x in xs) / steps, 4) for j in range(k)]
                                           if steps else [],
                "histogram": [sum(x["histogram"][n] for x in xs) for n in range(k + 1)],
                "histogram_definition": "histogram[n] = verify steps that accepted n proposals (emitted n + 1 tokens)",
                "verify_steps": steps,
                "target_steps": steps + len(xs),  # + one prefill per prompt
            })
        elif m.name == "plain":
            s.update({"tau": 1.0, "target_steps": tok, "tau_definition": "one token per target forward"})
        else:  # HF: count forwards
            fw = sum(x["target_forwards"] for x in xs)
            s.update({"tau": round(tok / fw, 4) if fw else None, "target_steps": fw,
                      "tau_definition": "new tokens / target forwards (prefill included)"})
            if "draft_forwards" in xs[0]:
                s["draft_forwards"] = sum(x["draft_forwards"] for x in xs)
        if backend != "torch":
            s["seconds_per_target_step"] = round(sec / s["target_steps"], 4) if s.get("target_steps") else None
        out[m.name] = s
    return out


# ----------------------------------------------------------------------------------------------- output


def print_table(doc: dict) -> None:
    sim = doc["backend"] != "torch"
    print(f"\n{doc['command']}\n{doc['machine']['node']} ({doc['machine']['cpu']}, {doc['machine']['torch_threads']} "
          f"threads), {doc['settings']['prompts']} prompts x {doc['settings']['max_new_tokens']} new tokens, greedy")
    hdr = (f"{'method':<18} {'tau':>5} {'accept':>7} {'tok/s':>8} {'s/tok':>7} {'speedup':>8} {'vs HF gen':>9} "
           f"{'==plain':>8}")
    if sim:
        hdr += f" {'s/step':>7} {'==torch':>8}"
    print(hdr)
    for name, s in doc["methods"].items():
        acc = f"{s['acceptance_rate']:.1%}" if "acceptance_rate" in s else "-"
        hfv = f"{s['speedup_vs_hf_generate']:.2f}x" if "speedup_vs_hf_generate" in s else "-"
        tau = f"{s['tau']:.2f}" if s.get("tau") is not None else "-"
        line = (f"{name:<18} {tau:>5} {acc:>7} {s['tokens_per_s']:>8.2f} {s['seconds_per_token'] or 0:>7.3f} "
                f"{s['speedup_vs_plain']:>7.2f}x {hfv:>9} {s['identical_to_plain']:>4}/{s['prompts']:<3}")
        if sim:
            line += (f" {s.get('seconds_per_target_step') or 0:>7.2f} "
                     f"{s.get('identical_to_torch_plain', 0):>4}/{s['prompts']:<3}")
        print(line)
    for name, s in doc["methods"].items():
        if s.get("per_position_acceptance"):
            print(f"  {name}: per-position acceptance {' '.join(f'{x:.2f}' for x in s['per_position_acceptance'])}; "
                  f"histogram {s['histogram']}")
        for mm in s["mismatches"]:
            print(f"  !! {name} differs from plain on prompt {mm['prompt']} at token {mm['position']}: "
                  f"{mm['expected']} vs {mm['got']}")
    print("every method's greedy tokens identical to plain decoding:",
          "yes" if doc["identical_all"] else "NO (see above)")
    for n in doc["notes"]:
        print("note:", n)


def plots(doc: dict, stem: Path) -> list[str]:
    """The tau histograms, the per-position acceptance and the speedup bars, as ``<stem>_<plot>.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def save(fig, path: str) -> str:
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path

    files = []
    st = doc["settings"]
    title = f"{doc['backend']} backend, {st['prompts']} prompts x {st['max_new_tokens']} tokens"
    spec = {n: s for n, s in doc["methods"].items() if s.get("histogram")}
    if spec:
        cols = min(3, len(spec))
        rows_ = -(-len(spec) // cols)
        fig, axes = plt.subplots(rows_, cols, figsize=(3.8 * cols, 2.9 * rows_), squeeze=False)
        for ax in axes.flat[len(spec):]:
            ax.axis("off")
        for ax, (n, s) in zip(axes.flat, spec.items()):
            h = s["histogram"]
            tot = sum(h) or 1
            ax.bar(range(1, len(h) + 1), [x / tot for x in h], color="tab:blue")
            ax.axvline(s["tau"], color="k", ls="--", lw=1)
            ax.set(title=f"{n}: tau {s['tau']:.2f}", xlabel="tokens per verify step", ylabel="share of steps",
                   ylim=(0, 1.02))
            ax.title.set_fontsize(9)
        fig.suptitle(f"Tokens per verify step ({title})", fontsize=9)
        files.append(save(fig, f"{stem}_tau_hist.png"))

        fig, ax = plt.subplots(figsize=(6.5, 3.6))
        for n, s in spec.items():
            pp = s["per_position_acceptance"]
            ax.plot(range(1, len(pp) + 1), pp, marker="o", ms=3, label=n)
        ax.set(xlabel="draft position", ylabel="acceptance (share of steps)", ylim=(-0.02, 1.02),
               title=f"Per-position acceptance ({title})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        files.append(save(fig, f"{stem}_acceptance.png"))

    names = list(doc["methods"])
    fig, ax = plt.subplots(figsize=(1.0 + 0.9 * len(names), 3.8))
    sp = [doc["methods"][n]["speedup_vs_plain"] or 0 for n in names]
    colors = ["tab:gray" if n == "plain" else ("tab:orange" if doc["methods"][n]["kind"] == "hf" else "tab:blue")
              for n in names]
    ax.bar(range(len(names)), sp, color=colors)
    for i, n in enumerate(names):
        pp = doc["methods"][n]["speedup_per_prompt"]
        ax.plot([i] * len(pp), pp, "k.", ms=3)
        ax.text(i, sp[i], f"{sp[i]:.2f}x", ha="center", va="bottom", fontsize=7)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks(range(len(names)), names, rotation=35, ha="right", fontsize=8)
    ax.set(ylabel="tokens/s vs our plain decode (same run)",
           title=f"Speedup ({title}); blue ours, orange HF; dots per prompt")
    ax.title.set_fontsize(8)
    files.append(save(fig, f"{stem}_speedup.png"))
    return files


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=("torch", "sim"), default="torch")
    ap.add_argument("--methods", default="", help="comma-separated subset (torch default: "
                    f"{','.join(DEFAULT_METHODS['torch'])}; sim default: {','.join(DEFAULT_METHODS['sim'])})")
    ap.add_argument("--num-prompts", type=int, default=None, help="held-out prompts (default: 8 torch, 2 sim)")
    ap.add_argument("--prompt-set", choices=("heldout", "ood"), default="heldout",
                    help="held-out stdlib file prefixes, or 'ood': installed third-party package sources")
    ap.add_argument("--prompt-tokens", type=int, default=128,
                    help="prompt length cap (held-out file prefixes cut at a line end)")
    ap.add_argument("--max-new-tokens", type=int, default=None, help="default: 96 torch, 16 sim")
    ap.add_argument("--k", type=int, default=4, help="small separate draft: tokens per step")
    ap.add_argument("--skip-layers", default="2", help="layer-skip self-draft: target layers kept; a comma list runs "
                    "one method per value (layer-skip-<n>)")
    ap.add_argument("--skip-k", type=int, default=4, help="layer-skip self-draft: tokens per step")
    ap.add_argument("--prompt-lookup", type=int, default=10, help="HF prompt_lookup_num_tokens")
    ap.add_argument("--hf-assist-k", type=int, default=0, help="pin HF assisted generation to a constant number of "
                    "draft tokens (0: transformers' defaults)")
    ap.add_argument("--target", default=None)
    ap.add_argument("--draft", default=None, help="small separate draft HF directory")
    ap.add_argument("--dflash-b16", default=None)
    ap.add_argument("--dflash-b8", default=None)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (0: torch's default); 1 is steadier on a shared machine")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="default: bench/results/speculative_<backend>.json")
    ap.add_argument("--no-plots", action="store_true")
    a = ap.parse_args(argv)
    a.argv = argv
    try:
        a.skip_layers = [int(x) for x in str(a.skip_layers).split(",") if x.strip()]
    except ValueError:
        ap.error(f"--skip-layers: expected comma-separated integers; got {a.skip_layers!r}")
    if a.num_prompts is None:
        a.num_prompts = 8 if a.backend == "torch" else 2
    if a.max_new_tokens is None:
        a.max_new_tokens = 96 if a.backend == "torch" else 16
    if a.num_prompts < 1 or a.max_new_tokens < 1:
        ap.error("--num-prompts / --max-new-tokens: expected >= 1")
    try:
        doc = run(a)
    except (ValueError, FileNotFoundError) as e:
        ap.error(str(e))
    suffix = "" if a.prompt_set == "heldout" else f"_{a.prompt_set}"
    out = Path(a.json or RESULTS / f"speculative_{a.backend}{suffix}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    stem = out.with_suffix("")
    doc["plots"] = [] if a.no_plots else [_rel(Path(p)) for p in plots(doc, stem)]
    out.write_text(json.dumps(doc, indent=1))
    print_table(doc)
    print(f"wrote {out}" + "".join(f", {p}" for p in doc["plots"]) + f" ({doc['seconds']:.0f} s)")
    return 0 if doc["identical_all"] else 1


if __name__ == "__main__":
    sys.exit(main())
