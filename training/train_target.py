"""Train a tiny target model on the stdlib corpus and save it in Hugging Face format.

Two architectures at the same scale (``--arch``):

* ``qwen3``: ``Qwen3ForCausalLM`` (QK-norm, GQA, rope theta 1e4) -> ``checkpoints/tiny-qwen3-coder``
* ``llama``: ``LlamaForCausalLM`` with Llama-3 rope scaling (``rope_type: llama3``, small factors fitted to
  the short context) and GQA -> ``checkpoints/tiny-llama3``

Recipe (``training/README.md`` has the figures): random windows of ``--seq`` tokens, batch ``--bs``,
AdamW (0.9, 0.95; weight decay on matrices only), linear warm-up then cosine decay to
``--min-lr-frac`` of ``--lr`` over a step budget (``--steps``) or a training wall-time budget
(``--minutes``), gradient clipping 1.0, bf16 autocast with fp32 master weights, dropout on the
embedding output and on every residual branch (forward hooks, training only) plus attention dropout.
The validation loss (nats/token and bits/byte) is measured on a fixed subset of the validation split every
``--eval-every`` steps and on the whole split at the end; the weights with the best validation loss are
the ones shipped.  Resumable (``--resume``) from ``training/data/runs/<name>/state.pt``, saved every
``--save-every`` minutes.  Uses the GPU when ``torch.cuda.is_available()``.

    OMP_WAIT_POLICY=PASSIVE python -m training.train_target --arch qwen3 --name tiny-qwen3-coder --steps 4000
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import os
import platform
import sys
import time
from pathlib import Path

from ttl_kernels import env

env.apply_defaults()  # before torch loads (OpenMP reads OMP_WAIT_POLICY then)

import numpy as np
import torch
import torch.nn.functional as F

from training.cli import add_size_args
from training.corpus import DATA_DIR, TOKENIZER_DIR, load_manifest, load_tokens
from training.tokenizer import SPECIAL_IDS, copy_tokenizer

REPO = Path(__file__).resolve().parent.parent
CHECKPOINTS = REPO / "checkpoints"
LOG_DIR = Path(__file__).resolve().parent / "logs"
RUNS_DIR = DATA_DIR / "runs"
DEFAULT_NAMES = {"qwen3": "tiny-qwen3-coder", "llama": "tiny-llama3"}
LN2 = math.log(2.0)


# ----------------------------------------------------------------------------------------------- model
def model_config(a, vocab_size: int):
    """The HF config for ``a.arch`` at the dims given in ``a``."""
    from transformers import LlamaConfig, Qwen3Config

    common = dict(
        vocab_size=vocab_size, hidden_size=a.hidden, intermediate_size=a.ffn, num_hidden_layers=a.layers,
        num_attention_heads=a.heads, num_key_value_heads=a.kv_heads, head_dim=a.head_dim,
        max_position_embeddings=a.max_pos, rms_norm_eps=1e-6, tie_word_embeddings=True,
        attention_dropout=a.attn_dropout, initializer_range=0.02,
        bos_token_id=SPECIAL_IDS["<|endoftext|>"], eos_token_id=SPECIAL_IDS["<|endoftext|>"],
        pad_token_id=SPECIAL_IDS["<|pad|>"], use_cache=True,
    )
    if a.arch == "qwen3":
        cfg = Qwen3Config(**common, rope_parameters={"rope_type": "default", "rope_theta": a.rope_theta},
                          use_sliding_window=False)
    elif a.arch == "llama":
        # Llama-3 frequency scaling sized to this context: wavelengths above original_max/low_freq_factor
        # (= --seq tokens) are stretched by `factor`, those under original_max/high_freq_factor are kept,
        # the band between is interpolated.
        cfg = LlamaConfig(**common, rope_parameters={
            "rope_type": "llama3", "rope_theta": a.rope_theta, "factor": a.rope_factor,
            "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": a.seq,
        }, mlp_bias=False, attention_bias=False)
    else:
        raise ValueError(a.arch)
    cfg.dtype = "bfloat16"              # the dtype the checkpoint is stored in
    return cfg


def build_model(cfg, seed: int):
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="sdpa", dtype=torch.float32)
    return model


def add_dropout_hooks(model, p: float):
    """Dropout on the embedding output and on each attention / MLP branch before the residual add.

    Hooks act only in training mode; the saved model is the plain HF architecture."""
    if p <= 0:
        return []

    def tensor_hook(mod, inp, out):
        return F.dropout(out, p, mod.training)

    def tuple_hook(mod, inp, out):
        return (F.dropout(out[0], p, mod.training), *out[1:])

    inner = model.model
    hooks = [inner.embed_tokens.register_forward_hook(tensor_hook)]
    for layer in inner.layers:
        hooks.append(layer.self_attn.register_forward_hook(tuple_hook))
        hooks.append(layer.mlp.register_forward_hook(tensor_hook))
    return hooks


def param_counts(model) -> dict:
    total = sum(p.numel() for p in model.parameters())        # tied weights counted once
    emb = model.get_input_embeddings().weight.numel()
    return {"params": total, "embedding_params": emb, "non_embedding_params": total - emb}


# ------------------------------------------------------------------------------------------------ data
class Batches:
    """Random windows of ``seq + 1`` tokens from the train split (seeded, resumable generator)."""

    def __init__(self, tokens: np.ndarray, seq: int, bs: int, seed: int):
        self.data = torch.from_numpy(tokens.astype(np.int64))
        self.seq, self.bs = seq, bs
        self.gen = torch.Generator().manual_seed(seed)
        self.offsets = torch.arange(seq + 1)

    def next(self) -> torch.Tensor:
        starts = torch.randint(0, self.data.numel() - self.seq - 1, (self.bs,), generator=self.gen)
        return self.data[starts[:, None] + self.offsets]


def eval_windows(tokens: np.ndarray, seq: int, limit: int | None = None) -> torch.Tensor:
    """Non-overlapping windows of ``seq + 1`` tokens (stride ``seq``); ``limit`` picks evenly spaced ones."""
    data = torch.from_numpy(tokens.astype(np.int64))
    n = (data.numel() - 1) // seq
    idx = torch.arange(n)
    if limit is not None and limit < n:
        idx = torch.linspace(0, n - 1, limit).round().long()
    return torch.stack([data[i * seq: i * seq + seq + 1] for i in idx.tolist()])


@torch.no_grad()
def evaluate(model, windows: torch.Tensor, device, bs: int = 32) -> float:
    """Mean next-token cross-entropy (nats/token) over the windows."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for i in range(0, windows.shape[0], bs):
        w = windows[i: i + bs].to(device)
        with autocast(device):
            logits = model(input_ids=w[:, :-1]).logits
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1), reduction="sum")
        total += loss.item()
        count += w[:, 1:].numel()
    model.train(was_training)
    return total / count


