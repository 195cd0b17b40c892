"""Distil a small separate draft model (same tokenizer, same architecture family) from a trained target.

    python -m training.train_small_draft --target checkpoints/tiny-qwen3-coder \
        --out checkpoints/tiny-qwen3-coder-draft --layers 2 --hidden 128 --minutes 10

The draft is an ordinary HF-format causal LM (Qwen3 or Llama, like the target; tied embeddings) so the
loaders, transformers and the speculative loop's ``AutoregressiveDraft`` all read it.  Loss: KL divergence
from the target's next-token distribution (soft labels, temperature 1) on random windows of the training
corpus mixed with target-regenerated rows (the same rows :mod:`training.train_dflash` caches), because
the draft has to agree with the target, not with the corpus.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from ttl_kernels import env

env.apply_defaults()  # before torch loads (OpenMP reads OMP_WAIT_POLICY then)

import numpy as np
import torch
import torch.nn.functional as F

from reference import BF16
from reference.decoder import Decoder
from training.cli import add_budget_args, add_size_args, draft_parser


def draft_config(
    target_cfg: dict, layers: int, hidden: int, heads: int, kv_heads: int, head_dim: int, ffn: int
) -> dict:
    """The target's config.json with the draft's sizes (vocabulary, specials, RoPE kept)."""
    c = dict(target_cfg)
    c.update(num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=heads, num_key_value_heads=kv_heads,
             head_dim=head_dim, intermediate_size=ffn, tie_word_embeddings=True)
    for k in ("layer_types", "max_window_layers"):
        c.pop(k, None)
    return c


def build_hf(cfg: dict):
    from transformers import AutoConfig, AutoModelForCausalLM

    hf_cfg = AutoConfig.for_model(
        **{k: v for k, v in cfg.items() if k not in ("architectures", "transformers_version")}
    )
    return AutoModelForCausalLM.from_config(hf_cfg)


def kl_step(draft, target: Decoder, ids: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        p = torch.log_softmax(target(ids).logits.float(), -1)
    q = torch.log_softmax(draft(input_ids=ids).logits.float(), -1)
    return F.kl_div(q, p, log_target=True, reduction="batchmean") / ids.shape[1]


def main(argv=None) -> int:
    ap = draft_parser(__doc__)
    add_size_args(ap, layers=2, hidden=128, heads=2, kv_heads=1, head_dim=64, ffn=384)
    add_budget_args(ap, minutes=10.0, bs=16, seq=256)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--regen", default="", help="a .npy of target-regenerated rows to mix in (see train_dflash.py)")
    a = ap.parse_args(argv)
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    rng = np.random.default_rng(a.seed)

    from reference.hf import load_pretrained
    from training.corpus import load_tokens
    from training.train_dflash import windows

    target, _ = load_pretrained(a.target, dtype=BF16)
    tcfg = json.loads((Path(a.target) / "config.json").read_text())
    cfg = draft_config(tcfg, a.layers, a.hidden, a.heads, a.kv_heads, a.head_dim, a.ffn)
    draft = build_hf(cfg)
    n_params = sum(p.numel() for p in draft.parameters())
    train, val = load_tokens("train"), load_tokens("val")
    regen = np.load(a.regen) if a.regen and Path(a.regen).exists() else None
    print(
        f"draft {n_params / 1e6:.2f}M params ({a.layers}L H{a.hidden}); regen rows "
        f"{0 if regen is None else len(regen)}",
        flush=True,
    )
    opt = torch.optim.AdamW(draft.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.01)
    budget, t0, step, ema = a.minutes * 60, time.time(), 0, None
    draft.train()
    while time.time() - t0 < budget:
        frac = (time.time() - t0) / budget
        for g in opt.param_groups:
            g["lr"] = a.lr * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        src = regen if (regen is not None and step % 2) else train
        ids = windows(src, a.bs, a.seq, rng)
        with torch.autocast("cpu", dtype=BF16):
            loss = kl_step(draft, target, ids)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(draft.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        step += 1
        if step % 25 == 0:
            print(f"step {step} {(time.time() - t0) / 60:5.1f} min KL {ema:.4f}", flush=True)
    draft.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=BF16):
        val_kl = float(np.mean([kl_step(draft, target, windows(val, a.bs, a.seq, rng)).item() for _ in range(4)]))
    out = Path(a.out)
    draft.to(BF16).save_pretrained(out)
    for f in Path(a.target).glob("tokenizer*"):
        (out / f.name).write_bytes(f.read_bytes())
    sp = Path(a.target) / "special_tokens_map.json"
    if sp.exists():
        (out / sp.name).write_bytes(sp.read_bytes())
    log = {
        "target": a.target,
        "params": n_params,
        "steps": step,
        "minutes": (time.time() - t0) / 60,
        "final_kl_ema": ema,
        "val_kl": val_kl,
    }
    (out / "training_log.json").write_text(json.dumps(log, indent=1))
    print(f"saved {out}: {step} steps, val KL {val_kl:.4f} nats/token", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
