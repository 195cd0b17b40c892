"""Compile-only: the token-selection kernels lower for n150 and p150, lint clean, with the ops they are meant to use.

* argmax (two operations, six threads per case): rows 1 (decode), 16 (a DFlash block), 32 (a tile of users) at
  the tiny models' vocabulary (4096), Llama-3's (128,256) and Qwen3's (151,936), bf16 logits; plus fp32 logits
  and vocabularies that are not a multiple of 32 (the padded-tile branch);
* greedy_accept (one operation, three threads): k = 7, 15 (DFlash b8 / b16), 63 (block 64), 127 (the limit).
"""

from __future__ import annotations

import pytest

from ttl_kernels.compile import compile_cases, format_case
from ttl_kernels.registry import get_kernel

ARGMAX_EXTRA = [dict(rows=1, vocab=151936, dtype="fp32"), dict(rows=3, vocab=1000, dtype="bf16"),
                dict(rows=40, vocab=20, dtype="fp32"), dict(rows=512, vocab=151936, dtype="bf16")]
ACCEPT_EXTRA = [dict(k=127)]


@pytest.mark.compile
@pytest.mark.parametrize("arch", ["n150", "p150"])
def test_compile_sampling(arch):
    argmax, accept = get_kernel("argmax"), get_kernel("greedy_accept")
    argmax_cases = [format_case("argmax", p) for p in argmax.model_cases() + ARGMAX_EXTRA]
    accept_cases = [format_case("greedy_accept", p) for p in accept.model_cases() + ACCEPT_EXTRA]
    assert {(p["rows"], p["vocab"]) for p in argmax.model_cases()} == {
        (r, v) for r in (1, 16, 32) for v in (4096, 128256, 151936)}
    results = compile_cases(argmax_cases + accept_cases, arch)
    for r in results:
        print(r.line())
    bad = [r.line() for r in results if not r.clean]
    assert not bad, "\n".join(bad)
    assert len(results) == len(argmax_cases) + len(accept_cases)
    assert all(len(r.files) == 6 for r in results[:len(argmax_cases)])  # partial + merge: reader, compute, writer
    assert all(len(r.files) == 3 for r in results[len(argmax_cases):])