def autocast(device):
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


# ------------------------------------------------------------------------------------------- schedule
def lr_at(a, step: int, progress: float) -> float:
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    p = min(max(progress, 0.0), 1.0)
    return a.lr * (a.min_lr_frac + (1 - a.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * p)))


def make_optimizer(model, a, fused_ok: bool):
    decay, no_decay = [], []
    for p in model.parameters():
        (decay if p.ndim >= 2 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": a.wd}, {"params": no_decay, "weight_decay": 0.0}]
    kw = {"fused": True} if fused_ok else {}
    return torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.95), eps=1e-8, **kw)


# ---------------------------------------------------------------------------------------------- saving
def save_checkpoint(model, out_dir: Path, tokenizer_dir: Path, training_log: dict | None = None):
    """HF directory: config.json + model.safetensors (bf16, tied embedding stored once) + tokenizer files."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    m = copy.deepcopy(model).to(torch.bfloat16)
    m.config.dtype = "bfloat16"
    m.save_pretrained(out_dir, safe_serialization=True)
    copy_tokenizer(tokenizer_dir, out_dir)
    if training_log is not None:
        (out_dir / "training_log.json").write_text(json.dumps(training_log, indent=1) + "\n")
    return out_dir


def setup_logging(log_file: Path | None) -> logging.Logger:
    log = logging.getLogger("train_target")
    log.handlers.clear()
    log.setLevel(logging.INFO)
    log.propagate = False
    fmt = logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S")
    h = logging.StreamHandler(sys.stdout)
    h.setFormatter(fmt)
    log.addHandler(h)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_file)
        fh.setFormatter(fmt)
        log.addHandler(fh)
    return log


# ------------------------------------------------------------------------------------------------ main
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="train a tiny Qwen3 / Llama-3 target on the stdlib corpus")
    ap.add_argument("--arch", choices=("qwen3", "llama"), default="qwen3")
    ap.add_argument("--name", default=None, help="checkpoint name (default tiny-qwen3-coder / tiny-llama3)")
    ap.add_argument("--out", type=Path, default=None, help="output dir (default checkpoints/<name>)")
    ap.add_argument("--data-dir", type=Path, default=DATA_DIR)
    ap.add_argument("--tokenizer-dir", type=Path, default=TOKENIZER_DIR)
    ap.add_argument("--run-dir", type=Path, default=None, help="resume state dir (default training/data/runs/<name>)")
    ap.add_argument("--log-file", type=Path, default=None, help="default training/logs/<name>.log")
    # model
    add_size_args(ap, layers=4, hidden=256, heads=4, kv_heads=2, head_dim=64, ffn=512)
    ap.add_argument("--max-pos", type=int, default=2048)
    ap.add_argument("--rope-theta", type=float, default=10000.0)
    ap.add_argument("--rope-factor", type=float, default=2.0, help="llama3 rope scaling factor (llama only)")
    # optimisation
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--bs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--dropout", type=float, default=0.1, help="embedding + residual-branch dropout")
    ap.add_argument("--attn-dropout", type=float, default=0.0)
    ap.add_argument("--steps", type=int, default=None, help="step budget (cosine over steps)")
    ap.add_argument("--minutes", type=float, default=None, help="training wall-time budget (cosine over time)")
    ap.add_argument("--seed", type=int, default=0)
    # bookkeeping
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--eval-windows", type=int, default=128, help="validation windows of the periodic eval")
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--save-every", type=float, default=5.0, help="minutes between resume states")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda")
    ap.add_argument("--resume", action="store_true", help="continue from <run-dir>/state.pt")
    ap.add_argument("--no-progress", action="store_true", help="no tqdm bar")
    ap.add_argument("--compare-seq", type=int, default=256,
                    help="also report the final validation loss on windows of this many tokens")
    ap.add_argument("--full-eval-limit", type=int, default=None, help="cap the final eval windows (tests)")
    a = ap.parse_args(argv)
    if a.steps is None and a.minutes is None:
        ap.error("give a budget: --steps N or --minutes M")
    a.name = a.name or DEFAULT_NAMES[a.arch]
    a.out = a.out or CHECKPOINTS / a.name
    a.run_dir = a.run_dir or RUNS_DIR / a.name
    a.log_file = a.log_file or LOG_DIR / f"{a.name}.log"
    return a


MODEL_KEYS = ("arch", "layers", "hidden", "heads", "kv_heads", "head_dim", "ffn", "max_pos", "rope_theta",
              "rope_factor", "seq", "attn_dropout")


def main(argv=None) -> dict:
    a = parse_args(argv)
    log = setup_logging(a.log_file)
    if a.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(a.device)
    if device.type == "cpu":
        torch.set_num_threads(a.threads)
    else:
        torch.backends.cuda.matmul.allow_tf32 = True

    state_path = a.run_dir / "state.pt"
    state = None
    if a.resume:
        if not state_path.exists():
            raise SystemExit(f"--resume: no state at {state_path}")
        state = torch.load(state_path, map_location="cpu", weights_only=False)
        for k in MODEL_KEYS:       # the model must match the one being resumed
            setattr(a, k, state["args"][k])
        log.info(f"resuming {a.name} from {state_path} at step {state['step']}")

    manifest = load_manifest(a.data_dir)
    train_tokens = load_tokens("train", a.data_dir)
    val_tokens = load_tokens("val", a.data_dir)
    vocab = manifest["tokenizer_vocab"]
    cfg = model_config(a, vocab)
    model = build_model(cfg, a.seed).to(device)
    add_dropout_hooks(model, a.dropout)
    counts = param_counts(model)
    opt = make_optimizer(model, a, fused_ok=device.type == "cuda")
    batches = Batches(train_tokens, a.seq, a.bs, a.seed + 1)
    val_sub = eval_windows(val_tokens, a.seq, a.eval_windows)

    step, elapsed, history = 0, 0.0, []
    best = {"val": float("inf"), "step": None, "state": None}
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        batches.gen.set_state(state["rng"])
        step, elapsed, history = state["step"], state["elapsed"], state["history"]
        best = state["best"]

    tokens_per_step = a.bs * a.seq
    split = manifest["splits"]
    log.info(f"{a.name}: {a.arch} {a.layers}L H{a.hidden} {a.heads}q/{a.kv_heads}kv hd{a.head_dim} ffn{a.ffn} "
             f"params {counts['params']:,} (non-emb {counts['non_embedding_params']:,}); device {device}, "
             f"threads {torch.get_num_threads()}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")
    log.info(f"train {split['train']['tokens']:,} tokens, val {split['val']['tokens']:,}; seq {a.seq} bs {a.bs} "
             f"lr {a.lr} wd {a.wd} dropout {a.dropout}/{a.attn_dropout} budget "
             f"{f'{a.steps} steps' if a.steps else f'{a.minutes} min'}")

    def progress() -> float:
        return step / a.steps if a.steps else elapsed / (60 * a.minutes)

    def done() -> bool:
        return (a.steps is not None and step >= a.steps) or (a.minutes is not None and elapsed >= 60 * a.minutes)

    def save_state():
        a.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = state_path.with_suffix(".tmp")
        torch.save({"args": vars(a) | {"out": str(a.out), "run_dir": str(a.run_dir), "log_file": str(a.log_file),
                                       "data_dir": str(a.data_dir), "tokenizer_dir": str(a.tokenizer_dir)},
                    "model": model.state_dict(), "optimizer": opt.state_dict(), "rng": batches.gen.get_state(),
                    "step": step, "elapsed": elapsed, "history": history, "best": best}, tmp)
        os.replace(tmp, state_path)

    def do_eval():
        v = evaluate(model, val_sub, device)
        if v < best["val"]:
            best.update(val=v, step=step,
                        state={k: t.detach().to("cpu", copy=True) for k, t in model.state_dict().items()})
        return v

    if step == 0:
        history.append({"step": 0, "tokens": 0, "train_min": 0.0, "train_loss_ema": None,
                        "val": round(evaluate(model, val_sub, device), 4), "lr": 0.0})
        log.info(f"step 0 | val {history[0]['val']:.4f} (initialisation)")

    from tqdm import tqdm

    bar = tqdm(total=a.steps, initial=step, disable=a.no_progress, mininterval=10, file=sys.stderr,
               unit="step", dynamic_ncols=True)
    model.train()
    ema, ema_tps, last_save = None, None, time.time()
    first_loss = None
    while not done():
        t0 = time.time()
        lr = lr_at(a, step, progress())
        for g in opt.param_groups:
            g["lr"] = lr
        x = batches.next().to(device)
        with autocast(device):
            logits = model(input_ids=x[:, :-1]).logits
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        dt = time.time() - t0
        elapsed += dt
        step += 1
        lv = loss.item()
        first_loss = lv if first_loss is None else first_loss
        ema = lv if ema is None else 0.98 * ema + 0.02 * lv
        tps = tokens_per_step / dt
        ema_tps = tps if ema_tps is None else 0.95 * ema_tps + 0.05 * tps
        bar.update(1)
        bar.set_postfix(loss=f"{ema:.3f}", lr=f"{lr:.2e}", tok_s=f"{ema_tps:,.0f}", refresh=False)
        rec = None
        if step % a.eval_every == 0 or done():
            rec = {"step": step, "tokens": step * tokens_per_step, "train_min": round(elapsed / 60, 2),
                   "train_loss_ema": round(ema, 4), "val": round(do_eval(), 4), "lr": lr}
            history.append(rec)
        if step % a.log_every == 0 or rec:
            msg = (f"step {step}{f'/{a.steps}' if a.steps else ''} train-min {elapsed / 60:.1f} "
                   f"loss {lv:.3f} ema {ema:.3f} lr {lr:.2e} gnorm {float(gnorm):.2f} tok/s {ema_tps:,.0f} "
                   f"epochs {step * tokens_per_step / split['train']['tokens']:.2f}")
            if rec:
                msg += f" | val {rec['val']:.4f} (best {best['val']:.4f} @ {best['step']})"
            log.info(msg)
        if time.time() - last_save > 60 * a.save_every:
            save_state()
            last_save = time.time()
    bar.close()
    save_state()

    # final: whole validation split (and held-out split), final vs best weights
    full_val = eval_windows(val_tokens, a.seq, a.full_eval_limit)
    final_val = evaluate(model, full_val, device)
    chosen, chosen_step, best_full = "final", step, None
    if best["step"] is not None and best["step"] != step:
        final_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
        model.load_state_dict(best["state"])
        best_full = evaluate(model, full_val, device)
        if best_full < final_val:
            chosen, chosen_step = "best", best["step"]
        else:
            model.load_state_dict(final_state)
    val_nats = min(final_val, best_full) if best_full is not None else final_val
    tpb = split["val"]["tokens"] / split["val"]["bytes"]
    heldout_nats = None
    try:
        held = load_tokens("heldout", a.data_dir)
        heldout_nats = evaluate(model, eval_windows(held, a.seq, a.full_eval_limit), device)
    except FileNotFoundError:
        pass
    ht = split["heldout"]["tokens"] / split["heldout"]["bytes"]
    short_val = None
    if a.compare_seq and a.compare_seq != a.seq:   # the same weights on shorter windows (less context)
        short_val = evaluate(model, eval_windows(val_tokens, a.compare_seq, a.full_eval_limit), device)
    result = {
        "name": a.name,
        "arch": a.arch,
        "architecture": type(model).__name__,
        "config": {k: getattr(a, k) for k in MODEL_KEYS},
        **counts,
        "checkpoint_bytes_bf16": None,
        "training": {
            "seed": a.seed,
            "seq": a.seq,
            "bs": a.bs,
            "lr": a.lr,
            "min_lr_frac": a.min_lr_frac,
            "warmup": a.warmup,
            "weight_decay": a.wd,
            "dropout": a.dropout,
            "attn_dropout": a.attn_dropout,
            "budget": {"steps": a.steps, "minutes": a.minutes},
            "steps": step,
            "tokens_seen": step * tokens_per_step,
            "epochs": round(step * tokens_per_step / split["train"]["tokens"], 3),
            "train_minutes": round(elapsed / 60, 2),
            "mean_tokens_per_s": round(step * tokens_per_step / max(elapsed, 1e-9)),
            "first_loss": first_loss,
            "final_train_loss_ema": ema,
        },
        "eval": {
            "val_windows": int(full_val.shape[0]),
            "seq": a.seq,
            "val_nats_per_token_final_weights": round(final_val, 4),
            "val_nats_per_token_best_weights": None if best_full is None else round(best_full, 4),
            "shipped_weights": chosen,
            "shipped_step": chosen_step,
            "val_nats_per_token": round(val_nats, 4),
            "val_bits_per_byte": round(val_nats * tpb / LN2, 4),
            "heldout_nats_per_token": None if heldout_nats is None else round(heldout_nats, 4),
            "heldout_bits_per_byte": None if heldout_nats is None else round(heldout_nats * ht / LN2, 4),
            "compare_seq": a.compare_seq if short_val is not None else None,
            "val_nats_per_token_compare_seq": None if short_val is None else round(short_val, 4),
        },
        "corpus": {s: {k: split[s][k] for k in ("files", "bytes", "tokens")} for s in split}
        | {"python": manifest["python"], "vocab": vocab},
        "history": history,
        "env": {
            "torch": torch.__version__,
            "device": str(device),
            "device_name": torch.cuda.get_device_name()
            if device.type == "cuda"
            else platform.processor() or platform.machine(),
            "threads": torch.get_num_threads(),
            "python": platform.python_version(),
        },
    }
    out = save_checkpoint(model, a.out, a.tokenizer_dir)
    result["checkpoint_bytes_bf16"] = (out / "model.safetensors").stat().st_size
    (out / "training_log.json").write_text(json.dumps(result, indent=1) + "\n")
    e = result["eval"]
    log.info(f"done {a.name}: {step} steps, {result['training']['train_minutes']} train-min, "
             f"{result['training']['mean_tokens_per_s']:,} tok/s | val {e['val_nats_per_token']:.4f} nats/token "
             f"= {e['val_bits_per_byte']:.4f} bits/byte ({chosen} weights, step {chosen_step}); held-out "
             f"{e['heldout_nats_per_token']} nats/token | saved {out} "
             f"({result['checkpoint_bytes_bf16']:,} B safetensors)")
    return result


if __name__ == "__main__":
    main()
