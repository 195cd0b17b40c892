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


class TorchOps:
    """The decode step's ops as reference torch arithmetic (float32), on torch tensors.

    The KV cache is a :class:`reference.decoder.KVCache` (``[B, n_kv, S_max, D]`` per layer)."""

    def __init__(self, model: Decoder):
        self.model = model
        self.config = model.config
        self.eps = model.config.rms_norm_eps

    def weights(self) -> tuple[list[LayerWeights], torch.Tensor, torch.Tensor]:
        f = lambda t: t.detach().float()  # noqa: E731
        ws = []
        for layer in self.model.layers:
            a, m = layer.self_attn, layer.mlp
            ws.append(LayerWeights(
                ln1=f(layer.input_layernorm.weight), wq=f(a.q_proj.weight).T, wk=f(a.k_proj.weight).T,
                wv=f(a.v_proj.weight).T, wo=f(a.o_proj.weight).T, ln2=f(layer.post_attention_layernorm.weight),
                wg=f(m.gate_proj.weight).T, wu=f(m.up_proj.weight).T, wd=f(m.down_proj.weight).T,
                qn=f(a.q_norm.weight) if a.q_norm is not None else None,
                kn=f(a.k_norm.weight) if a.k_norm is not None else None))
        return ws, f(self.model.norm.weight), f(self.model.lm_head.weight).T

    def embed(self, ids):
        return self.model.embed(torch.tensor(ids)).float()

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
        cos, sin = self.model.rope_cos_sin(torch.tensor(positions))
        B, D = q.shape[0], self.config.head_dim
        rq = apply_rotary(q.view(B, -1, D), cos[:, None], sin[:, None]).reshape(B, -1)
        rk = apply_rotary(k.view(B, -1, D), cos[:, None], sin[:, None]).reshape(B, -1)
        return rq, rk

    def kv_update(self, cache, layer, k, v, positions):
        D = self.config.head_dim
        for b, p in enumerate(positions):
            cache.k[layer][b, :, p] = k[b].view(-1, D)
            cache.v[layer][b, :, p] = v[b].view(-1, D)

    def attention(self, layer, q, cache, positions):
        from reference.attention import sdpa_decode

        B, D = q.shape[0], self.config.head_dim
        o = sdpa_decode(q.view(B, -1, D), cache.k[layer], cache.v[layer], torch.tensor(positions))
        return o.reshape(B, -1).float()

    def silu_mul(self, g, u):
        return torch.nn.functional.silu(g) * u
