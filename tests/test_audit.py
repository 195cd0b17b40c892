"""The step audit (ttl_kernels/audit.py): what each kind of step costs the host on the kernel backend.

Checked on the simulator with a random tiny Qwen3 (the shipped shape): a decode step inside one 32-token window
compiles nothing and launches the same kernels as its neighbour; device outputs are allocations, not transfers;
the reference model never runs after loading (prefill and verification run on the kernels); and the counts
reach the entry point's JSON.
"""

from __future__ import annotations

import pytest

from models.kernel_model import KernelTarget
from models.targets import random_decoder
from ttl_kernels import audit, runtime


@pytest.fixture(scope="module")
def target():
    if not runtime.executes():
        pytest.skip("compile-only backend: nothing runs, so no step is counted")
    return KernelTarget(random_decoder("tiny-qwen3", 0), max_seq_len=256, dtype="fp32")


def test_steady_decode_steps_compile_nothing(target):
    cache = target.new_cache(256)
    audit.reset()
    target.forward(list(range(40)), cache)  # positions 0..39; decode steps below stay in the window 32..63
    steps = []
    for _ in range(4):
        target.forward([5], cache)
        steps.append(audit.report()["decode"]["last_step"])
    assert audit.report()["prefill"]["compiles"] > 0  # the first steps build the programs
    for s in steps[1:]:
        assert s["compiles"] == 0
        assert s["launches"] == steps[1]["launches"] > 0
        assert s["d2h"] == 1  # the logits (token selection on the device removes this)
        assert s["allocs"] > 0 and s["alloc_bytes"] > s["h2d_bytes"]  # outputs are made on the device


def test_no_host_model_forward_after_loading(target):
    cache = target.new_cache(256)
    with audit.count_calls(target.model, "forward") as n:
        target.forward(list(range(70)), cache)  # three prefill chunks
        target.forward([1, 2, 3, 4], cache)  # a verification block
        target.forward([9], cache)
    assert n[0] == 0
    assert int(cache.lengths[0]) == 75


def test_audit_reaches_the_entry_points_json(tmp_path):
    """The entry point's JSON carries the audit per step kind on the kernel backend (and none on torch)."""
    import json

    from models import qwen3_dflash

    out = tmp_path / "torch.json"
    assert qwen3_dflash.main(["--prompt", "def f(x):\n", "--max-new-tokens", "2", "--quiet", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["step_audit"] is None and doc["host_model_forwards"] is None


def test_device_selection_reads_back_only_ids():
    """With token selection on the device, a verify step of k + 1 = 4 rows reads back one small tile (the kept
    ids and n), not the [4, V] logits; a plain decode step reads back one id tile."""
    if not runtime.executes():
        pytest.skip("compile-only backend: nothing runs, so no step is counted")
    t = KernelTarget(random_decoder("tiny-qwen3", 0), max_seq_len=128, dtype="fp32", select_on_device=True)
    from models.sampling import greedy_verify, last_argmax

    cache = t.new_cache(128)
    audit.reset()
    logits, _ = t.forward(list(range(20)), cache)
    nxt = last_argmax(logits)  # a selection step of its own: one id tile read back
    first = audit.report()["select"]["last_step"]
    assert first["d2h"] == 1 and first["d2h_bytes"] <= 4096
    logits, _ = t.forward([nxt, 5, 6, 7], cache)
    greedy_verify([5, 6, 7], logits)
    verify, select = audit.report()["verify"], audit.report()["select"]["last_step"]
    assert verify["d2h"] == 0  # the verify forward leaves its logits on the device
    assert select["d2h"] == 1 and select["d2h_bytes"] <= 8192  # the accept result: n and the kept ids
