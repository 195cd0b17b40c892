"""Fused residual add + RMSNorm for the pre-norm decoder: ``h = x + residual``, ``y = rmsnorm(h) * gamma``.

Shapes: x and residual are ``rows x H`` elements = ``RT x HT`` tiles; gamma has H elements (only row 0
of its tile storage is read); h and y are like x.  eps is a compile-time constant of the kernel.

The kernel is :func:`.rmsnorm.make_rmsnorm` with ``ADD = 1`` (its module docstring gives the dataflow):
the reader streams residual chunks beside the x chunks, the compute thread forms ``h = x + residual`` per
chunk in sweep 1 (to the writer, and to the kept copy on the resident plan; recomputed from the second
stream on the two-pass plan) and normalises h, and the writer writes the NCH chunks of h of a tile row
(during sweep 1) before its NCH chunks of y.

DRAM traffic per tile row: x and residual read once (resident) or twice (two-pass), gamma HT tiles, h and
y written once; per core E0 (+ MASK) once.  15 dataflow buffers (WH allows 32); L1 per core
(:func:`._common.l1_tiles`): HT + 15 BC + 5 tiles, 762 KiB at H = 8192 in bf16, 1012 KiB at H = 4096
in fp32 (wider fp32 rows take the two-pass plan, 532 KiB).
"""

from __future__ import annotations

from .. import runtime
from .._api import as_tile, check_2d, result, same, tensor_info, wants_torch
from ..host import empty
from ._common import NORM_DTYPES, NormPlan, check_eps, plan_norm, weight_tile
from .rmsnorm import run_rmsnorm

CHUNK_BUFFERS = 15  # x (2) + residual (2) + h (2) + ONES + 2 MASK + sq + gamma (2) + F + y (2), in BC tiles


def add_rms_norm_plan(rows: int, cols: int, dtype: str) -> NormPlan:
    """The plan :func:`add_rms_norm` uses for a ``rows x cols`` input on the active target."""
    return plan_norm(rows, cols, dtype, runtime.grid(), CHUNK_BUFFERS)


def add_rms_norm(x, residual, gamma, eps: float = 1e-6):
    """``h = x + residual`` and ``rmsnorm(h) * gamma`` in one pass; returns ``(h, y)``.

    x, residual: 2-D ``rows x H``, same shape and dtype (bf16 or fp32; torch tensors or TileTensors).
    gamma: H elements, same dtype (torch [H] / [1, H], or a TileTensor of shape (1, H)).
    eps: > 0, a compile-time constant.  h and y are like x (torch in, torch out; TileTensor in, TileTensor
    out)."""
    eps = check_eps(eps)
    shape, dtype = tensor_info(x, "x", NORM_DTYPES)
    rshape, rdtype = tensor_info(residual, "residual", NORM_DTYPES)
    rows, cols = check_2d(shape, "x")
    check_2d(rshape, "residual")
    same({"x": shape, "residual": rshape}, "shape")
    same({"x": dtype, "residual": rdtype}, "dtype")
    g = weight_tile(gamma, cols, dtype, "gamma")
    h, y = empty((rows, cols), dtype), empty((rows, cols), dtype)
    ins = (as_tile(x, dtype), as_tile(residual, dtype), g)
    run_rmsnorm(add_rms_norm_plan(rows, cols, dtype), eps, ins, (h, y), dtype)
    as_torch = wants_torch(x)
    return result(h, as_torch), result(y, as_torch)
