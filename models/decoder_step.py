"""One decode step of a Llama-3 / Qwen3 decoder, written once over an ``ops`` object.

The same function runs on torch tensors (:class:`TorchOps`, the reference arithmetic, used to check the
step itself against the reference model) and on device tensors with the TT-Lang kernels
(:class:`models.kernel_model.KernelOps`).  Activations are 2-D ``[B, features]`` (one row per user); the
per-layer sequence is the pre-norm decoder with the residual folded into the next norm:

    h = embed(ids)                                          (host glue: a table lookup)
    x = rmsnorm(h)                                          layer 0
    per layer l:
        q, k, v   = x Wq, x Wk, x Wv                        (matmuls)
        q, k      = head_rmsnorm(q), head_rmsnorm(k)        (Qwen3 only)
        q, k      = rope(q, k, positions)
        cache[l]  <- k, v at each user's position
        o         = attention(q, cache[l], positions)       (flash decode; ALSpec swaps in its kernel)
        h, x      = add_rmsnorm(h, o Wo)                    (residual add + post-attention norm, fused)
        m         = silu_mul(x Wgate, x Wup) Wdown
        h, x      = add_rmsnorm(h, m)  with the next layer's input norm (the final norm after the last)
    logits = x Wlm

``taps`` returns the residual stream after the requested layers (HF ``hidden_states[l+1]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from reference.decoder import Decoder
from reference.norm import add_rms_norm, head_rms_norm, rms_norm_fp32
from reference.rope import apply_rotary


@dataclass
class LayerWeights:
    """One layer's weights in the ops' tensor type; projection matrices stored ``[in, out]``."""

    ln1: object
    wq: object
    wk: object
    wv: object
    wo: object
    ln2: object
    wg: object
    wu: object
    wd: object
    qn: object = None
    kn: object = None


def decode_step(ops, weights: list[LayerWeights], final_norm, lm_head, cache, ids: list[int], positions: list[int],
                taps=(), attention=None, after_layer=None):
    """Run one token per user through every layer; returns (logits, tapped residuals).

    The one copy of the layer sequence outside the reference model.  Two hooks let speculation methods run
    through it instead of writing the sequence again: ``attention(layer, q, cache, positions)`` replaces
    ``ops.attention`` (ALSpec's verify-only and two-device attention), and ``after_layer(layer, h, x) ->
    (h, x)`` sees each layer's residual stream and next-layer input (ALSpec's exchange between devices)."""
    c = ops.config
    attend = attention or ops.attention
    h = ops.embed(ids)
    x = ops.rmsnorm(h, weights[0].ln1)
    tapped = {}
    want = set(taps)
    for li, w in enumerate(weights):
        q, k, v = ops.matmul(x, w.wq), ops.matmul(x, w.wk), ops.matmul(x, w.wv)
        if c.qk_norm:
            q, k = ops.head_rmsnorm(q, w.qn, c.num_heads), ops.head_rmsnorm(k, w.kn, c.num_kv_heads)
        q, k = ops.rope(q, k, positions)
        ops.kv_update(cache, li, k, v, positions)
        o = attend(li, q, cache, positions)
        h, x = ops.add_rmsnorm(h, ops.matmul(o, w.wo), w.ln2)
        m = ops.matmul(ops.silu_mul(ops.matmul(x, w.wg), ops.matmul(x, w.wu)), w.wd)
        nxt = weights[li + 1].ln1 if li + 1 < len(weights) else final_norm
        h, x = ops.add_rmsnorm(h, m, nxt)
        if after_layer is not None:
            h, x = after_layer(li, h, x)
        if li in want:
            tapped[li] = h
    return ops.matmul(x, lm_head), [tapped[t] for t in taps]


def layer_weights(layers, vec, mat) -> list[LayerWeights]:
    """:class:`LayerWeights` of HF-named decoder layers (``input_layernorm``, ``self_attn.{q,k,v,o}_proj``,
    ``q_norm`` / ``k_norm``, ``post_attention_layernorm``, ``mlp.{gate,up,down}_proj``: the reference decoder's
    and the DFlash draft's alike), each norm weight through ``vec`` and each projection through ``mat``
    (which stores it ``[in, out]``)."""
    ws = []
    for layer in layers:
        a, m = layer.self_attn, layer.mlp
        ws.append(LayerWeights(
            ln1=vec(layer.input_layernorm.weight), wq=mat(a.q_proj.weight), wk=mat(a.k_proj.weight),
            wv=mat(a.v_proj.weight), wo=mat(a.o_proj.weight), ln2=vec(layer.post_attention_layernorm.weight),
            wg=mat(m.gate_proj.weight), wu=mat(m.up_proj.weight), wd=mat(m.down_proj.weight),
            qn=vec(a.q_norm.weight) if a.q_norm is not None else None,
            kn=vec(a.k_norm.weight) if a.k_norm is not None else None))
    return ws


def shared_block(cache_batch: int, rows: int) -> bool:
    """Several rows against a one-user cache: the rows are a block of one sequence (a verification block, a
    DFlash draft block, a prefill chunk): every row reads and writes that user's cache at its own position."""
    return cache_batch == 1 and rows > 1


class TorchOps:
    """The decode step's ops as reference torch arithmetic (float32), on torch tensors.

    The KV cache is a :class:`reference.decoder.KVCache` (``[B, n_kv, S_max, D]`` per layer).  Rows are users,
    or (:func:`shared_block`) the rows of a block of one sequence."""

    def __init__(self, model: Decoder):
        self.model = model
        self.config = model.config
        self.eps = model.config.rms_norm_eps
        self._embed, self._rope_cos_sin = model.embed, model.rope_cos_sin

    @classmethod
    def for_parts(cls, config, embed, rope_cos_sin) -> TorchOps:
        """Ops for a network that is not a :class:`Decoder` (the DFlash draft: its own layer config and RoPE, the
        target's embedding)."""
        ops = cls.__new__(cls)
        ops.model, ops.config, ops.eps = None, config, config.rms_norm_eps
        ops._embed, ops._rope_cos_sin = embed, rope_cos_sin
        return ops

    @staticmethod
    def vec(t):
        return t.detach().float()

    @staticmethod
    def mat(t):
        return t.detach().float().T

    def weights(self) -> tuple[list[LayerWeights], torch.Tensor, torch.Tensor]:
        return (layer_weights(self.model.layers, self.vec, self.mat), self.vec(self.model.norm.weight),
                self.mat(self.model.lm_head.weight))

    def embed(self, ids):
        return self._embed(torch.tensor(list(ids))).float()

    def matmul(self, x, w):
        return x @ w

    def rmsnorm(self, x, w):
        return rms_norm_fp32(x, w, self.eps)

    def add_rmsnorm(self, x, r, w):
        return add_rms_norm(x, r, w, self.eps)

    def head_rmsnorm(self, x, w, n_heads):
        B = x.shape[0]
        return head_rms_norm(x.view(B, n_heads, -1), w, self.eps).reshape(B, -1)

    def rope(self, q, k, positions):
        cos, sin = self._rope_cos_sin(torch.tensor(positions))
        B, D = q.shape[0], self.config.head_dim
        rq = apply_rotary(q.view(B, -1, D), cos[:, None], sin[:, None]).reshape(B, -1)
        rk = apply_rotary(k.view(B, -1, D), cos[:, None], sin[:, None]).reshape(B, -1)
        return rq, rk

    def kv_update(self, cache, layer, k, v, positions):
        D = self.config.head_dim
        one = shared_block(cache.batch, k.shape[0])
        for r, p in enumerate(positions):
            b = 0 if one else r
            cache.k[layer][b, :, p] = k[r].view(-1, D).to(cache.dtype)
            cache.v[layer][b, :, p] = v[r].view(-1, D).to(cache.dtype)

    def attention(self, layer, q, cache, positions):
        from reference.attention import sdpa_decode

        B, D = q.shape[0], self.config.head_dim
        kc, vc = cache.k[layer], cache.v[layer]
        if shared_block(cache.batch, B):
            kc, vc = kc.expand(B, *kc.shape[1:]), vc.expand(B, *vc.shape[1:])
        o = sdpa_decode(q.view(B, -1, D), kc.float(), vc.float(), torch.tensor(positions))
        return o.reshape(B, -1).float()

    def silu_mul(self, g, u):
        return torch.nn.functional.silu(g) * u

    def add(self, a, b):
        return a + b
