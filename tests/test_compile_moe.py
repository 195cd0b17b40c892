"""Compile-only: the mixture-of-experts kernels and a whole Qwen3-Coder-30B-A3B step lower for n150 and p150,
lint clean, with the ops they are meant to use.

* ``moe_router`` (one operation, three threads): the tiny router, Qwen3-Coder-30B-A3B's (128 experts, top 8,
  renormalised) at 1, 16 and 32 rows, plus fp32 logits, expert counts that are not a multiple of 32, k = 1 and
  k = 32 (the limit), several tile rows;
* ``expert_scale`` (one operation, three threads): the gathered slots (k = 8) and all 128 experts at width 768, at
  1, 16 and 32 rows, plus fp32 activations and odd slot counts;
* ``models.kernel_model:compile_step`` at ``qwen3-coder-30b-a3b`` (one layer: routed): a decode step and a
  16-row verification block, the all-experts path (what ``KernelOps`` runs) and the gathered one.
"""

from __future__ import annotations

import pytest
from _kernel_helpers import compile_clean

from ttl_kernels.compile import format_case
from ttl_kernels.registry import get_kernel

ROUTER_EXTRA = [dict(rows=1, experts=128, k=8, norm=True, dtype="fp32"), dict(rows=3, experts=60, k=1, norm=False,
                dtype="bf16"), dict(rows=40, experts=40, k=32, norm=True, dtype="bf16"),
                dict(rows=64, experts=6, k=2, norm=False, dtype="fp32")]
SCALE_EXTRA = [dict(rows=1, slots=8, inter=768, dtype="fp32"), dict(rows=40, slots=5, inter=48, dtype="bf16")]
STEP = "models.kernel_model:compile_step:model=qwen3-coder-30b-a3b"
STEPS = [STEP, f"{STEP},block=16", f"{STEP},moe=gathered", f"{STEP},block=16,moe=gathered"]


@pytest.mark.compile
@pytest.mark.parametrize("arch", ["n150", "p150"])
def test_compile_moe_kernels(arch):
    router, scale = get_kernel("moe_router"), get_kernel("expert_scale")
    assert {(p["rows"], p["experts"], p["k"]) for p in router.model_cases()[1:]} == {(r, 128, 8) for r in (1, 16, 32)}
    cases = [format_case("moe_router", p) for p in router.model_cases() + ROUTER_EXTRA]
    cases += [format_case("expert_scale", p) for p in scale.model_cases() + SCALE_EXTRA]
    results = compile_clean(cases, arch)
    assert all(len(r.files) == 3 for r in results)


@pytest.mark.compile
@pytest.mark.parametrize("arch", ["n150", "p150"])
def test_compile_30b_a3b_decode_and_verify_steps(arch):
    """Every kernel instance of one decode step and one 16-row verify block at Qwen3-Coder-30B-A3B shapes (expert
    weights shape-only), both MoE paths: ok, lint clean."""
    results = compile_clean(STEPS, arch)
    for r in results:
        assert {"div_binary_tile", "silu_tile", "exp_tile", "matmul_block", "typecast_tile"} <= set(r.ops), r.line()
