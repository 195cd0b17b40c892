"""Qwen3 target + DFlash block draft: speculative decoding, measured against plain decoding in the same run.

    python models/qwen3_dflash.py                       # the embedded default (tiny trained coder + its draft)
    python models/qwen3_dflash.py --target DIR --draft DIR --prompt "def fib(n):" --max-new-tokens 128
    python models/qwen3_dflash.py --backend sim          # the target runs on the TT-Lang kernels (simulator)
    python models/qwen3_dflash.py --alspec               # ALSpec sweep on the same target (see models/llama_alspec.py)

For every prompt the target first decodes plainly, then speculatively with the draft (same prompt, same
sampling, same seed); the table reports tau (tokens per verify step, bonus included), the acceptance rate,
per-position acceptance, the histogram of accepted proposals, verify steps, tokens/s and the speedup of
speculative over plain decoding measured side by side.  At temperature 0 the two outputs must be equal
token for token (checked and reported).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python models/qwen3_dflash.py` from a checkout
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from models.dflash import DFlashConfig, DFlashDraft  # noqa: E402
from models.runner import add_common_args, load_prompts, load_target, print_report, run_comparison  # noqa: E402
from models.speculative import DFlashRunner  # noqa: E402

DEFAULT_TARGET = ROOT / "checkpoints" / "tiny-qwen3-coder"
DEFAULT_DRAFT = ROOT / "checkpoints" / "tiny-qwen3-coder-dflash-b16"


def random_draft(target, block_size: int, seed: int = 0) -> DFlashDraft:
    """A deterministic random-weight DFlash draft shaped for ``target`` (used until a trained one exists)."""
    c = target.config
    n = c.num_layers
    taps = sorted({1 % n, max(n // 2, 0), max(n - 2, 0)})
    cfg = DFlashConfig(hidden_size=c.hidden_size, intermediate_size=c.intermediate_size, num_layers=1,
                       num_heads=c.num_heads, num_kv_heads=c.num_kv_heads, head_dim=c.head_dim, block_size=block_size,
                       mask_token_id=target.mask_token_id, target_layer_ids=taps, num_target_layers=n,
                       vocab_size=c.vocab_size, rms_norm_eps=c.rms_norm_eps, rope_theta=c.rope_theta)
    torch.manual_seed(seed)
    return DFlashDraft(cfg).eval()


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--alspec" in argv:  # ALSpec sweep on this entry's target (options of models/llama_alspec.py)
        argv.remove("--alspec")
        from models.llama_alspec import main as alspec_main

        return alspec_main(argv, default_target=DEFAULT_TARGET, fallback_arch="qwen3")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap, default_target=DEFAULT_TARGET)
    ap.add_argument("--draft", default=None, help=f"z-lab-format DFlash draft directory (default: {DEFAULT_DRAFT.relative_to(ROOT)})")
    ap.add_argument("--block-size", type=int, default=None, help="draft block size (default: the draft's own)")
    a = ap.parse_args(argv)

    target, tokenizer, notes = load_target(a)
    draft_dir = Path(a.draft) if a.draft else DEFAULT_DRAFT
    if draft_dir.exists():
        draft = DFlashDraft.from_pretrained(draft_dir).eval()
        draft_name = f"dflash ({draft_dir.name})"
    elif a.draft:
        raise FileNotFoundError(f"--draft: no DFlash draft at {str(draft_dir)!r}")
    else:
        draft = random_draft(target, a.block_size or 16, a.seed)
        draft_name = "dflash (random weights)"
        notes.append("no trained DFlash draft found: the draft has deterministic random weights, so tau is meaningless "
                     "(expect ~1.0); train one with `make train`.")
    runner = DFlashRunner(draft, target, block_size=a.block_size, name=draft_name)
    prompts = load_prompts(a, tokenizer)
    report = run_comparison(target, {draft_name: runner}, prompts, tokenizer, a)
    report["notes"] = notes
    print_report(report, tokenizer, a)
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(report, indent=1))
        print(f"wrote {a.json}")
    return 0 if report["lossless_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
