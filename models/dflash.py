"""DFlash block draft (z-lab, "DFlash: Block Diffusion for Flash Speculative Decoding"), in our own torch.

The draft proposes a whole block in one forward.  Its input block is ``[anchor, MASK x (B - 1)]`` where the
anchor is the last verified token; it predicts the B - 1 masked tokens.  It has no embedding and no LM head
of its own: the block is embedded with the target's ``embed_tokens`` and its final hidden states go through
the target's ``lm_head``.  It sees the context through the target's hidden states:

    ctx   = hidden_norm(fc(concat_k target_layer_output[k]))       k in dflash_config.target_layer_ids
    per draft layer i (Qwen3 layer, NON-causal inside the block):
        a      = input_layernorm(x)                                 x: block rows [B_blk, H]
        q      = rope(q_norm(q_proj(a)), block positions)
        K, V   = [ rope(k_norm(k_proj(ctx)), ctx positions) ; rope(k_norm(k_proj(a)), block positions) ],
                 [ v_proj(ctx) ; v_proj(a) ]                        ("KV injection": same weights for both)
        x      = x + o_proj(softmax(q K^T / sqrt(d)) V)             every block row sees every key
        x      = x + mlp(post_attention_layernorm(x))
    logits = target.lm_head(norm(x))[1:]

Only the context part of K/V is cached (per layer, post-norm post-RoPE K and raw V); block K/V are
recomputed every step.  The context grows by the verified tokens of each step (their target hidden states
are known after verification).

Checkpoint format (z-lab): ``config.json`` with Qwen3 fields plus ``block_size``, ``num_target_layers`` and
``dflash_config: {mask_token_id, target_layer_ids}``; ``model.safetensors`` with ``fc.weight``,
``hidden_norm.weight``, ``norm.weight`` and ``layers.{i}.{input_layernorm,post_attention_layernorm}.weight``,
``layers.{i}.self_attn.{q,k,v,o}_proj.weight``, ``layers.{i}.self_attn.{q,k}_norm.weight``,
``layers.{i}.mlp.{gate,up,down}_proj.weight``.  Taps always come from the config.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from reference import BF16, FP32
from reference.decoder import DecoderConfig, KVCache, RMSNorm, attend
from reference.mlp import MLP
from reference.rope import apply_rotary, cos_sin, inv_freq

MAX_BLOCK = 64


@dataclass
class DFlashConfig:
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    block_size: int
    mask_token_id: int
    target_layer_ids: list[int]
    num_target_layers: int
    vocab_size: int
    rms_norm_eps: float = 1e-6
    rope_theta: float = 1_000_000.0
    rope_scaling: dict | None = None
    max_position_embeddings: int = 32768
    extra: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (2 <= self.block_size <= MAX_BLOCK):
            raise ValueError(f"block_size: expected 2..{MAX_BLOCK}; got {self.block_size}")
        if not self.target_layer_ids:
            raise ValueError("dflash_config.target_layer_ids: expected at least one target layer id")
        if self.num_heads % self.num_kv_heads:
            raise ValueError(
                f"num_attention_heads: expected a multiple of num_key_value_heads={self.num_kv_heads}; got "
                f"{self.num_heads}"
            )

    @classmethod
    def from_hf(cls, source: dict | str | os.PathLike) -> DFlashConfig:
        """Parse a z-lab DFlash ``config.json`` (dict, file or directory)."""
        if isinstance(source, (str, os.PathLike)):
            p = Path(source)
            p = p / "config.json" if p.is_dir() else p
            if not p.is_file():
                raise FileNotFoundError(f"DFlash draft: no config.json at {str(p)!r}")
            d = json.loads(p.read_text())
        else:
            d = dict(source)
        dc = d.get("dflash_config")
        if not isinstance(dc, dict):
            raise ValueError(
                "DFlash config.json: expected a 'dflash_config' dict with mask_token_id and target_layer_ids"
            )
        if dc.get("mask_token_id") is None:
            raise ValueError("DFlash config.json dflash_config.mask_token_id: missing (the draft needs a mask token)")
        if not dc.get("target_layer_ids"):
            raise ValueError(
                "DFlash config.json dflash_config.target_layer_ids: missing (taps are read from the config)"
            )
        rp = d.get("rope_parameters") or {}
        theta = float(rp.get("rope_theta", d.get("rope_theta", 1_000_000.0)))
        heads = int(d["num_attention_heads"])
        return cls(
            hidden_size=int(d["hidden_size"]),
            intermediate_size=int(d["intermediate_size"]),
            num_layers=int(d["num_hidden_layers"]),
            num_heads=heads,
            num_kv_heads=int(d.get("num_key_value_heads") or heads),
            head_dim=int(d.get("head_dim") or d["hidden_size"] // heads),
            block_size=int(d.get("block_size", 16)),
            mask_token_id=int(dc["mask_token_id"]),
            target_layer_ids=[int(i) for i in dc["target_layer_ids"]],
            num_target_layers=int(d.get("num_target_layers", max(dc["target_layer_ids"]) + 1)),
            vocab_size=int(d.get("vocab_size", 0)),
            rms_norm_eps=float(d.get("rms_norm_eps", 1e-6)),
            rope_theta=theta,
            rope_scaling=d.get("rope_scaling"),
            max_position_embeddings=int(d.get("max_position_embeddings", 32768)),
            extra=d,
        )

    @classmethod
    def for_target(cls, target: DecoderConfig, *, block_size: int, target_layer_ids, mask_token_id: int,
                   num_layers: int = 1, **more) -> DFlashConfig:
        """A draft config shaped like ``target``'s layers (hidden and MLP width, heads, head_dim), over its vocabulary
        and layer count, with its RMSNorm eps and RoPE base; ``more`` sets any other field (``rope_scaling``,
        ``max_position_embeddings``, or a width of the draft's own)."""
        shape = dict(hidden_size=target.hidden_size, intermediate_size=target.intermediate_size,
                     num_heads=target.num_heads, num_kv_heads=target.num_kv_heads, head_dim=target.head_dim,
                     rms_norm_eps=target.rms_norm_eps, rope_theta=target.rope_theta)
        return cls(**{**shape, **more}, num_layers=num_layers, block_size=block_size, mask_token_id=mask_token_id,
                   target_layer_ids=list(target_layer_ids), num_target_layers=target.num_layers,
                   vocab_size=target.vocab_size)

    def to_hf(self) -> dict:
        return {
            "architectures": ["DFlashDraftModel"],
            "model_type": "qwen3",
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_layers,
            "num_attention_heads": self.num_heads,
            "num_key_value_heads": self.num_kv_heads,
            "head_dim": self.head_dim,
            "rms_norm_eps": self.rms_norm_eps,
            "rope_theta": self.rope_theta,
            "max_position_embeddings": self.max_position_embeddings,
            "vocab_size": self.vocab_size,
            "hidden_act": "silu",
            "attention_bias": False,
            "tie_word_embeddings": False,
            "block_size": self.block_size,
            "num_target_layers": self.num_target_layers,
            "dflash_config": {"mask_token_id": self.mask_token_id, "target_layer_ids": list(self.target_layer_ids)},
        }

    def layer_config(self) -> DecoderConfig:
        """The Qwen3 layer hyper-parameters, as the reference decoder's config (for the shared modules)."""
        return DecoderConfig(arch="qwen3", vocab_size=max(self.vocab_size, 1), hidden_size=self.hidden_size,
                             intermediate_size=self.intermediate_size, num_layers=self.num_layers,
                             num_heads=self.num_heads, num_kv_heads=self.num_kv_heads, head_dim=self.head_dim,
                             rms_norm_eps=self.rms_norm_eps, rope_theta=self.rope_theta, rope_scaling=self.rope_scaling,
                             qk_norm=True)


class DFlashAttention(nn.Module):
    def __init__(self, c: DFlashConfig, layer_idx: int):
        super().__init__()
        self.layer_idx = layer_idx
        self.num_heads, self.num_kv_heads, self.head_dim = c.num_heads, c.num_kv_heads, c.head_dim
        self.scaling = c.head_dim ** -0.5
        self.q_proj = nn.Linear(c.hidden_size, c.num_heads * c.head_dim, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, c.num_kv_heads * c.head_dim, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, c.num_kv_heads * c.head_dim, bias=False)
        self.o_proj = nn.Linear(c.num_heads * c.head_dim, c.hidden_size, bias=False)
        self.q_norm = RMSNorm(c.head_dim, c.rms_norm_eps)
        self.k_norm = RMSNorm(c.head_dim, c.rms_norm_eps)

    def _kv(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B, T, _ = x.shape
        k = self.k_norm(self.k_proj(x).view(B, T, self.num_kv_heads, self.head_dim)).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.num_kv_heads, self.head_dim).transpose(1, 2)
        return apply_rotary(k, cos[:, None], sin[:, None]), v

    def forward(self, a: torch.Tensor, ctx: torch.Tensor, rope_blk, rope_ctx, cache: KVCache) -> torch.Tensor:
        """a: block rows after input_layernorm ``[1, Tb, H]``; ctx: new context rows ``[1, C, H]`` (already
        fc + hidden_norm).  The new context K/V are appended to the cache; block K/V are not cached."""
        B, Tb, _ = a.shape
        q = self.q_norm(self.q_proj(a).view(B, Tb, self.num_heads, self.head_dim)).transpose(1, 2)
        q = apply_rotary(q, rope_blk[0][:, None], rope_blk[1][:, None])
        kb, vb = self._kv(a, *rope_blk)
        ck, cv = cache.k[self.layer_idx], cache.v[self.layer_idx]
        n0 = int(cache.lengths[0])
        C = ctx.shape[1]
        if C:
            kc, vc = self._kv(ctx, *rope_ctx)
            ck[:, :, n0:n0 + C] = kc
            cv[:, :, n0:n0 + C] = vc
        keys = torch.cat([ck[:, :, :n0 + C], kb], dim=2)
        vals = torch.cat([cv[:, :, :n0 + C], vb], dim=2)
        mask = torch.ones(B, Tb, keys.shape[2], dtype=torch.bool)  # non-causal: every key visible
        return self.o_proj(attend(q, keys, vals, mask, self.scaling))


class DFlashLayer(nn.Module):
    def __init__(self, c: DFlashConfig, layer_idx: int):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.self_attn = DFlashAttention(c, layer_idx)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.mlp = MLP(c.layer_config())

    def forward(self, x, ctx, rope_blk, rope_ctx, cache):
        x = x + self.self_attn(self.input_layernorm(x), ctx, rope_blk, rope_ctx, cache)
        return x + self.mlp(self.post_attention_layernorm(x))


class DFlashDraft(nn.Module):
    """The draft network.  ``forward(block_emb, ctx_taps, cache)`` -> final hidden states of the block."""

    def __init__(self, config: DFlashConfig, dtype: torch.dtype = FP32):
        super().__init__()
        c = self.config = config
        self.fc = nn.Linear(len(c.target_layer_ids) * c.hidden_size, c.hidden_size, bias=False)
        self.hidden_norm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.layers = nn.ModuleList(DFlashLayer(c, i) for i in range(c.num_layers))
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self._inv_freq = inv_freq(c.head_dim, c.rope_theta, c.rope_scaling)
        self.to(dtype)

    @property
    def dtype(self) -> torch.dtype:
        return self.fc.weight.dtype

    def new_cache(self, max_seq_len: int) -> KVCache:
        """Context-only K/V cache for one sequence."""
        return KVCache.empty(self.config.layer_config(), 1, max_seq_len, self.dtype)

    def rope(self, positions: torch.Tensor):
        c, s = cos_sin(positions, self._inv_freq)
        return c.to(self.dtype), s.to(self.dtype)

    def forward(self, block_emb: torch.Tensor, ctx_taps: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """block_emb ``[1, Tb, H]``: target embeddings of ``[anchor, MASK...]``; ctx_taps ``[1, C, n_taps*H]``:
        the target layer outputs of the C tokens verified since the last call (positions ``cache.lengths ..
        +C-1``); the block sits right after them.  Appends the context K/V to ``cache``; returns
        ``norm(x)`` ``[1, Tb, H]``."""
        n0 = int(cache.lengths[0])
        C, Tb = ctx_taps.shape[1], block_emb.shape[1]
        pos_ctx = torch.arange(n0, n0 + C)[None]
        pos_blk = torch.arange(n0 + C, n0 + C + Tb)[None]
        ctx = self.hidden_norm(self.fc(ctx_taps.to(self.dtype)))
        rope_ctx, rope_blk = self.rope(pos_ctx), self.rope(pos_blk)
        x = block_emb.to(self.dtype)
        for layer in self.layers:
            x = layer(x, ctx, rope_blk, rope_ctx, cache)
        cache.lengths += C
        return self.norm(x)

    # -- checkpoints -----------------------------------------------------------------------------------

    def save_pretrained(self, path: str | os.PathLike, dtype: torch.dtype = BF16) -> None:
        from safetensors.torch import save_file

        p = Path(path)
        p.mkdir(parents=True, exist_ok=True)
        (p / "config.json").write_text(json.dumps(self.config.to_hf(), indent=2))
        save_file(
            {k: v.detach().to(dtype).contiguous() for k, v in self.state_dict().items()}, str(p / "model.safetensors")
        )

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, dtype: torch.dtype = FP32) -> DFlashDraft:
        """Load a z-lab-format draft; errors list missing, unexpected and mis-shaped keys."""
        from safetensors import safe_open

        p = Path(path)
        cfg = DFlashConfig.from_hf(p)
        model = cls(cfg, dtype)
        files = [p / "model.safetensors"] if (p / "model.safetensors").exists() else sorted(p.glob("*.safetensors"))
        if not files:
            raise FileNotFoundError(f"DFlash draft: no *.safetensors in {str(p)!r}")
        expected = model.state_dict()
        got: dict[str, torch.Tensor] = {}
        for f in files:
            with safe_open(str(f), framework="pt") as sf:
                for k in sf.keys():
                    got[k] = sf.get_tensor(k)
        missing = sorted(set(expected) - set(got))
        unexpected = sorted(set(got) - set(expected))
        bad = sorted(k for k in set(expected) & set(got) if tuple(expected[k].shape) != tuple(got[k].shape))
        if missing or unexpected or bad:
            raise ValueError(f"DFlash draft {str(p)!r}: missing keys {missing}; unexpected keys {unexpected}; "
                             f"shape mismatches {[(k, tuple(got[k].shape), tuple(expected[k].shape)) for k in bad]}")
        model.load_state_dict({k: v.to(dtype) for k, v in got.items()})
        return model
