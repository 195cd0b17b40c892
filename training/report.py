"""Print the figures of the trained targets and drafts as markdown tables (from
``checkpoints/<name>/training_log.json``).

    python -m training.report                      # tiny-qwen3-coder, tiny-llama3 and the coder's drafts
    python -m training.report checkpoints/foo      # any target checkpoint directories
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGETS = ("tiny-qwen3-coder", "tiny-llama3")
DRAFTS = ("tiny-qwen3-coder-dflash-b16", "tiny-qwen3-coder-draft")
VAL_TARGET = 2.5   # nats/token, the goal


def table_rows(dirs, row_fn) -> list[str]:
    """``row_fn(dir, training_log)`` -> rows for every checkpoint dir with a ``training_log.json``; a
    'not trained yet' row for the others."""
    out = []
    for d in dirs:
        p = Path(d) / "training_log.json"
        if p.exists():
            out += row_fn(Path(d), json.loads(p.read_text()))
        else:
            out.append(
                f"| {Path(d).name} | (not trained yet: no {p.relative_to(REPO) if p.is_relative_to(REPO) else p}) |"
            )
    return out


def target_row(d: Path, r: dict) -> list[str]:
    t, e = r["training"], r["eval"]
    short = e.get("val_nats_per_token_compare_seq")
    return [
        f"| {r['name']} | {r['architecture']} | {r['params']:,} | {r['checkpoint_bytes_bf16'] / 1e6:.2f} MB "
        f"| {t['steps']} | {t['tokens_seen'] / 1e6:.1f} M ({t['epochs']:.1f} ep) | {t['train_minutes']:.0f} "
        f"| {t['mean_tokens_per_s']:,} | {e['val_nats_per_token']:.3f} | {e['val_bits_per_byte']:.3f} "
        f"| {e['heldout_nats_per_token']:.3f} / {e['heldout_bits_per_byte']:.3f} "
        f"| {'-' if short is None else f'{short:.3f}'} "
        f"| {'yes' if e['val_nats_per_token'] <= VAL_TARGET else 'no'} |"]


def draft_phase_rows(d: Path, r: dict) -> list[str]:
    """One row per training phase of a draft (a continued DFlash run lists its earlier phase first)."""
    phases = []
    while r is not None:
        phases.append(r)
        r = r.get("continued_from")
    size = sum(f.stat().st_size for f in d.glob("*.safetensors"))
    out = []
    for i, r in enumerate(reversed(phases), 1):
        kind = "DFlash" if "block_size" in r else "small model"
        result = (f"val teacher-forced tau {r['val_teacher_forced_tau']:.2f}" if "val_teacher_forced_tau" in r
                  else f"val KL {r['val_kl']:.3f} nats/token")
        detail = (f"block {r['block_size']}, {r['layers']} layers, taps {r['taps']}, "
                  f"gamma {r.get('gamma', 7.0 if r['block_size'] >= 16 else 4.0)}, "
                  f"regenerated share {r.get('regen_share', 0.5)}" if kind == "DFlash" else f"{r['params']:,} params")
        out.append(f"| {d.name} | {kind} | {i}/{len(phases)} | {detail} | {r['steps']} | {r['minutes']:.0f} "
                   f"| {size / 1e6:.2f} MB | {result} |")
    return out


def rows(dirs):
    return table_rows(dirs, target_row)


def draft_rows(dirs):
    return table_rows(dirs, draft_phase_rows)


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    dirs = [Path(a) for a in args] or [REPO / "checkpoints" / n for n in TARGETS]
    print("| checkpoint | class | params | safetensors | steps | tokens | train min | tokens/s "
          "| val nats/token | val bits/byte | held-out nats/token / bits/byte | val nats/token, 256-token windows "
          f"| <= {VAL_TARGET} |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows(dirs):
        print(row)
    if not args:
        print()
        print("| draft | kind | phase | setup | steps | minutes | safetensors | result |")
        print("|---|---|---|---|---|---|---|---|")
        for row in draft_rows([REPO / "checkpoints" / n for n in DRAFTS]):
            print(row)


if __name__ == "__main__":
    main()
