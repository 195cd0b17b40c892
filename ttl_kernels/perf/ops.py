"""The tt-metal compute calls of generated C++ (as :mod:`ttl_kernels.lint` lists them) and the op kinds the
counter records, so the two can be checked against each other: an op the compiled kernel calls that the
model never counted is a gap in the model."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_SFPU_ALIASES = {"negative": "neg", "reciprocal": "recip", "exponential": "exp"}


def cpp_kind(op: str) -> str | None:
    """The counted kind a tt-metal compute call corresponds to ("matmul" stands for every ``matmul.*``);
    None for a call the model has no kind for."""
    if op in ("matmul_block", "matmul_tiles"):
        return "matmul"
    if op == "copy_tile":
        return "unpack"
    if op.startswith("pack_tile"):
        return "pack"
    if op.startswith("fill_tile"):
        return "fill"
    if op == "transpose_wh_tile":
        return "transpose"
    if op == "typecast_tile":
        return "typecast"
    if op == "reduce_tile":
        return "reduce"
    if op == "unary_bcast" or "_bcast" in op:
        return "bcast"
    m = re.fullmatch(r"(add|sub|mul)_tiles", op)
    if m:
        return f"fpu.{m.group(1)}"
    m = re.fullmatch(r"(add|sub|mul|div|rsub|pow)_binary_tile", op)
    if m:
        return f"sfpu_binary.{m.group(1)}"
    m = re.fullmatch(r"binary_(max|min)_tile", op)
    if m:
        return f"sfpu_binary.{m.group(1)}"
    m = re.fullmatch(r"(\w+?)_tile", op)
    if m:
        return "sfpu." + _SFPU_ALIASES.get(m.group(1), m.group(1))
    return None


def counted(kind: str, ops: Mapping[str, int]) -> bool:
    """Whether the counter recorded at least one tile of ``kind``."""
    if kind == "matmul":
        return any(k.startswith("matmul.") and v > 0 for k, v in ops.items())
    return ops.get(kind, 0) > 0


def uncounted(cpp_ops: Iterable[str], ops: Mapping[str, int]) -> list[str]:
    """C++ compute calls with no counted op of their kind (unknown calls included)."""
    out = []
    for op in sorted(set(cpp_ops)):
        kind = cpp_kind(op)
        if kind is None or not counted(kind, ops):
            out.append(f"{op} -> {kind}")
    return out
