"""Decoder-only transformer reference shared by Llama-3, Qwen3 and Qwen3-MoE (plain PyTorch, CPU, no ttl).

This is the golden model that the kernel-built models, DFlash and ALSpec are checked against.  It follows
HF transformers' ``LlamaForCausalLM`` / ``Qwen3ForCausalLM`` / ``Qwen3MoeForCausalLM`` (eager attention) op
for op, in fp32 or bf16:

    h = embed_tokens(ids)
    for each layer:  a = input_layernorm(h)
                     q, k, v = q_proj(a), k_proj(a), v_proj(a)            # [B, T, heads, head_dim]
                     q, k = q_norm(q), k_norm(k)                          # Qwen3 only, per head, before RoPE
                     q, k = rope(q), rope(k)                              # rotate-half, per-user positions
                     cache[k, v] <- k, v                                  # post-RoPE K, raw V
                     o = softmax(q k^T * head_dim**-0.5 + causal mask) v  # GQA: kv head = q head // groups
                     h = h + o_proj(o)
                     h = h + down_proj(silu(gate_proj(n)) * up_proj(n)),  n = post_attention_layernorm(h)
                         (a Qwen3-MoE sparse layer: h = h + SparseMoeBlock(n), :mod:`reference.moe`)
    logits = lm_head(norm(h))                                             # lm_head tied to embed_tokens or not

Each layer's MLP is chosen by :meth:`DecoderConfig.is_sparse_layer` (transformers' rule): the dense SwiGLU
:class:`MLP` for every Llama-3 / Qwen3 layer and the dense layers of a Qwen3-MoE, the routed experts
(:class:`reference.moe.SparseMoeBlock`: router ``mlp.gate``, experts ``mlp.experts.{e}.{gate,up,down}_proj``)
for its sparse layers.

Parameter names are HF's state-dict keys (``model.embed_tokens.weight``,
``model.layers.{i}.self_attn.q_proj.weight``, ..., ``lm_head.weight``), so loading a checkpoint is a
key-for-key copy (:mod:`reference.hf`).

Batching and the KV cache
-------------------------
:class:`KVCache` is static: per layer ``k``/``v`` of shape ``[B, n_kv_heads, S_max, head_dim]`` plus the
per-user filled length ``lengths[B]``.  A forward over ``input_ids[B, T]`` puts the new tokens of user
``b`` at positions ``lengths[b] .. lengths[b] + T - 1`` (RoPE uses these positions), writes their K/V
there, lets them attend causally to everything the user has so far, and advances ``lengths[b]``.  Users
may be at different lengths.  The optional ``num_valid[B]`` says how many of the T new tokens of each
user are real (right padding): only those are written to the cache and advance its length; results at
padded positions are finite but unspecified (they attend only to the user's valid keys).  ``num_valid``
of 0 leaves a user untouched (an idle user in a batched step).

Cache entries at or beyond a user's length are never read: keys there are masked out of the scores and
values there are zeroed before the weighted sum, so stale or garbage data (even NaN/inf) cannot leak.
That makes :meth:`KVCache.crop` (speculative rollback) a pure length change.

Attention uses a finite mask value (``finfo.min``, as HF) so a row with no valid key gives zeros, not NaN.

dtype
-----
``dtype`` is the parameter / activation dtype (fp32 or :data:`reference.BF16`); as in HF, RMSNorm
computes in fp32 and casts back before the weight, RoPE tables are computed in fp32 and cast to the
activation dtype, the softmax is fp32 and cast back, everything else runs in ``dtype``.  Logits are
returned as fp32 (the ``dtype`` values, widened).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from . import BF16, FP32
from .config import SUPPORTED_ARCHITECTURES, DecoderConfig
from .mlp import MLP
from .moe import SparseMoeBlock
from .norm import rms_norm
from .rope import apply_rotary, cos_sin, inv_freq

__all__ = [
    "SUPPORTED_ARCHITECTURES",
    "DecoderConfig",
    "KVCache",
    "DecoderOutput",
    "RMSNorm",
    "Attention",
    "MLP",
    "DecoderLayer",
    "Decoder",
    "attend",
    "greedy_generate",
]

# ----------------------------------------------------------------------------------------------------------
# KV cache
# ----------------------------------------------------------------------------------------------------------


@dataclass
class KVCache:
    """Static per-layer KV cache.

    ``k[i]``, ``v[i]``: ``[B, n_kv_heads, S_max, head_dim]`` for layer i (post-RoPE K, raw V, as HF);
    ``lengths``: ``LongTensor[B]``, how many positions of each user are filled.  Entries at positions
    ``>= lengths[b]`` are never read (see the module docstring), so they may hold anything.
    """

    k: list[torch.Tensor]
    v: list[torch.Tensor]
    lengths: torch.Tensor

    @classmethod
    def empty(cls, config: DecoderConfig, batch: int, max_seq_len: int, dtype: torch.dtype = FP32,
              fill: float = 0.0) -> KVCache:
        """A cache for ``batch`` users of up to ``max_seq_len`` tokens each, all lengths 0.  ``fill`` is
        the value of the (never read) unfilled entries; tests set garbage there."""
        if batch <= 0:
            raise ValueError(f"KVCache.empty batch: expected a positive int; got {batch}")
        if max_seq_len <= 0:
            raise ValueError(f"KVCache.empty max_seq_len: expected a positive int; got {max_seq_len}")
        shape = (batch, config.num_kv_heads, max_seq_len, config.head_dim)
        ks = [torch.full(shape, fill, dtype=dtype) for _ in range(config.num_layers)]
        vs = [torch.full(shape, fill, dtype=dtype) for _ in range(config.num_layers)]
        return cls(ks, vs, torch.zeros(batch, dtype=torch.long))

    @property
    def batch(self) -> int:
        return int(self.lengths.shape[0])

    @property
    def max_seq_len(self) -> int:
        return int(self.k[0].shape[2])

    @property
    def dtype(self) -> torch.dtype:
        return self.k[0].dtype

    def crop(self, new_lengths: int | Sequence[int] | torch.Tensor) -> KVCache:
        """Roll users back to ``new_lengths`` (an int for all users, or one per user), in place.

        Only shortens: ``0 <= new_lengths[b] <= lengths[b]``, otherwise ``ValueError``.  Entries past the
        new lengths stay in memory but are never read again; the next forward overwrites them."""
        nl = torch.as_tensor(new_lengths, dtype=torch.long)
        if nl.dim() == 0:
            nl = nl.expand(self.batch)
        if nl.shape != self.lengths.shape:
            raise ValueError(
                f"KVCache.crop new_lengths: expected an int or {self.batch} values; got shape {tuple(nl.shape)}"
            )
        if bool((nl < 0).any()) or bool((nl > self.lengths).any()):
            raise ValueError(
                f"KVCache.crop new_lengths: expected 0 <= new_lengths <= lengths={self.lengths.tolist()}; got "
                f"{nl.tolist()}"
            )
        self.lengths.copy_(nl)
        return self

    def clone(self) -> KVCache:
        return KVCache([t.clone() for t in self.k], [t.clone() for t in self.v], self.lengths.clone())


# ----------------------------------------------------------------------------------------------------------
# Modules (names and parameter shapes = HF)
# ----------------------------------------------------------------------------------------------------------


class RMSNorm(nn.Module):
    """HF LlamaRMSNorm / Qwen3RMSNorm: ``weight * (x * rsqrt(mean(x^2) + eps)).to(x.dtype)`` over the last dim."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return rms_norm(x, self.weight, self.eps)


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, key_mask: torch.Tensor, scaling: float) -> torch.Tensor:
    """Masked GQA attention, HF eager order of operations.

    q ``[B, Hq, T, d]``; k, v ``[B, Hkv, S, d]`` (Hq a multiple of Hkv, query head h uses kv head
    ``h // (Hq // Hkv)``); key_mask bool ``[B, T, S]`` (True = query t may attend key s).  Returns
    ``[B, T, Hq * d]``.  Masked keys get ``finfo.min`` scores and their values are zeroed, so nothing
    (not even NaN) leaks from them; a row with no valid key gives zeros.
    """
    groups = q.shape[1] // k.shape[1]
    m = key_mask[:, None]                                         # [B, 1, T, S]
    v = torch.where(key_mask.any(1)[:, None, :, None], v, torch.zeros((), dtype=v.dtype))  # [B, Hkv, S, d]
    if groups > 1:
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
    scores = torch.matmul(q, k.transpose(2, 3)) * scaling         # [B, Hq, T, S]
    scores = scores.masked_fill(~m, torch.finfo(scores.dtype).min)
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
    probs = probs.masked_fill(~m, 0.0)
    out = torch.matmul(probs, v)                                  # [B, Hq, T, d]
    return out.transpose(1, 2).reshape(q.shape[0], q.shape[2], -1)


