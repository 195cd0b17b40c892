"""RMSNorm kernels for Llama-3 / Qwen3 decoders: plain, fused residual add + RMSNorm (pre-norm), and
per-head RMSNorm (Qwen3 q_norm / k_norm).  See each module for the dataflow; :mod:`._common` for the row
plan (one pass with the tile row kept in L1, or two passes for rows too wide for it) and constant tiles.
"""

import torch

from reference import norm as _ref

from ..registry import KernelSpec, generator, torch_dtype
from ..shapes import DECODE_ROWS, MODEL_SHAPES
from . import add_rmsnorm as _add_mod
from . import rmsnorm as _rms_mod
from ._common import NormPlan, check_eps, plan_norm
from .add_rmsnorm import add_rms_norm, add_rms_norm_plan
from .head_rmsnorm import head_norm_plan, head_rms_norm
from .rmsnorm import rms_norm, rms_norm_plan


def _eps(model: str) -> float:
    return 1e-5 if model == "llama-3.1-8b" else 1e-6  # rms_norm_eps of the configs (HF's default otherwise)


def _rand(shape, dtype, gen, scale=1.0, offset=0.0):
    if gen is None:
        return torch.zeros(shape, dtype=torch_dtype(dtype))
    return (offset + torch.randn(shape, generator=gen) * scale).to(torch_dtype(dtype))


def _passes(mod, rows: int, cols: int, dtype: str) -> int:
    """1 or 2 (the L1 fit does not depend on the grid, so no backend is loaded here)."""
    return plan_norm(rows, cols, dtype, (1, 1), mod.CHUNK_BUFFERS).passes


def _check_passes(mod, rows, cols, dtype, passes):
    """``passes`` in a parameter set labels the bench line; it must be what the kernel will do."""
    if passes is not None and _passes(mod, rows, cols, dtype) != passes:
        planned = _passes(mod, rows, cols, dtype)
        raise ValueError(f"passes: the plan for {rows}x{cols} {dtype} uses {planned} pass(es), not {passes}")


def _row_args(mod, n_inputs: int):
    """``make_args`` of a row norm: ``n_inputs`` rows x cols tensors (x, and the residual of add_rms_norm)
    and gamma."""

    def make_args(rows: int, cols: int, dtype: str = "bf16", eps: float = 1e-6, passes: int | None = None,
                  seed: int | None = None) -> tuple:
        _check_passes(mod, rows, cols, dtype, passes)
        gen = generator(seed)
        xs = [_rand((rows, cols), dtype, gen, 2.0) for _ in range(n_inputs)]
        return (*xs, _rand((1, cols), dtype, gen, 0.1, 1.0))

    return make_args


def _head_args(rows: int, heads: int, head_dim: int, dtype: str = "bf16", eps: float = 1e-6,
               seed: int | None = None) -> tuple:
    gen = generator(seed)
    return _rand((rows, heads * head_dim), dtype, gen, 2.0), _rand((1, head_dim), dtype, gen, 0.1, 1.0)


def _eps_kwargs(**params) -> dict:
    return {"eps": params.get("eps", 1e-6)}


def _row_cases(mod):
    def cases():
        seen = {}
        for name, m in MODEL_SHAPES.items():
            seen.setdefault((m["hidden"], _eps(name)), None)
        out = [dict(rows=DECODE_ROWS, cols=h, dtype="bf16", eps=e, passes=1) for h, e in sorted(seen)]  # tiny first
        # widest row in fp32: too wide to keep in L1, so the two-pass plan (x read twice) shows up in the bench
        passes = _passes(mod, DECODE_ROWS, 8192, "fp32")
        out.append(dict(rows=DECODE_ROWS, cols=8192, dtype="fp32", eps=1e-5, passes=passes))
        return out
    return cases


def _head_cases():
    seen = {}
    for name, m in MODEL_SHAPES.items():
        if "qwen" in name:  # Llama-3 has no q_norm / k_norm
            for h in (m["n_q"], m["n_kv"]):
                seen.setdefault((h, m["head_dim"]), None)
    by_dim = sorted(seen, key=lambda hd: (hd[1], hd[0]))
    return [dict(rows=DECODE_ROWS, heads=h, head_dim=d, dtype="bf16", eps=1e-6) for h, d in by_dim]


_OPS = ("rsqrt_tile", "matmul_block", "mul_(binary_tile|tiles)", "fill_tile")

KERNEL_SPECS = [
    KernelSpec("rms_norm", rms_norm, _ref.rms_norm_fp32, _row_args(_rms_mod, 1), _OPS, _row_cases(_rms_mod),
               _eps_kwargs),
    KernelSpec("add_rms_norm", add_rms_norm, _ref.add_rms_norm, _row_args(_add_mod, 2),
               _OPS + ("add_(binary_tile|tiles)",), _row_cases(_add_mod), _eps_kwargs),
    KernelSpec("head_rms_norm", head_rms_norm, _ref.head_rms_norm_rows, _head_args, _OPS, _head_cases, _eps_kwargs),
]

__all__ = [
    "KERNEL_SPECS",
    "NormPlan",
    "add_rms_norm",
    "add_rms_norm_plan",
    "check_eps",
    "head_norm_plan",
    "head_rms_norm",
    "rms_norm",
    "rms_norm_plan",
]
