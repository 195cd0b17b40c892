"""Qwen3 target + DFlash block draft: speculative decoding, measured against plain decoding in the same run.

    python models/qwen3_dflash.py                       # the embedded default (tiny trained coder + its draft)
    python models/qwen3_dflash.py --target DIR --draft DIR --prompt "def fib(n):" --max-new-tokens 128
    python models/qwen3_dflash.py --backend sim          # the target runs on the TT-Lang kernels (simulator)
    python models/qwen3_dflash.py --alspec               # ALSpec sweep on the same target (see models/llama_alspec.py)

For every prompt the target first decodes plainly, then speculatively with the draft (same prompt, same
sampling, same seed); the table reports tau (tokens kept per verify step, bonus included), the acceptance
rate, per-position acceptance, the histogram of accepted proposals, verify steps, tokens/s and the speedup of
speculative over plain decoding measured side by side.  At temperature 0 the two outputs must be equal
token for token (checked and reported).  Exit status: 0 lossless, 1 a failed run (or not lossless at T=0),
2 a bad argument.
"""

from __future__ import annotations

import sys

from ttl_kernels import env

env.apply_defaults()  # before torch loads (OpenMP reads OMP_WAIT_POLICY then)

import argparse
import json
from pathlib import Path

import torch

from models import projection
from models.cli import ArgumentParser, UsageError, add_common_args, existing_dir, int_in, load_prompts, run_main
from models.compare import print_report, run_comparison
from models.dflash import MAX_BLOCK, DFlashConfig, DFlashDraft
from models.dflash_step import StepDFlashRunner
from models.fast_torch import FastDFlashRunner
from models.memory import fit_report
from models.speculative import auto_block_size
from models.targets import load_target
from reference import registry

DEFAULT_TARGET = "tiny-qwen3-coder"
DEFAULT_DRAFT = "tiny-qwen3-coder-dflash-b16"