# attention_fn(layer_idx, q, k, v, key_mask, scaling) -> [B, T, Hq*d]; same contract as :func:`attend`.
AttentionFn = Callable[[int, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, float], torch.Tensor]


@dataclass
class _Step:
    """Per-forward bookkeeping shared by all layers (positions, cache write ranges, key mask)."""

    starts: torch.Tensor    # [B] cache length before this forward
    n_valid: torch.Tensor   # [B] new tokens written per user
    key_mask: torch.Tensor  # [B, T, S] over cache positions 0..S-1
    span: int               # S = max(starts + n_valid)
    attention_fn: AttentionFn | None


class Attention(nn.Module):
    """GQA self-attention (HF ``self_attn``): q/k/v/o projections, Qwen3 q_norm/k_norm, RoPE, cache."""

    def __init__(self, config: DecoderConfig, layer_idx: int):
        super().__init__()
        c = config
        self.layer_idx = layer_idx
        self.num_heads, self.num_kv_heads, self.head_dim = c.num_heads, c.num_kv_heads, c.head_dim
        self.scaling = c.head_dim ** -0.5
        self.q_proj = nn.Linear(c.hidden_size, c.num_heads * c.head_dim, bias=c.attention_bias)
        self.k_proj = nn.Linear(c.hidden_size, c.num_kv_heads * c.head_dim, bias=c.attention_bias)
        self.v_proj = nn.Linear(c.hidden_size, c.num_kv_heads * c.head_dim, bias=c.attention_bias)
        self.o_proj = nn.Linear(c.num_heads * c.head_dim, c.hidden_size, bias=c.attention_bias)
        if c.qk_norm:
            self.q_norm = RMSNorm(c.head_dim, c.rms_norm_eps)
            self.k_norm = RMSNorm(c.head_dim, c.rms_norm_eps)
        else:
            self.q_norm = self.k_norm = None

    def project(
        self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x ``[B, T, H]`` (already input_layernorm'd), cos/sin ``[B, T, d]`` -> q ``[B, Hq, T, d]``,
        k ``[B, Hkv, T, d]`` (QK-norm'd if Qwen3, then RoPE'd) and raw v ``[B, Hkv, T, d]``."""
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.num_heads, self.head_dim)
        k = self.k_proj(x).view(B, T, self.num_kv_heads, self.head_dim)
        v = self.v_proj(x).view(B, T, self.num_kv_heads, self.head_dim)
        if self.q_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        c, s = cos[:, None], sin[:, None]
        return apply_rotary(q, c, s), apply_rotary(k, c, s), v

    def forward(
        self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, cache: KVCache, step: _Step
    ) -> torch.Tensor:
        q, k, v = self.project(x, cos, sin)
        ck, cv = cache.k[self.layer_idx], cache.v[self.layer_idx]
        for b in range(x.shape[0]):
            s, n = int(step.starts[b]), int(step.n_valid[b])
            if n:
                ck[b, :, s:s + n] = k[b, :, :n]
                cv[b, :, s:s + n] = v[b, :, :n]
        keys, vals = ck[:, :, :step.span], cv[:, :, :step.span]
        fn = step.attention_fn
        o = attend(q, keys, vals, step.key_mask, self.scaling) if fn is None else fn(
            self.layer_idx, q, keys, vals, step.key_mask, self.scaling)
        return self.o_proj(o)


class DecoderLayer(nn.Module):
    """Pre-norm block: ``h += self_attn(input_layernorm(h)); h += mlp(post_attention_layernorm(h))``.

    ``mlp`` is the dense :class:`MLP`, or :class:`reference.moe.SparseMoeBlock` on the layers where
    ``config.is_sparse_layer(layer_idx)`` (Qwen3-MoE)."""

    def __init__(self, config: DecoderConfig, layer_idx: int):
        super().__init__()
        self.input_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.self_attn = Attention(config, layer_idx)
        self.post_attention_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        if config.is_sparse_layer(layer_idx):
            self.mlp = SparseMoeBlock(config)
        else:
            self.mlp = MLP(config)

    def forward(
        self, h: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, cache: KVCache, step: _Step
    ) -> torch.Tensor:
        h = h + self.self_attn(self.input_layernorm(h), cos, sin, cache, step)
        return h + self.mlp(self.post_attention_layernorm(h))


class _Body(nn.Module):
    """HF's inner ``model`` (prefix ``model.``): embed_tokens, layers, norm."""

    def __init__(self, config: DecoderConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(config, i) for i in range(config.num_layers))
        self.norm = RMSNorm(config.hidden_size, config.rms_norm_eps)


@dataclass
class DecoderOutput:
    """``logits`` ``[B, T, V]`` fp32 (``[B, 1, V]`` with ``last_only``); ``hidden_taps``: one ``[B, T, H]``
    per requested layer id (output of decoder layer k, before the final norm; HF ``hidden_states[k+1]``
    for k < num_layers - 1); ``last_hidden`` ``[B, T, H]``: after the final norm, the lm_head input (HF
    ``last_hidden_state``, which is also HF's ``hidden_states[-1]``).  Taps and last_hidden in the model
    dtype."""

    logits: torch.Tensor | None
    hidden_taps: list[torch.Tensor]
    last_hidden: torch.Tensor


class Decoder(nn.Module):
    """Llama-3 / Qwen3 / Qwen3-MoE decoder-only LM (see the module docstring).

    Pieces for reuse: :meth:`embed`, :attr:`layers` (``layers[i].input_layernorm``, ``.self_attn``
    with ``{q,k,v,o}_proj`` / ``q_norm`` / ``k_norm`` / :meth:`Attention.project`,
    ``.post_attention_layernorm``, ``.mlp`` with ``{gate,up,down}_proj``, or on a Qwen3-MoE sparse layer a
    :class:`reference.moe.SparseMoeBlock` with ``gate`` (the router) and ``experts[e].{gate,up,down}_proj``),
    :attr:`norm`, :attr:`lm_head` (an ``nn.Linear``, callable on ``[..., H]``), :meth:`rope_cos_sin`,
    :func:`attend`.
    """

    arch: str | None = None  # subclasses (LlamaModel, Qwen3Model, Qwen3MoeModel) pin the architecture and QK-norm
    qk_norm: bool | None = None

    def __init__(self, config: DecoderConfig, dtype: torch.dtype = FP32):
        super().__init__()
        if self.arch is not None and (config.arch != self.arch or config.qk_norm != self.qk_norm):
            raise ValueError(f"{type(self).__name__} config: expected arch {self.arch!r} with qk_norm {self.qk_norm}; "
                             f"got arch {config.arch!r}, qk_norm {config.qk_norm}")
        if dtype not in (FP32, BF16):
            raise ValueError(f"Decoder dtype: expected torch.float32 or reference.BF16; got {dtype}")
        self.config = config
        self.model = _Body(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.tie_weights()
        with torch.device("cpu"):  # also right when built under torch.device("meta") by the loader
            self._inv_freq = inv_freq(config.head_dim, config.rope_theta, config.rope_scaling)
        self.attention_scaling = 1.0  # HF's post-scaling of cos/sin: 1.0 for default and llama3 RoPE
        self.to(dtype)

    # -- pieces ----------------------------------------------------------------------------------------

    def tie_weights(self) -> None:
        """``lm_head.weight`` becomes ``model.embed_tokens.weight`` (same Parameter) when tied."""
        if self.config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    @property
    def layers(self) -> nn.ModuleList:
        return self.model.layers

    @property
    def norm(self) -> RMSNorm:
        return self.model.norm

    @property
    def dtype(self) -> torch.dtype:
        return self.model.embed_tokens.weight.dtype

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Token embeddings ``[*ids.shape, H]`` in the model dtype."""
        return self.model.embed_tokens(ids)

    def rope_cos_sin(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """cos, sin ``[*positions.shape, head_dim]`` in fp32 for integer positions (HF rotate-half
        tables, llama3 scaling applied; cast to the activation dtype before use, as HF does)."""
        return cos_sin(positions, self._inv_freq.to(positions.device), self.attention_scaling)

    # -- forward ---------------------------------------------------------------------------------------

    def forward(
        self,
        input_ids: torch.Tensor,
        cache: KVCache | None = None,
        taps: Sequence[int] = (),
        *,
        num_valid: torch.Tensor | Sequence[int] | None = None,
        last_only: bool = False,
        attention_fn: AttentionFn | None = None,
    ) -> DecoderOutput:
        """Run ``input_ids[B, T]`` (see the module docstring for positions, cache and padding).

        cache: None = a fresh sequence from position 0 with a throw-away cache; otherwise the tokens
        continue each user's sequence and the cache advances by ``num_valid`` (default T).
        taps: decoder-layer ids whose outputs to return.  last_only: logits only at each user's last
        valid new token (``[B, 1, V]``; a user with ``num_valid`` 0 gets that of position 0, meaningless).
        attention_fn: replaces :func:`attend` (same arguments plus the layer index first), e.g. for an
        approximate-attention experiment.
        """
        c = self.config
        if (
            not isinstance(input_ids, torch.Tensor)
            or input_ids.dim() != 2
            or input_ids.dtype not in (torch.long, torch.int32, torch.int64)
        ):
            got = (
                f"{tuple(input_ids.shape)} {input_ids.dtype}"
                if isinstance(input_ids, torch.Tensor)
                else type(input_ids).__name__
            )
            raise ValueError(f"Decoder.forward input_ids: expected an integer tensor [B, T]; got {got}")
        B, T = input_ids.shape
        if T == 0:
            raise ValueError("Decoder.forward input_ids: expected T >= 1 new tokens; got T = 0")
        if bool(((input_ids < 0) | (input_ids >= c.vocab_size)).any()):
            raise ValueError(
                f"Decoder.forward input_ids: expected ids in [0, {c.vocab_size}); got min {int(input_ids.min())}, "
                f"max {int(input_ids.max())}"
            )
        taps = list(taps)
        bad = [t for t in taps if not (0 <= int(t) < c.num_layers)]
        if bad:
            raise ValueError(f"Decoder.forward taps: expected layer ids in [0, {c.num_layers}); got {bad}")
        if cache is None:
            cache = KVCache.empty(c, B, T, self.dtype)
        else:
            if cache.batch != B:
                raise ValueError(f"Decoder.forward cache: expected batch {B}; got a cache for {cache.batch} users")
            if cache.dtype != self.dtype:
                raise ValueError(f"Decoder.forward cache: expected dtype {self.dtype}; got {cache.dtype}")
            if len(cache.k) != c.num_layers or tuple(cache.k[0].shape[1::2]) != (c.num_kv_heads, c.head_dim):
                raise ValueError(
                    f"Decoder.forward cache: expected {c.num_layers} layers of [B, {c.num_kv_heads}, S, {c.head_dim}]; "
                    f"got {len(cache.k)} of {tuple(cache.k[0].shape)}")
        if num_valid is None:
            n_valid = torch.full((B,), T, dtype=torch.long)
        else:
            n_valid = torch.as_tensor(num_valid, dtype=torch.long).reshape(-1)
            if n_valid.shape != (B,) or bool(((n_valid < 0) | (n_valid > T)).any()):
                raise ValueError(f"Decoder.forward num_valid: expected {B} counts in [0, {T}]; got {n_valid.tolist()}")
        starts = cache.lengths.clone()
        ends = starts + n_valid
        if bool((ends > cache.max_seq_len).any()):
            raise ValueError(
                f"Decoder.forward cache: expected room for the new tokens (lengths + num_valid <= max_seq_len "
                f"{cache.max_seq_len}); got lengths {starts.tolist()} + num_valid {n_valid.tolist()}")

        positions = starts[:, None] + torch.arange(T)                       # [B, T]
        span = max(int(ends.max()), 1)
        j = torch.arange(span)
        key_mask = (j[None, None, :] <= positions[:, :, None]) & (j[None, None, :] < ends[:, None, None])
        step = _Step(starts, n_valid, key_mask, span, attention_fn)

        cos, sin = self.rope_cos_sin(positions)
        cos, sin = cos.to(self.dtype), sin.to(self.dtype)
        h = self.embed(input_ids)
        tapped: dict[int, torch.Tensor] = {}
        want = set(int(t) for t in taps)
        for i, layer in enumerate(self.layers):
            h = layer(h, cos, sin, cache, step)
            if i in want:
                tapped[i] = h
        cache.lengths.copy_(ends)
        hn = self.norm(h)
        head_in = hn
        if last_only:
            idx = (n_valid - 1).clamp(min=0)
            head_in = hn[torch.arange(B), idx][:, None]
        logits = self.lm_head(head_in).float()
        return DecoderOutput(logits=logits, hidden_taps=[tapped[int(t)] for t in taps], last_hidden=hn)


# ----------------------------------------------------------------------------------------------------------
# Generation
# ----------------------------------------------------------------------------------------------------------


@torch.inference_mode()
def greedy_generate(model: Decoder, input_ids: torch.Tensor, max_new_tokens: int,
                    eos_token_id: int | Sequence[int] | None = None, pad_token_id: int | None = None,
                    attention_fn=None) -> torch.Tensor:
    """Plain greedy decoding with the KV cache: the golden plain decode.

    input_ids ``[B, T]`` (or ``[T]``, one user); returns ``[B, T + n]`` (prompt then generated tokens,
    like HF ``generate``), ``n <= max_new_tokens``.  Once a user emits an EOS (any of ``eos_token_id``)
    its later tokens are ``pad_token_id`` (default: the first EOS id) and generation stops when every
    user has finished, exactly as HF ``generate(do_sample=False)``.

    ``attention_fn`` replaces the attention of every forward (see :meth:`Decoder.forward`); if it has an
    ``active`` attribute, it is set before each decode step to the ``[B]`` mask of users still generating.
    """
    if input_ids.dim() == 1:
        input_ids = input_ids[None]
    if max_new_tokens < 0:
        raise ValueError(f"greedy_generate max_new_tokens: expected >= 0; got {max_new_tokens}")
    eos = (
        []
        if eos_token_id is None
        else ([int(eos_token_id)] if isinstance(eos_token_id, int) else [int(e) for e in eos_token_id])
    )
    pad = pad_token_id if pad_token_id is not None else (eos[0] if eos else 0)
    B, T = input_ids.shape
    out = [input_ids]
    if max_new_tokens == 0:
        return input_ids
    cache = KVCache.empty(model.config, B, T + max_new_tokens, model.dtype)
    done = torch.zeros(B, dtype=torch.bool)
    eos_t = torch.tensor(eos, dtype=torch.long)
    logits = model(input_ids, cache, last_only=True, attention_fn=attention_fn).logits[:, -1]
    for step in range(max_new_tokens):
        nxt = logits.argmax(-1)
        nxt = torch.where(done, torch.full_like(nxt, pad), nxt)
        out.append(nxt[:, None])
        if len(eos):
            done = done | torch.isin(nxt, eos_t)
            if bool(done.all()):
                break
        if step + 1 < max_new_tokens:
            if hasattr(attention_fn, "active"):
                attention_fn.active = ~done
            logits = model(nxt[:, None], cache, attention_fn=attention_fn).logits[:, -1]
    return torch.cat(out, dim=1)
