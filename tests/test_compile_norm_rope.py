"""Compile-only: the RMSNorm, add+RMSNorm, per-head RMSNorm and RoPE kernels lower for n150 and p150 at the
shapes of Llama-3.1-8B, Qwen3-8B, Qwen3-0.6B and the tiny models (the registry's model cases: decode rows,
the fp32 two-pass RMSNorm, aligned prefill RoPE) plus shapes that exercise the other code paths (H not a
multiple of 32, several tile rows per core, head_dim 64 in fp32, RoPE decode with 32 table tile rows per
launch, unaligned prefill with the shift selectors).  All cases of one target go to one compile_cases call
(one child process).  The generated C++ must lint clean and contain the ops each kernel is meant to lower
to: the registry's list (rsqrt_tile, matmul_block, mul, fill_tile for the norms; mul/sub/add for RoPE) and
matmul_block for every RoPE case that gathers through a selector."""

from __future__ import annotations

import pytest
from _kernel_helpers import compile_clean

from ttl_kernels.compile import format_case
from ttl_kernels.registry import get_kernel

EXTRA = {
    "rms_norm": [dict(rows=1, cols=33, dtype="fp32", eps=1e-6), dict(rows=100, cols=1000, dtype="bf16", eps=1e-5),
                 dict(rows=2048, cols=4096, dtype="bf16", eps=1e-6)],
    "add_rms_norm": [dict(rows=100, cols=1000, dtype="fp32", eps=1e-6),
                     dict(rows=3000, cols=1024, dtype="bf16", eps=1e-6)],
    "head_rms_norm": [dict(rows=70, heads=3, head_dim=64, dtype="fp32", eps=1e-6),
                      dict(rows=1000, heads=32, head_dim=128, dtype="bf16", eps=1e-6)],
    "rope": [
        # K = 32
        dict(rows=32, seq=131072, n_q=32, n_kv=8, head_dim=128, model="llama-3.1-8b", dtype="bf16", spread=4099),
        # shift selectors
        dict(rows=100, seq=160, start=5, n_q=4, n_kv=2, head_dim=64, model="tiny-qwen3", dtype="fp32"),
        # formula plan
        dict(rows=2000, seq=4096, start=1000, n_q=16, n_kv=8, head_dim=128, model="qwen3-0.6b", dtype="bf16"),
    ],
}
KERNELS = ("rms_norm", "add_rms_norm", "head_rms_norm", "rope")


def _cases():
    out = []
    for name in KERNELS:
        for p in get_kernel(name).model_cases() + EXTRA[name]:
            out.append((name, p))
    return out


@pytest.mark.compile
@pytest.mark.parametrize("arch", ["n150", "p150"])
def test_compile_norm_rope(arch):
    cases = _cases()
    results = compile_clean([format_case(n, p) for n, p in cases], arch)
    for (name, p), r in zip(cases, results):
        if name == "rope" and not (p.get("start", 1) % 32 == 0 and p.get("start") is not None):
            assert "matmul_block" in r.ops, r.line()  # the one-hot gather
        if name == "rope" and p.get("start") == 0:
            assert "matmul_block" not in r.ops, r.line()  # aligned prefill reads the table rows as they are
