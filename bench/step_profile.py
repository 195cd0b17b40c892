"""Milliseconds per step of the torch backend's speculative loop: the reference path against the fast path.

    python bench/step_profile.py                     # shipped tiny coder + its DFlash b16 draft, block 16
    python bench/step_profile.py --block 8 --reps 30 --json bench/results/step_profile.json

Three steps, each timed after the first held-out prompt of ``make run`` for both paths, interleaved rep by rep
(the two paths share the machine's noise), median over ``--reps``:

  plain    one target forward of one token (a plain decoding step)
  verify   one target forward of ``--block`` tokens (the verification of a DFlash block)
  draft    one DFlash proposal of ``--block - 1`` tokens after one newly accepted context row

``reference``: :class:`models.targets.TorchTarget` (the golden model, :mod:`reference.decoder`) with
:class:`models.speculative.DFlashRunner`; ``fast``: :class:`models.fast_torch.FastTorchTarget` with
:class:`models.fast_torch.FastDFlashRunner`, what ``make run`` uses.  A DFlash step costs draft + verify; the
ratio ``(draft + verify) / plain`` is how many plain steps one speculative step costs, so speculation wins when
tau exceeds it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ttl_kernels import env

env.apply_defaults()  # before torch loads

import argparse
import json
import statistics
import time

import torch

from bench.speculative import load_decoder
from models.corpus import heldout_prompts
from models.dflash import DFlashDraft
from models.fast_torch import FastDFlashRunner, FastTorchTarget
from models.speculative import DFlashRunner, ready_draft, steady_draft_step
from models.targets import TorchTarget
from reference import registry

TARGET, DRAFT = "tiny-qwen3-coder", "tiny-qwen3-coder-dflash-b16"
PATHS = {"reference": (TorchTarget, DFlashRunner), "fast": (FastTorchTarget, FastDFlashRunner)}


def step_timers(target_cls, runner_cls, model, draft, prompt: list[int], block: int) -> dict:
    """Closures that each run one step of one kind (state restored after it, so each call costs the same)."""
    target = target_cls(model)
    runner = runner_cls(draft, target, block_size=block)
    cache = target.new_cache(len(prompt) + 4 * block)
    _, taps = target.forward(list(prompt), cache, runner.taps)
    base = int(cache.lengths[0])
    ready_draft(runner, prompt, taps, cache.max_seq_len)

    def plain():
        target.forward([prompt[-1]], cache)
        cache.crop(base)

    def verify():
        target.forward([prompt[-1]] + prompt[-block + 1:], cache, runner.taps)
        cache.crop(base)

    def draft_step():
        steady_draft_step(runner, prompt, base, taps)

    return {"plain": plain, "verify": verify, "draft": draft_step}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--block", type=int, default=16, help="DFlash block size (verify rows; draft proposes block - 1)")
    ap.add_argument("--reps", type=int, default=30, help="timed repetitions per step kind and path (median)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--target", type=Path, default=None, help=f"target checkpoint (default: shipped {TARGET})")
    ap.add_argument("--draft", type=Path, default=None, help=f"DFlash draft checkpoint (default: shipped {DRAFT})")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    if not 2 <= a.block <= 16:
        ap.error(f"--block: expected 2..16 (the draft's trained block); got {a.block}")
    if a.reps < 3:
        ap.error(f"--reps: expected >= 3; got {a.reps}")
    if a.threads:
        torch.set_num_threads(a.threads)
    tdir, ddir = a.target or registry.checkpoint(TARGET), a.draft or registry.checkpoint(DRAFT)
    for flag, d in (("--target", tdir), ("--draft", ddir)):
        if not d.exists():
            print(f"error: {flag}: no checkpoint at {d} (run `make train`)", file=sys.stderr)
            return 1
    model, tokenizer = load_decoder(tdir)  # (a checkpoint without a tokenizer gets the byte-level stand-in)
    draft = DFlashDraft.from_pretrained(ddir).eval()
    prompt = tokenizer.encode(heldout_prompts(tokenizer, 1)[0])  # the first of make run's prompts
    timers = {p: step_timers(t, r, model, draft, prompt, a.block) for p, (t, r) in PATHS.items()}
    times = {p: {k: [] for k in ("plain", "verify", "draft")} for p in PATHS}
    with torch.inference_mode():
        for f in (f for t in timers.values() for f in t.values()):  # warm-up
            f()
        for _ in range(a.reps):
            for kind in ("plain", "verify", "draft"):
                for p in PATHS:  # interleaved: both paths see the same noise
                    t0 = time.perf_counter()
                    timers[p][kind]()
                    times[p][kind].append(time.perf_counter() - t0)
    ms = {p: {k: 1e3 * statistics.median(v) for k, v in kinds.items()} for p, kinds in times.items()}
    for m in ms.values():
        m["dflash_step_in_plain_steps"] = (m["draft"] + m["verify"]) / m["plain"]
    print(f"ms per step, median of {a.reps} (prompt {len(prompt)} tokens, block {a.block}, "
          f"{torch.get_num_threads()} torch threads)")
    print(f"{'path':<10} {'plain':>7} {'verify':>7} {'draft':>7} {'(draft+verify)/plain':>21}")
    for p, m in ms.items():
        cost = m["dflash_step_in_plain_steps"]
        print(f"{p:<10} {m['plain']:>7.2f} {m['verify']:>7.2f} {m['draft']:>7.2f} {cost:>21.2f}")
    speedup = {k: ms["reference"][k] / ms["fast"][k] for k in ("plain", "verify", "draft")}
    print("fast over reference: " + ", ".join(f"{k} {v:.2f}x" for k, v in speedup.items()))
    if a.json:
        doc = {"command": "python bench/step_profile.py " + " ".join(argv if argv is not None else sys.argv[1:]),
               "machine": env.machine(), "block": a.block, "reps": a.reps, "prompt_tokens": len(prompt),
               "threads": torch.get_num_threads(), "target": str(tdir), "draft": str(ddir),
               "ms": ms, "fast_over_reference": speedup}
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
