"""Train a DFlash block draft (:mod:`models.dflash`) for a trained target, and save it in the z-lab format.

    python -m training.train_dflash --target checkpoints/tiny-qwen3-coder --block-size 16 \
        --out checkpoints/tiny-qwen3-coder-dflash-b16 --minutes 20

Recipe (what worked best in the trial on these CPUs, see training/README.md):
* the draft's layers start as copies of the target's last layers (and its final norm); ``fc`` and
  ``hidden_norm`` start fresh; the target (embedding, LM head, layers) stays frozen;
* data: random 256-token windows of the training corpus mixed 1:1 with *target-regenerated* rows (a
  64-token corpus prompt followed by the target's own greedy continuation), because at temperature 0 the
  draft must predict the target's choices, not the corpus's;
* per window, ``--anchors`` random anchor positions p; the block ``[x_p, MASK x (B-1)]`` sits at positions
  p..p+B-1, sees the target's tapped hidden states of positions < p and (non-causally) its own rows, and
  learns x_{p+k} at row k with weight exp(-(k-1)/gamma);
* AdamW, cosine schedule on wall time, bf16 autocast on the CPU.

All anchors of a window train in one batched forward: context K/V are computed once for the whole window
and a boolean mask gives every block its own prefix of the context plus its own rows.
:func:`check_against_inference` verifies that this batched form equals the draft's inference forward.
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

from models.dflash import DFlashConfig, DFlashDraft
from reference import BF16
from reference.decoder import Decoder, greedy_generate
from reference.rope import apply_rotary
from training.cli import add_budget_args, draft_parser

DATA_DIR = ROOT / "training" / "data"


def default_taps(n_layers: int, n_taps: int = 3) -> list[int]:
    """Spread taps over the target's layers, always including the last-but-one layer's output."""
    if n_layers <= n_taps:
        return list(range(n_layers))
    return sorted({round(i * (n_layers - 1) / (n_taps - 1)) for i in range(n_taps)})


def draft_for(target: Decoder, block_size: int, layers: int, taps: list[int], mask_token_id: int) -> DFlashDraft:
    """A draft shaped like the target's layers, initialised from the target's last ``layers`` layers."""
    c = target.config
    cfg = DFlashConfig.for_target(c, block_size=block_size, target_layer_ids=taps, mask_token_id=mask_token_id,
                                  num_layers=layers, rope_scaling=c.rope_scaling,
                                  max_position_embeddings=c.max_position_embeddings)
    d = DFlashDraft(cfg)
    with torch.no_grad():
        for i, dl in enumerate(d.layers):
            tl = target.layers[c.num_layers - layers + i]
            own = dl.state_dict()
            src = {k: v for k, v in tl.state_dict().items() if k in own and own[k].shape == v.shape}
            dl.load_state_dict({**own, **src})
        d.norm.weight.copy_(target.norm.weight)
        torch.nn.init.normal_(d.fc.weight, std=1.0 / math.sqrt(d.fc.weight.shape[1]))
    return d


def batched_forward(
    draft: DFlashDraft, target: Decoder, ids: torch.Tensor, taps: torch.Tensor, anchors: torch.Tensor
) -> torch.Tensor:
    """Logits of every block row: ``[bs, nA, B, V]``.

    ids ``[bs, T]``; taps ``[bs, T, n_taps*H]`` (target layer outputs); anchors ``[bs, nA]`` with
    1 <= p <= T - B.  Block a of window w is ``[ids[w, p], MASK...]`` at positions p..p+B-1; it sees context
    positions < p and its own rows."""
    c = draft.config
    bs, T = ids.shape
    nA = anchors.shape[1]
    B = c.block_size
    ctx = draft.hidden_norm(draft.fc(taps))                                   # [bs, T, H]
    blk = torch.full((bs, nA, B), c.mask_token_id, dtype=torch.long)
    blk[..., 0] = ids.gather(1, anchors)
    x = target.embed(blk).reshape(bs, nA * B, -1).to(ctx.dtype)
    pos_blk = (anchors[..., None] + torch.arange(B)).reshape(bs, nA * B)
    pos_ctx = torch.arange(T).expand(bs, T)
    row_anchor = anchors.repeat_interleave(B, dim=1)                          # [bs, nA*B]
    ctx_vis = torch.arange(T)[None, None, :] < row_anchor[:, :, None]         # [bs, nA*B, T]
    blk_id = torch.arange(nA).repeat_interleave(B)
    blk_vis = (blk_id[:, None] == blk_id[None, :]).expand(bs, -1, -1)        # [bs, nA*B, nA*B]
    mask = torch.cat([ctx_vis, blk_vis], dim=2)[:, None]                      # [bs, 1, nA*B, T + nA*B]
    cos_b, sin_b = draft.rope(pos_blk)
    cos_c, sin_c = draft.rope(pos_ctx)
    for layer in draft.layers:
        at = layer.self_attn
        a = layer.input_layernorm(x)
        q = at.q_norm(at.q_proj(a).view(bs, nA * B, at.num_heads, at.head_dim)).transpose(1, 2)
        q = apply_rotary(q, cos_b[:, None].to(q.dtype), sin_b[:, None].to(q.dtype))
        kc, vc = at._kv(ctx, cos_c.to(ctx.dtype), sin_c.to(ctx.dtype))
        kb, vb = at._kv(a, cos_b.to(a.dtype), sin_b.to(a.dtype))
        k, v = torch.cat([kc, kb], 2), torch.cat([vc, vb], 2)
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=at.scaling, enable_gqa=True)
        x = x + at.o_proj(o.transpose(1, 2).reshape(bs, nA * B, -1))
        x = x + layer.mlp(layer.post_attention_layernorm(x))
    h = draft.norm(x)
    return target.lm_head(h.to(target.dtype)).float().view(bs, nA, B, -1)


@torch.no_grad()
def check_against_inference(
    draft: DFlashDraft, target: Decoder, ids: torch.Tensor, taps: torch.Tensor, p: int
) -> float:
    """Max |difference| between the batched training forward and the inference forward for one anchor."""
    batched = batched_forward(draft, target, ids[:1], taps[:1], torch.tensor([[p]]))[0, 0]
    cache = draft.new_cache(ids.shape[1] + draft.config.block_size)
    block = torch.tensor([int(ids[0, p])] + [draft.config.mask_token_id] * (draft.config.block_size - 1))
    h = draft(target.embed(block)[None], taps[:1, :p], cache)
    ref = target.lm_head(h[0].to(target.dtype)).float()
    return float((batched - ref).abs().max())


def target_taps(target: Decoder, ids: torch.Tensor, taps: list[int]) -> torch.Tensor:
    with torch.no_grad():
        out = target(ids, taps=taps)
    return torch.cat(out.hidden_taps, -1).float()


def regen_rows(
    target: Decoder, train: np.ndarray, n_rows: int, prompt_len: int, total: int, seed: int, batch: int = 64
) -> np.ndarray:
    """Target-regenerated data: corpus prompts continued by the target's own greedy decoding."""
    rng = np.random.default_rng(seed)
    rows = []
    t0 = time.time()
    for i in range(0, n_rows, batch):
        starts = rng.integers(0, len(train) - prompt_len - 1, size=min(batch, n_rows - i))
        prompts = torch.tensor(np.stack([train[s:s + prompt_len] for s in starts]).astype(np.int64))
        out = greedy_generate(target, prompts, total - prompt_len)
        if out.shape[1] == total:
            rows.append(out.numpy().astype(np.uint16))
        print(f"  regen {i + len(starts)}/{n_rows} rows ({time.time() - t0:.0f}s)", flush=True)
    return np.concatenate(rows)


