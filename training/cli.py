"""Command-line arguments the training scripts share: the model size of a trained model, and the target, output
and budget of a script that distils a draft from a trained target."""

from __future__ import annotations

import argparse


def add_size_args(ap: argparse.ArgumentParser, *, layers: int, hidden: int, heads: int, kv_heads: int,
                  head_dim: int, ffn: int) -> None:
    """``--layers --hidden --heads --kv-heads --head-dim --ffn`` (the trained model's size) with these defaults."""
    for flag, default in (("--layers", layers), ("--hidden", hidden), ("--heads", heads), ("--kv-heads", kv_heads),
                          ("--head-dim", head_dim), ("--ffn", ffn)):
        ap.add_argument(flag, type=int, default=default)


def draft_parser(doc: str) -> argparse.ArgumentParser:
    """The parser of a script that trains a draft for a trained target: ``--target`` (its checkpoint directory) and
    ``--out`` (the draft's), both required."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True)
    ap.add_argument("--out", required=True)
    return ap


def add_budget_args(ap: argparse.ArgumentParser, *, minutes: float, bs: int, seq: int) -> None:
    """``--minutes`` (wall-time budget), ``--bs`` (windows per step) and ``--seq`` (tokens per window)."""
    ap.add_argument("--minutes", type=float, default=minutes)
    ap.add_argument("--bs", type=int, default=bs)
    ap.add_argument("--seq", type=int, default=seq)
