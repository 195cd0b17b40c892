"""Compile-only: the decode-attention operations lower for n150 and p150 at the Llama-3.1-8B (32 q / 8 kv heads,
head_dim 128) and Qwen3-0.6B (16 / 8 / 128) shapes, plus a small head_dim-64 shape; bf16 and bfp8_b caches.

Each operation is lowered on its own (``ttl_kernels.attention.compile_cases``) so every generated thread is
linted and checked for the compute ops it must contain (matmul, transpose, exp, max, recip for the partial
op, and typecast exactly when the cache is bfloat8_b; exp, max, recip for the merge; signbit / square /
negative for the verification), and the whole calls are lowered through the registry.  Also checked: at most
32 dataflow buffers per operation (the Wormhole limit).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _kernel_helpers import compile_clean

from ttl_kernels.compile import format_case
from ttl_kernels.registry import get_kernel

SHAPES = [dict(n_q=32, n_kv=8, head_dim=128), dict(n_q=16, n_kv=8, head_dim=128),
          dict(batch=2, n_q=4, n_kv=2, head_dim=64, s_max=512, chunk_size=64)]
MOD = "ttl_kernels.attention.compile_cases"


def _cases():
    cases = []
    for shape in SHAPES:
        for fn in ("flash_partial", "flash_merge", "spec_partial", "spec_merge"):
            cases.append(format_case(f"{MOD}:{fn}", dict(shape)))
        for fn in ("flash_partial", "spec_partial"):
            cases.append(format_case(f"{MOD}:{fn}", dict(shape, kv_dtype="bfp8_b")))
    for name in ("flash_decode", "speculative_decode"):
        cases += [format_case(name, p) for p in get_kernel(name).model_cases()]
    return cases


def _dfb_count(paths) -> int:
    ids = set()
    for p in paths:
        ids |= set(re.findall(r"CircularBuffer cb_ctarg_(\d+)\(", Path(p).read_text()))
    return len(ids)


@pytest.mark.compile
@pytest.mark.parametrize("arch", ["n150", "p150"])
def test_compile_attention(arch):
    for r in compile_clean(_cases(), arch):
        assert _dfb_count(r.files.values()) <= 32, r.case
        if r.case.startswith(f"{MOD}:flash_partial") or r.case.startswith(f"{MOD}:spec_partial"):
            assert {"compute", "reader", "writer"} <= set(r.files), r.case
            assert "transpose_wh_tile" in r.ops, r.case
            # one typecast per K / V tile for a bfloat8_b cache; none at all for bf16 (the compile-time variant)
            assert ("typecast_tile" in r.ops) == ("bfp8_b" in r.case), r.case