def windows(data: np.ndarray, bs: int, T: int, rng) -> torch.Tensor:
    if data.ndim == 2:  # rows
        return torch.tensor(data[rng.integers(0, len(data), size=bs)][:, :T].astype(np.int64))
    starts = rng.integers(0, len(data) - T - 1, size=bs)
    return torch.tensor(np.stack([data[s:s + T] for s in starts]).astype(np.int64))


def step_loss(draft, target, ids, tap_ids, n_anchors, gamma, rng, regen_prompt_len=0):
    bs, T = ids.shape
    B = draft.config.block_size
    taps = target_taps(target, ids, tap_ids)
    lo = max(1, regen_prompt_len)
    anchors = torch.tensor(np.stack([np.sort(rng.choice(np.arange(lo, T - B + 1), size=n_anchors, replace=False))
                                     for _ in range(bs)]))
    logits = batched_forward(draft, target, ids, taps, anchors)              # [bs, nA, B, V]
    tgt = ids.gather(1, (anchors[..., None] + torch.arange(B)).reshape(bs, -1)).view(bs, n_anchors, B)
    w = torch.exp(-(torch.arange(1, B) - 1) / gamma)
    ce = F.cross_entropy(logits[:, :, 1:].reshape(-1, logits.shape[-1]), tgt[:, :, 1:].reshape(-1), reduction="none")
    ce = ce.view(bs, n_anchors, B - 1)
    loss = (ce * w).sum(-1).mean() / w.sum()
    with torch.no_grad():  # teacher-forced acceptance length (vs the data) = 1 + consecutive correct rows
        ok = (logits[:, :, 1:].argmax(-1) == tgt[:, :, 1:]).int().cumprod(-1).sum(-1).float()
    return loss, ok.mean().item() + 1


