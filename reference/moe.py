"""Qwen3-MoE reference (``Qwen3MoeForCausalLM``): the routed-experts MLP (the model class: :mod:`reference.qwen3_moe`).

A Qwen3-MoE decoder is the Qwen3 decoder (QK-norm attention, same norms, RoPE and KV cache: the shared
:class:`reference.decoder.Decoder`) whose sparse layers (:meth:`DecoderConfig.is_sparse_layer`, transformers'
rule) replace the dense SwiGLU by :class:`SparseMoeBlock`; the other layers keep the dense :class:`MLP` of
width ``intermediate_size``.  Per token row ``x`` (the post-attention-normed hidden state, model dtype):

    logits  = x @ gate.weight^T                          # [E] router logits, model dtype (HF: F.linear)
    p       = softmax(logits) in fp32                    # over all E experts
    w, idx  = torch.topk(p, k)                           # k = num_experts_per_tok, largest first
    w       = w / sum(w)        if norm_topk_prob        # in fp32
    w       = w.to(model dtype)
    y       = sum_j  (experts[idx_j](x) * w_j)           # each product rounded to the model dtype, the k
                                                         # terms summed with fp32 accumulation, one rounding
    experts[e](x) = down_proj(silu(gate_proj(x)) * up_proj(x))   # SwiGLU of width moe_intermediate_size

This is transformers 5's ``Qwen3MoeSparseMoeBlock`` with its ``Qwen3MoeTopKRouter`` and its default experts
implementation (``grouped_mm``: ``(proj_out * weights).view(N, k, H).sum(1)``).  Ties between equal router
probabilities are broken by the same ``torch.topk`` call on the same fp32 tensor, so they resolve as in
transformers.  transformers' ``experts_implementation="eager"`` differs only in the final sum (``index_add_``
expert by expert, ascending expert id, rounding after each add): identical in fp32 up to summation order,
within one bf16 rounding per add in bf16; ``tests/test_reference_moe.py`` measures both.

Weights and checkpoint keys
---------------------------
The on-disk layout of the published checkpoints (e.g. ``Qwen/Qwen3-Coder-30B-A3B-Instruct``) is per expert:
``model.layers.{i}.mlp.gate.weight`` ``[E, H]`` (the router) and
``model.layers.{i}.mlp.experts.{e}.{gate,up}_proj.weight`` ``[I_moe, H]``, ``...down_proj.weight``
``[H, I_moe]``; dense layers keep ``mlp.{gate,up,down}_proj.weight``.  Our modules carry exactly these names,
so :func:`reference.hf.load_pretrained` copies key for key.  transformers 5 holds the experts fused in memory
(``mlp.experts.gate_up_proj`` ``[E, 2 * I_moe, H]``, ``mlp.experts.down_proj`` ``[E, H, I_moe]``) through a
load-time conversion, but its ``save_pretrained`` converts back and writes the per-expert keys above (checked
on transformers 5.23), so both published and locally saved checkpoints load; a checkpoint holding the fused
tensors themselves is rejected with a note saying so.  transformers 5 writes ``num_local_experts`` in
``config.json`` where the published configs say ``num_experts``; :meth:`DecoderConfig.from_hf` reads either.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .config import DecoderConfig
from .mlp import MLP

__all__ = ["SparseMoeBlock", "TopKRouter", "route"]


def route(logits: torch.Tensor, top_k: int, norm_topk_prob: bool,
          dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Routing weights and expert ids ``([N, k] in dtype, [N, k] long)`` of router logits ``[N, E]``.

    Softmax over the experts in fp32, ``torch.topk`` (largest first; ties as ``torch.topk`` resolves them, as in
    transformers), renormalised to sum 1 in fp32 when ``norm_topk_prob``, cast to ``dtype`` (default the
    logits' dtype)."""
    probs = torch.softmax(logits, dim=-1, dtype=torch.float32)
    weights, ids = torch.topk(probs, top_k, dim=-1)
    if norm_topk_prob:
        weights = weights / weights.sum(dim=-1, keepdim=True)
    return weights.to(logits.dtype if dtype is None else dtype), ids


class TopKRouter(nn.Module):
    """transformers' ``Qwen3MoeTopKRouter``: ``weight`` ``[num_experts, hidden]`` (checkpoint key
    ``mlp.gate.weight``); :meth:`forward` gives ``(logits [N, E], weights [N, k], ids [N, k])``."""

    def __init__(self, config: DecoderConfig):
        super().__init__()
        self.num_experts, self.top_k = config.num_experts, config.num_experts_per_tok
        self.norm_topk_prob = config.norm_topk_prob
        self.weight = nn.Parameter(torch.empty(config.num_experts, config.hidden_size))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # nn.Linear's default

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        logits = nn.functional.linear(x, self.weight)
        weights, ids = route(logits, self.top_k, self.norm_topk_prob)
        return logits, weights, ids


class SparseMoeBlock(nn.Module):
    """The routed-experts MLP of a Qwen3-MoE sparse layer (see the module docstring): ``gate`` (the router)
    and ``experts`` (``num_experts`` SwiGLU :class:`MLP` s of width ``moe_intermediate_size``).  No shared
    expert (Qwen3-MoE has none)."""

    def __init__(self, config: DecoderConfig):
        super().__init__()
        if not config.is_moe:
            raise ValueError("SparseMoeBlock config: expected num_experts > 0 (a Qwen3-MoE config)")
        self.num_experts, self.top_k = config.num_experts, config.num_experts_per_tok
        self.gate = TopKRouter(config)
        self.experts = nn.ModuleList(MLP(config, config.moe_intermediate_size) for _ in range(config.num_experts))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x ``[..., H]`` -> ``[..., H]`` (every row routed on its own)."""
        shape = x.shape
        rows = x.reshape(-1, shape[-1])
        _, weights, ids = self.gate(rows)
        out = rows.new_zeros(rows.shape[0], self.top_k, shape[-1])
        for e in torch.unique(ids).tolist():  # only the experts some row picked
            r, slot = torch.where(ids == e)
            out[r, slot] = self.experts[e](rows[r]) * weights[r, slot, None]
        return out.sum(dim=1).reshape(shape)
