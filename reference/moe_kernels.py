"""References for the mixture-of-experts kernels (:mod:`ttl_kernels.moe`), in float32 from the values the kernel
was given.

``router_topk``: the Qwen3-MoE router after its logits matmul (:func:`reference.moe.route`'s arithmetic): softmax
over the ``E`` experts in fp32, the ``k`` largest probabilities, optionally renormalised to sum 1.  Three results:

* ``weights`` ``[N, E]``: the (renormalised) probability of each selected expert in its own column, 0 in the
  others (the dense form the all-experts masked compute multiplies by);
* ``topw`` ``[N, k]``: the selected weights, largest first (``route``'s first result);
* ``ids`` ``[N, k]``: the selected expert ids as float32 integers (``route``'s second result).

Ties.  Equal probabilities are ordered by the lowest expert id (a stable descending sort), so the *set* of
experts chosen when a tie straddles the k-th place is the lowest ids.  ``torch.topk`` (what transformers and
:func:`reference.moe.route` call) leaves that choice to its implementation: on CPU it is ``std::nth_element``
(``k * 64 > E``) or ``std::partial_sort`` over (value, id) pairs, which for 128 equal probabilities and
``k = 8`` keeps ids 81..88, and it orders equal values arbitrarily.  The two agree on the set whenever no tie
straddles the k-th place (the k largest values are then unique as a set), and the MoE output does not depend
on the order among equal weights beyond fp32 summation order.  :func:`canonical` puts ``route``'s result in
this order so the two can be compared.

``expert_scale``: ``a [N, S * Ip] * w[n, s]`` on the ``Ip`` columns of slot ``s`` (an expert of the all-experts
layout, or a gathered slot); ``Ip`` is the expert width rounded up to whole 32-column tiles.
"""

from __future__ import annotations

import torch


def _topk_lowest_id(probs: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k largest of each row, ties to the lowest column: (values, ids)."""
    order = torch.sort(probs, dim=-1, descending=True, stable=True)
    return order.values[:, :k], order.indices[:, :k]


def router_topk(logits: torch.Tensor, k: int, norm_topk_prob: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``logits [N, E]`` -> (``weights [N, E]``, ``topw [N, k]``, ``ids [N, k]``), float32 (module docstring)."""
    probs = torch.softmax(logits.float(), dim=-1, dtype=torch.float32)
    topw, ids = _topk_lowest_id(probs, k)
    if norm_topk_prob:
        topw = topw / topw.sum(dim=-1, keepdim=True)
    dense = torch.zeros_like(probs).scatter(1, ids, topw)
    return dense, topw, ids.float()


def canonical(weights: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(weights [N, k], ids [N, k])`` of :func:`reference.moe.route` reordered largest first, equal weights by
    the lowest id (the kernel's order); ids as float32."""
    by_id = torch.argsort(ids, dim=-1, stable=True)
    w, i = weights.gather(1, by_id), ids.gather(1, by_id)
    order = torch.argsort(w, dim=-1, descending=True, stable=True)  # weight descending; equal weights keep id order
    return w.gather(1, order).float(), i.gather(1, order).float()


def expert_scale(a: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``a [N, S * Ip]`` times ``weights [N, S]`` broadcast over each slot's ``Ip`` columns, in float32."""
    n, cols = a.shape
    s = weights.shape[1]
    if cols % s:
        raise ValueError(f"a: {cols} columns are not a whole number of slots for {s} weights per row")
    return a.float() * weights.float().repeat_interleave(cols // s, dim=1)
