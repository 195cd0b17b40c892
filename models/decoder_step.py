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
        m         = silu_mul(x Wgate, x Wup) Wdown          dense layers
        m         = moe(x, experts)                         Qwen3-MoE sparse layers (router + routed experts)
        h, x      = add_rmsnorm(h, m)  with the next layer's input norm (the final norm after the last)
    logits = x Wlm

A sparse layer (``LayerWeights.moe`` set, :meth:`reference.config.DecoderConfig.is_sparse_layer`) replaces the
dense SwiGLU by ``ops.moe(x, moe_weights)``: router logits ``x Wr``, softmax + top-k (+ renormalisation), the
selected experts' SwiGLUs and their weighted sum (:class:`TorchOps`: the reference arithmetic of
:class:`reference.moe.SparseMoeBlock`; :class:`models.kernel_model.KernelOps`: the all-experts masked compute on
the kernels).

``taps`` returns the residual stream after the requested layers (HF ``hidden_states[l+1]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from reference.decoder import Decoder
from reference.norm import add_rms_norm, head_rms_norm, rms_norm_fp32
from reference.rope import apply_rotary


@dataclass
class MoeWeights:
    """A routed-experts MLP (Qwen3-MoE sparse layer) in the ops' tensor type, ``[in, out]`` storage: ``router``
    ``[H, E]``; ``gate``, ``up`` (``[H, I]`` each) and ``down`` (``[I, H]``) of the ``num_experts`` experts, in the
    layout the ops want (:class:`TorchOps`: one matrix per expert in lists; ``KernelOps``: concatenated)."""

    router: object
    gate: object
    up: object
    down: object
    num_experts: int
    top_k: int
    norm_topk_prob: bool
    inter: int  # moe_intermediate_size


@dataclass
class LayerWeights:
    """One layer's weights in the ops' tensor type; projection matrices stored ``[in, out]``.  A sparse layer
    has ``moe`` and no dense ``wg``/``wu``/``wd`` (None)."""

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
    moe: MoeWeights | None = None


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
        if w.moe is not None:
            m = ops.moe(x, w.moe)
        else:
            m = ops.matmul(ops.silu_mul(ops.matmul(x, w.wg), ops.matmul(x, w.wu)), w.wd)
        nxt = weights[li + 1].ln1 if li + 1 < len(weights) else final_norm
        h, x = ops.add_rmsnorm(h, m, nxt)
        if after_layer is not None:
            h, x = after_layer(li, h, x)
        if li in want:
            tapped[li] = h
    return ops.matmul(x, lm_head), [tapped[t] for t in taps]


def is_moe_block(mlp) -> bool:
    """A routed-experts MLP (:class:`reference.moe.SparseMoeBlock`: ``gate`` router and ``experts``), as opposed to
    the dense SwiGLU."""
    return hasattr(mlp, "experts") and hasattr(mlp, "gate")


def moe_block_parts(block, hidden: int) -> tuple[torch.Tensor, list[tuple[torch.Tensor, ...]], int, bool, int]:
    """The checked parts of a routed-experts block (torch ``Linear`` layouts): ``(router [E, H], [(gate [I, H],
    up [I, H], down [H, I]) per expert], top_k, norm_topk_prob, I)``.  ValueError naming the part on bad input:
    a router that is not ``[E, H]``, ``top_k`` outside ``1..E``, missing experts or expert projections, experts
    of different or mismatched shapes."""
    router = getattr(getattr(block, "gate", None), "weight", None)
    if router is None:
        raise ValueError("mlp.gate.weight: the router weight is missing")
    n = getattr(block, "num_experts", None)
    if router.dim() != 2 or router.shape[1] != hidden or (n is not None and router.shape[0] != n):
        raise ValueError(f"mlp.gate.weight: expected the router shape ({n if n is not None else 'E'}, {hidden}) "
                         f"[num_experts, hidden]; got {tuple(router.shape)}")
    n_exp = int(router.shape[0])
    top_k = getattr(block, "top_k", getattr(block.gate, "top_k", None))
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= n_exp:
        raise ValueError(f"num_experts_per_tok: expected 1 <= num_experts_per_tok <= num_experts ({n_exp}); "
                         f"got {top_k!r}")
    experts = list(getattr(block, "experts", []))
    if len(experts) != n_exp:
        raise ValueError(f"mlp.experts: expected {n_exp} experts (the router's rows); got {len(experts)}")
    parts, inter = [], None
    for e, ex in enumerate(experts):
        ws = []
        for name in ("gate_proj", "up_proj", "down_proj"):
            w = getattr(getattr(ex, name, None), "weight", None)
            if w is None:
                raise ValueError(f"mlp.experts.{e}.{name}.weight: missing expert weight")
            ws.append(w)
        g, u, d = ws
        inter = int(g.shape[0]) if inter is None else inter
        for name, w, want in (("gate_proj", g, (inter, hidden)), ("up_proj", u, (inter, hidden)),
                              ("down_proj", d, (hidden, inter))):
            if tuple(w.shape) != want:
                raise ValueError(f"mlp.experts.{e}.{name}.weight: expected shape {want}; got {tuple(w.shape)}")
        parts.append((g, u, d))
    norm = bool(getattr(block.gate, "norm_topk_prob", getattr(block, "norm_topk_prob", False)))
    return router, parts, top_k, norm, inter


def moe_weights_lists(block, mat, hidden: int) -> MoeWeights:
    """:class:`MoeWeights` with one ``[in, out]`` matrix per expert (through ``mat``) in lists."""
    router, parts, top_k, norm, inter = moe_block_parts(block, hidden)
    return MoeWeights(router=mat(router), gate=[mat(g) for g, _, _ in parts], up=[mat(u) for _, u, _ in parts],
                      down=[mat(d) for _, _, d in parts], num_experts=len(parts), top_k=top_k, norm_topk_prob=norm,
                      inter=inter)


def layer_weights(layers, vec, mat, moe=None) -> list[LayerWeights]:
    """:class:`LayerWeights` of HF-named decoder layers (``input_layernorm``, ``self_attn.{q,k,v,o}_proj``,
    ``q_norm`` / ``k_norm``, ``post_attention_layernorm``, ``mlp.{gate,up,down}_proj``: the reference decoder's
    and the DFlash draft's alike), each norm weight through ``vec`` and each projection through ``mat``
    (which stores it ``[in, out]``).  A Qwen3-MoE sparse layer's ``mlp`` (router ``gate``, ``experts``) goes
    through ``moe(block) -> MoeWeights``; by default the ops' own ``moe_weights`` when ``mat`` is a method of an
    ops object that has one (``KernelOps``), else :func:`moe_weights_lists` through ``mat``."""
    if moe is None:
        moe = getattr(getattr(mat, "__self__", None), "moe_weights", None)
    ws = []
    for layer in layers:
        a, m = layer.self_attn, layer.mlp
        if is_moe_block(m):
            hidden = int(layer.input_layernorm.weight.shape[0])
            mw = moe(m) if moe is not None else moe_weights_lists(m, mat, hidden)
            dense = dict(wg=None, wu=None, wd=None)
        else:
            mw = None
            dense = dict(wg=mat(m.gate_proj.weight), wu=mat(m.up_proj.weight), wd=mat(m.down_proj.weight))
        ws.append(LayerWeights(
            ln1=vec(layer.input_layernorm.weight), wq=mat(a.q_proj.weight), wk=mat(a.k_proj.weight),
            wv=mat(a.v_proj.weight), wo=mat(a.o_proj.weight), ln2=vec(layer.post_attention_layernorm.weight),
            **dense, qn=vec(a.q_norm.weight) if a.q_norm is not None else None,
            kn=vec(a.k_norm.weight) if a.k_norm is not None else None, moe=mw))
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

    def moe(self, x, mw: MoeWeights):
        """The routed-experts MLP as :class:`reference.moe.SparseMoeBlock` computes it: router logits, the reference
        routing (:func:`reference.moe.route`: fp32 softmax, ``torch.topk`` with its tie rule, renormalisation),
        each selected expert's SwiGLU on the rows that picked it times their weights, the ``k`` slots summed."""
        from reference.moe import route

        if not isinstance(mw.gate, list):
            raise ValueError("moe: TorchOps expects per-expert weight lists (MoeWeights from moe_weights_lists)")
        weights, ids = route(x @ mw.router, mw.top_k, mw.norm_topk_prob)
        out = x.new_zeros(x.shape[0], mw.top_k, x.shape[1])
        for e in torch.unique(ids).tolist():  # only the experts some row picked
            r, slot = torch.where(ids == e)
            xe = x[r]
            ye = (torch.nn.functional.silu(xe @ mw.gate[e]) * (xe @ mw.up[e])) @ mw.down[e]
            out[r, slot] = ye * weights[r, slot, None]
        return out.sum(dim=1)

    def add(self, a, b):
        return a + b
