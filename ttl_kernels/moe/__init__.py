"""Mixture-of-experts kernels (Qwen3-MoE): routing on the device and the routing weights applied to the experts.

* :func:`router_topk` (:mod:`.router`): router logits ``[N, E]`` -> softmax, top-k (ties to the lowest expert id),
  optional renormalisation: the dense weights ``[N, E]`` and the selected weights and ids ``[N, k]``;
* :func:`expert_scale` (:mod:`.expert_scale`): SwiGLU outputs of ``S`` expert slots times each row's slot weights.

How a decode step uses them (:meth:`models.kernel_model.KernelOps.moe`), and what depends on the routing decision,
is in this package's README.md.  References: :mod:`reference.moe_kernels`.
"""

import torch

from reference import moe_kernels as _ref

from ..host import TILE, tiles
from ..registry import KernelSpec, generator, torch_dtype
from ..shapes import MODEL_SHAPES
from .expert_scale import expert_scale
from .router import router_topk

DECODE_ROWS = (1, 16, 32)  # a decode token, a 16-token verify block, a tile of users


def moe_models() -> dict[str, dict]:
    """Expert dimensions of the mixture-of-experts models in :data:`ttl_kernels.shapes.MODEL_SHAPES`."""
    return {name: dict(experts=m["experts"], k=m["experts_per_tok"], inter=m["moe_intermediate"],
                       norm=m["norm_topk_prob"], hidden=m["hidden"])
            for name, m in MODEL_SHAPES.items() if m["experts"]}


def _router_args(rows: int, experts: int, k: int, norm: bool = False, dtype: str = "bf16",
                 seed: int | None = None) -> tuple:
    gen = generator(seed)
    if gen is None:
        return (torch.zeros(rows, experts, dtype=torch_dtype(dtype)),)
    return ((torch.randn(rows, experts, generator=gen) * 2).to(torch_dtype(dtype)),)


def _router_cases() -> list[dict]:
    """A tiny router (8 experts, top 2) first, then the MoE models' routers at 1, 16 and 32 rows."""
    cases = [dict(rows=1, experts=8, k=2, norm=True, dtype="bf16")]
    for m in moe_models().values():
        cases += [dict(rows=r, experts=m["experts"], k=m["k"], norm=m["norm"], dtype="bf16") for r in DECODE_ROWS]
    return cases


def _scale_args(rows: int, slots: int, inter: int, dtype: str = "bf16", seed: int | None = None) -> tuple:
    cols = slots * tiles(inter) * TILE
    gen = generator(seed)
    if gen is None:
        return torch.zeros(rows, cols, dtype=torch_dtype(dtype)), torch.zeros(rows, slots)
    a = torch.randn(rows, cols, generator=gen).to(torch_dtype(dtype))
    w = torch.rand(rows, slots, generator=gen) * (torch.rand(rows, slots, generator=gen) < 0.5)
    return a, w


def _scale_cases() -> list[dict]:
    """A tiny expert layer first (8 experts of 64), then the MoE models' gathered slots (k) and all experts (E)
    at 1, 16 and 32 rows."""
    cases = [dict(rows=1, slots=8, inter=64, dtype="bf16")]
    for m in moe_models().values():
        for slots in (m["k"], m["experts"]):
            cases += [dict(rows=r, slots=slots, inter=m["inter"], dtype="bf16") for r in DECODE_ROWS]
    return cases


ROUTER_OPS = ("typecast_tile", "exp_tile", "div_binary_tile", "binary_max_tile", "binary_min_tile", "sign_tile",
              "matmul_block", "transpose_wh_tile")
SCALE_OPS = ("matmul_block", "mul_(binary_tile|tiles)")

KERNEL_SPECS = [
    KernelSpec("moe_router", router_topk, _ref.router_topk, _router_args, ROUTER_OPS, _router_cases,
               kwargs=lambda **p: {"k": p["k"], "norm_topk_prob": bool(p.get("norm", False))}),
    KernelSpec("expert_scale", expert_scale, _ref.expert_scale, _scale_args, SCALE_OPS, _scale_cases),
]

__all__ = ["KERNEL_SPECS", "expert_scale", "moe_models", "router_topk"]