def main(argv=None) -> int:
    ap = draft_parser(__doc__)
    ap.add_argument("--block-size", type=int, default=16)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--taps", default="auto", help="comma-separated target layer ids, or auto")
    add_budget_args(ap, minutes=20.0, bs=8, seq=256)
    ap.add_argument("--anchors", type=int, default=0, help="anchors per window (default 512 // block size)")
    ap.add_argument("--gamma", type=float, default=0.0, help="loss decay (default 7 for B16, 4 for B8)")
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--regen-rows", type=int, default=8192)
    ap.add_argument("--regen-prompt", type=int, default=64)
    ap.add_argument("--regen-share", type=float, default=0.5, help="share of steps that train on regenerated rows")
    ap.add_argument(
        "--init", default="", help="continue from this DFlash draft (z-lab format) instead of the target's last layers"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)

    from reference.hf import load_pretrained, load_tokenizer
    from training.corpus import load_tokens

    target, cfg = load_pretrained(a.target, dtype=BF16)
    tok = load_tokenizer(a.target)
    mask_id = int(tok.convert_tokens_to_ids("<|MASK|>"))
    taps = default_taps(cfg.num_layers) if a.taps == "auto" else [int(t) for t in a.taps.split(",")]
    B = a.block_size
    n_anchors = a.anchors or max(8, 512 // B)
    gamma = a.gamma or (7.0 if B >= 16 else 4.0)
    train, val = load_tokens("train"), load_tokens("val")

    regen_file = DATA_DIR / f"regen_{Path(a.target).name}_{a.regen_rows}_{a.seq}.npy"
    if a.regen_rows:
        if regen_file.exists():
            regen = np.load(regen_file)
        else:
            print(f"generating {a.regen_rows} target-regenerated rows -> {regen_file}", flush=True)
            regen = regen_rows(target, train, a.regen_rows, a.regen_prompt, a.seq, a.seed)
            np.save(regen_file, regen)
    if a.init:  # continue training an existing draft (its taps, layers and mask token; block size from --block-size)
        draft = DFlashDraft.from_pretrained(a.init)
        draft.config.block_size = B
        taps = list(draft.config.target_layer_ids)
    else:
        draft = draft_for(target.float(), B, a.layers, taps, mask_id)
    target = target.to(BF16)
    diff = check_against_inference(
        draft, target, windows(val, 1, a.seq, rng), target_taps(target, windows(val, 1, a.seq, rng), taps), a.seq // 2
    )
    print(f"draft {sum(p.numel() for p in draft.parameters()) / 1e6:.2f}M params, taps {taps}, block {B}, "
          f"anchors {n_anchors}, gamma {gamma}; batched vs inference forward max|diff| {diff:.2e}", flush=True)
    opt = torch.optim.AdamW([p for p in draft.parameters()], lr=a.lr, betas=(0.9, 0.95), weight_decay=0.0)
    budget = a.minutes * 60
    t0 = time.time()
    step, ema = 0, None
    log = []
    while time.time() - t0 < budget:
        frac = (time.time() - t0) / budget
        lr = a.lr * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        use_regen = a.regen_rows and int((step + 1) * a.regen_share) > int(step * a.regen_share)
        ids = windows(regen if use_regen else train, a.bs, a.seq, rng)
        with torch.autocast("cpu", dtype=BF16):
            loss, tau_tf = step_loss(
                draft, target, ids, taps, n_anchors, gamma, rng, a.regen_prompt if use_regen else 0
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(draft.parameters(), 1.0)
        opt.step()
        ema = float(loss) if ema is None else 0.98 * ema + 0.02 * float(loss)
        step += 1
        if step % 25 == 0:
            el = time.time() - t0
            print(f"step {step} {el / 60:5.1f} min loss {ema:.3f} tau_tf(batch) {tau_tf:.2f} lr {lr:.2e}", flush=True)
            log.append({"step": step, "minutes": el / 60, "loss": ema})
    draft.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=BF16):
        vt = [
            step_loss(draft, target, windows(val, a.bs, a.seq, rng), taps, n_anchors, gamma, rng)[1] for _ in range(8)
        ]
    out = Path(a.out)
    draft.save_pretrained(out)
    summary = {"target": a.target, "block_size": B, "layers": len(draft.layers), "taps": taps, "steps": step,
               "minutes": (time.time() - t0) / 60, "final_loss_ema": ema, "val_teacher_forced_tau": float(np.mean(vt)),
               "regen_rows": a.regen_rows, "regen_share": a.regen_share, "gamma": gamma, "lr": a.lr,
               "init": a.init or "target's last layers", "log": log}
    prev = Path(a.init) / "training_log.json" if a.init else None
    if prev is not None and prev.exists():  # the run this one continued, kept whole
        summary["continued_from"] = json.loads(prev.read_text())
    (out / "training_log.json").write_text(json.dumps(summary, indent=1))
    print(f"saved {out}: {step} steps, val teacher-forced tau {summary['val_teacher_forced_tau']:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
