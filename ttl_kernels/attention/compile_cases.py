"""One-operation compile cases for the attention kernels (``python -m ttl_kernels.compile`` cases).

A decode-attention call runs two operations (partial attention, then the merge).  These functions build
zero inputs at a given shape and lower exactly one of them, so the compile driver lints every generated
thread and checks the ops that operation must contain (``expected_ops``)::

    python -m ttl_kernels.compile --arch p150 \
        ttl_kernels.attention.compile_cases:flash_partial:n_q=32,n_kv=8,head_dim=128
"""

from __future__ import annotations

import torch

from .. import runtime
from ..host import empty, to_device
from ._common import parse
from ._layout import TILE, const_tiles, fp32_like
from ._partial import make_partial_op
from ._plan import MergePlan
from .flash_decode import _masks as flash_masks
from .flash_decode import flash_plans
from .merge import make_merge_op
from .speculative_decode import _masks as spec_masks
from .speculative_decode import spec_plans

PARTIAL_OPS = ("matmul_block", "transpose_wh_tile", "exp_tile", "binary_max_tile", "recip_tile", "fill_tile")
# (a bfloat8_b cache adds typecast_tile; tests/test_compile_attention.py checks it is there, and absent for bf16)
MERGE_OPS = ("matmul_block", "exp_tile", "binary_max_tile", "recip_tile")
VERIFY_OPS = MERGE_OPS + ("signbit_tile", "square_tile", "negative_tile|neg_tile")


def _args(batch, n_q, n_kv, head_dim, s_max, pos, chunk_size, kv_dtype):
    q = torch.zeros(batch, n_q, head_dim, dtype=runtime.TORCH_BF16)
    k = torch.zeros(batch, n_kv, s_max, head_dim, dtype=runtime.TORCH_BF16)
    positions = [pos if pos is not None else s_max - 1] * batch
    return parse(q, k, k, positions, chunk_size=chunk_size, scale=None, kv_dtype=kv_dtype).upload()


def _partial(spec: bool, batch, n_q, n_kv, head_dim, s_max, pos, chunk_size, kv_dtype):
    a = _args(batch, n_q, n_kv, head_dim, s_max, pos, chunk_size, kv_dtype)
    plan = (spec_plans if spec else flash_plans)(a)[0]
    mask = (spec_masks if spec else flash_masks)(a)
    o = empty((plan.w * max(plan.np, 2) * TILE, head_dim), "bf16")
    ml = empty((plan.w * plan.np * TILE, 2 * TILE), "bf16")
    consts, f32 = const_tiles(a.ct, a.dt, a.group), fp32_like(a.ct, a.dt)
    make_partial_op(plan, runtime.backend_name())(a.q.tt, a.k.tt, a.v.tt, mask.tt, consts.tt, f32.tt, o.tt, ml.tt, o.tt)
    return plan


def _merge(spec: bool, batch, n_q, n_kv, head_dim, s_max, pos, chunk_size, kv_dtype):
    a = _args(batch, n_q, n_kv, head_dim, s_max, pos, chunk_size, kv_dtype)
    plan = (spec_plans if spec else flash_plans)(a)[0]
    np_ = max(plan.np, 2)
    o = empty((plan.w * np_ * TILE, head_dim), "bf16")
    ml = to_device(torch.zeros(plan.w * np_ * TILE, 2 * TILE), "bf16")
    out = empty((batch * n_kv * TILE, head_dim), "bf16")
    per_user = empty((batch * TILE, TILE), "bf16")
    mplan = MergePlan(plan.gx, plan.gy, 0, batch, n_kv, a.dt, np_, int(spec), 0.04)
    consts = const_tiles(a.ct, a.dt, a.group)
    make_merge_op(mplan, runtime.backend_name())(o.tt, ml.tt, o.tt, consts.tt, out.tt, per_user.tt, per_user.tt,
                                                 per_user.tt)
    return mplan


def flash_partial(batch=1, n_q=32, n_kv=8, head_dim=128, s_max=1024, pos=None, chunk_size=128, kv_dtype="bf16"):
    """Lower the flash-decode partial-attention op."""
    return _partial(False, batch, n_q, n_kv, head_dim, s_max, pos, chunk_size, kv_dtype)


def flash_merge(batch=1, n_q=32, n_kv=8, head_dim=128, s_max=1024, pos=None, chunk_size=128, kv_dtype="bf16"):
    """Lower the flash-decode merge op."""
    return _merge(False, batch, n_q, n_kv, head_dim, s_max, pos, chunk_size, kv_dtype)


def spec_partial(batch=1, n_q=32, n_kv=8, head_dim=128, s_max=1024, pos=None, chunk_size=128, kv_dtype="bf16"):
    """Lower the speculative partial-attention op (reducer + middle units)."""
    return _partial(True, batch, n_q, n_kv, head_dim, s_max, pos, chunk_size, kv_dtype)


def spec_merge(batch=1, n_q=32, n_kv=8, head_dim=128, s_max=1024, pos=None, chunk_size=128, kv_dtype="bf16"):
    """Lower the speculative merge + verification op."""
    return _merge(True, batch, n_q, n_kv, head_dim, s_max, pos, chunk_size, kv_dtype)


flash_partial.expected_ops = PARTIAL_OPS
spec_partial.expected_ops = PARTIAL_OPS
flash_merge.expected_ops = MERGE_OPS
spec_merge.expected_ops = VERIFY_OPS