def random_draft(target, block_size: int, seed: int = 0) -> DFlashDraft:
    """A deterministic random-weight DFlash draft shaped for ``target`` (used until a trained one exists)."""
    c = target.config
    n = c.num_layers
    taps = sorted({1 % n, max(n // 2, 0), max(n - 2, 0)})
    cfg = DFlashConfig.for_target(c, block_size=block_size, target_layer_ids=taps, mask_token_id=target.mask_token_id)
    torch.manual_seed(seed)
    return DFlashDraft(cfg).eval()


def block_size_arg(text: str):
    """argparse type of --block-size: 'auto', 'draft' or an int in 2..MAX_BLOCK."""
    if text in ("auto", "draft"):
        return text
    try:
        return int_in(2, MAX_BLOCK)(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected 'auto', 'draft' or an integer in 2..{MAX_BLOCK}; got {text!r}") \
            from None


def parse_args(argv: list[str]):
    ap = ArgumentParser(prog="qwen3_dflash.py", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap, default_target=registry.checkpoint(DEFAULT_TARGET))
    ap.add_argument("--draft", type=existing_dir, default=None,
                    help=f"z-lab-format DFlash draft directory (default: {registry.checkpoint(DEFAULT_DRAFT)})")
    ap.add_argument("--block-size", type=block_size_arg, default="auto",
                    help=f"draft block size, 2..{MAX_BLOCK}, or 'auto' (default): chosen from this run's measured step "
                         "costs and the draft's acceptance on a warm-up prompt; 'draft': the draft's own")
    return ap.parse_args(argv)


def check_context(a, target, tokenizer, prompts: list[str], k: int) -> None:
    """The longest prompt + the new tokens + one draft block must fit the kernel model's KV cache."""
    ops = getattr(target, "ops", None)
    if ops is None:
        return
    need = max(len(tokenizer.encode(p)) for p in prompts) + a.max_new_tokens + k + 2
    if need > ops.max_seq_len:
        raise UsageError(f"--max-seq-len: the longest prompt + --max-new-tokens + a draft block need {need} positions; "
                         f"the kernel model has {ops.max_seq_len} (raise --max-seq-len or shorten the run)")


def on_silicon(report: dict, block: int) -> dict | None:
    """The run's tau on an n150 / p150 (cycle model, :mod:`models.projection`): the run's own target shape, Qwen3-8B
    and Llama-3.1-8B, traced and eager; plus, labelled a what-if, Qwen3-8B at z-lab's published figure."""
    if not projection.TABLE.is_file():
        return None
    tau = next(iter(report["summary"].values()))["tau"]
    rows = projection.project(tau, block)
    what_if = projection.project(projection.ZLAB_TAU_QWEN3_8B, 16, setups=("qwen3-8b",))
    head = (f"on silicon (cycle model, ctx {projection.CTX}, {projection.PRECISION} weights): plain decoding vs "
            f"DFlash at this run's tau {tau:.2f}, block {rows[0]['block']}")
    zlab = (f"what-if: Qwen3-8B at tau {projection.ZLAB_TAU_QWEN3_8B} (z-lab's published lossless speedup; tau is at "
            "least that), block 16")
    text = projection.format_rows(rows, head) + "\n" + projection.format_rows(what_if, zlab)
    return {"tau": tau, "rows": rows, "what_if_zlab_qwen3_8b": what_if, "text": text}


def main(argv: list[str]) -> int:
    if "--alspec" in argv:  # ALSpec sweep on this entry's target (options of models/llama_alspec.py)
        argv = [x for x in argv if x != "--alspec"]
        from models.llama_alspec import main as alspec_main

        return alspec_main(argv, default_target=registry.checkpoint(DEFAULT_TARGET), fallback_arch="qwen3")
    a = parse_args(argv)
    target, tokenizer, notes = load_target(a.target, registry.checkpoint(DEFAULT_TARGET), a.backend,
                                           max_seq_len=a.max_seq_len, seed=a.seed, weights_dtype=a.weights_dtype)
    prompts = load_prompts(a, tokenizer)
    default_draft = registry.checkpoint(DEFAULT_DRAFT)
    if a.draft is not None or default_draft.exists():
        draft_dir = a.draft or default_draft
        draft = DFlashDraft.from_pretrained(draft_dir).eval()
        draft_name = f"dflash ({draft_dir.name})"
    else:
        if target.mask_token_id is None:
            raise UsageError("--target: its tokenizer has no <|MASK|> token, which a DFlash draft needs")
        draft = random_draft(target, a.block_size if isinstance(a.block_size, int) else 16, a.seed)
        draft_name = "dflash (random weights)"
        notes.append("no trained DFlash draft found: the draft has deterministic random weights, so tau is meaningless "
                     "(expect ~1.0); train one with `make train`.")
    # the draft runs where the target runs: the fast torch path next to the torch target, draft_step on the
    # kernels (draft cache and taps on the device) next to the kernel target
    make_runner = FastDFlashRunner if a.backend == "torch" else StepDFlashRunner
    block, auto = a.block_size, None
    if block == "auto" and a.backend == "torch":
        auto = auto_block_size(target, draft, tokenizer, make_runner, draft_name)
        block = auto["block"]
        notes.append(f"--block-size auto chose {block} (modelled from this machine's step costs and the draft's "
                     "acceptance on a validation-split warm-up prompt)")
    block = None if block in ("auto", "draft") else block
    runner = make_runner(draft, target, block_size=block, name=draft_name)
    check_context(a, target, tokenizer, prompts, runner.k)
    report = run_comparison(target, {draft_name: runner}, prompts, tokenizer, a)
    report["notes"] = notes
    report["block_size"] = {"chosen": runner.k + 1, "auto": auto}
    if a.backend != "torch":  # what the run's model needs on one chip, at this context length and precision
        report["device_memory"] = fit_report(target.config, weights_dtype=a.weights_dtype,
                                             act_dtype=target.ops.dtype, kv_dtype=target.ops.kv_dtype,
                                             max_seq_len=target.ops.max_seq_len, draft=draft.config)
    report["on_silicon"] = on_silicon(report, runner.k + 1)
    print_report(report, tokenizer, a)
    if report["on_silicon"]:
        print("\n" + report["on_silicon"]["text"])
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(report, indent=1))
        print(f"wrote {a.json}")
    return 0 if report["lossless_ok"] else 1


if __name__ == "__main__":
    sys.exit(run_main(main, prog="qwen3_dflash.py"))
