"""Tensor parallelism on the simulator's 1xN mesh (models/alspec/tp.py) and the 8-device ALSpec timeline
(models/alspec/tp_timeline.py, models/alspec/tp_table.py).

Mesh runs: random tiny decoders whose heads split N ways (1x8: Qwen3, 8 q / 8 kv heads, QK-norm; 1x4: Llama-3, 8 q /
4 kv heads, llama3 RoPE scaling), 2 layers, fp32 activations: a 24-token prompt as one block, then decode steps,
against the single-device kernel model (:class:`KernelOps`, the same kernels on the whole model): identical greedy
tokens and logits PCC >= 0.999 (the split sums of the row-parallel projections are the only difference).
"""

from __future__ import annotations

import json

import pytest
import torch

from models.alspec import tp_table, tp_timeline
from models.alspec.tp import (
    Column,
    Row,
    TPModel,
    all_gather_cols,
    all_reduce,
    compare,
    mesh_stack,
    open_mesh,
    shard_config,
    shard_to_devices,
    tiny_model,
)
from ttl_kernels import host, runtime

PROMPT = list(range(40, 64))


@pytest.fixture
def sim():
    if not runtime.is_sim():
        pytest.skip("a 1x8 / 1x4 mesh needs that many devices: this test opens the simulator's mesh")


# ------------------------------------------------------------------------------------------ mesh plumbing


def test_shard_all_reduce_all_gather_values(sim):
    mesh = open_mesh(8)
    g = torch.Generator().manual_seed(0)
    w = torch.randn(64, 8 * 32, generator=g)
    parts = shard_to_devices(w, 1, mesh, "fp32")
    assert len(parts) == 8 and all(p.shape == (64, 32) for p in parts)
    assert all(torch.equal(host.to_torch(p), w[:, 32 * d:32 * (d + 1)]) for d, p in enumerate(parts))
    rows = shard_to_devices(w.T.contiguous(), 0, mesh, "fp32")
    assert all(torch.equal(host.to_torch(p), w.T[32 * d:32 * (d + 1)]) for d, p in enumerate(rows))
    xs = [host.to_device(torch.randn(3, 64, generator=g), "bf16") for _ in range(8)]
    summed = all_reduce(xs, mesh)
    want = host.quantize(sum(host.to_torch(x) for x in xs), "bf16")
    assert all(torch.equal(host.to_torch(s), want) for s in summed) and summed[0].dtype == "bf16"
    gathered = all_gather_cols(xs, mesh)
    want = torch.cat([host.to_torch(x) for x in xs], dim=1)
    assert all(s.shape == (3, 8 * 64) and torch.equal(host.to_torch(s), want) for s in gathered)
    st = mesh_stack(xs, mesh)
    assert st.mesh_shard_info.num_devices == 8 and st.mesh_shard_info.dim == 0


def test_shard_config_and_bad_input(sim):
    m = tiny_model("qwen3", 8, 8)
    c = shard_config(m.config, 8)
    assert (c.num_heads, c.num_kv_heads, c.intermediate_size, c.vocab_size) == (1, 1, 64, 64)
    with pytest.raises(ValueError, match="num_kv_heads"):
        shard_config(tiny_model("llama", 8, 4).config, 8)
    with pytest.raises(ValueError, match="whole tiles"):
        shard_to_devices(torch.zeros(32, 48), 1, open_mesh(8), "fp32")
    with pytest.raises(ValueError, match="1x4"):
        TPModel(m, 4, mesh=open_mesh(8))


# ------------------------------------------------------------------------------------------ equality with one device


@pytest.mark.parametrize("tp,arch,heads,kv", [(8, "qwen3", 8, 8), (4, "llama", 8, 4)])
def test_mesh_equals_single_device(sim, tp, arch, heads, kv):
    """Prefill block + 2 decode steps: the same greedy tokens, logits PCC >= 0.999 at every step."""
    r = compare(tiny_model(arch, heads, kv), tp, PROMPT, 2)
    print(json.dumps({k: r[k] for k in ("mesh", "tokens_mesh", "min_pcc", "ops_per_decode_step")}))
    assert r["tokens_equal"], (r["tokens_single"], r["tokens_mesh"])
    assert r["min_pcc"] >= 0.999
    assert max(s["max_abs_diff"] for s in r["steps"]) < 1e-2
    layers = r["layers"]
    # per decode step: an all-reduce after O and after down in every layer, the LM head's all-gather
    assert r["ops_per_decode_step"]["collectives"] == 2 * layers + 1


def test_weights_are_sharded_by_parallel_style(sim):
    m = tiny_model("qwen3", 8, 8)
    tpm = TPModel(m, 8)
    ws, _, lm = tpm._weights
    w = ws[0]
    assert isinstance(w.wq, Column) and isinstance(w.wg, Column) and isinstance(w.wo, Row) and isinstance(w.wd, Row)
    assert w.wq.parts[0].shape == (256, 64) and w.wo.parts[0].shape == (64, 256) and w.wd.parts[0].shape == (64, 256)
    assert len(lm.parts) == 8 and lm.parts[0].shape == (256, 64)
    # device 3 holds q heads 3 (rows 192..255 of q_proj) and the matching rows of o_proj's input
    q = m.layers[0].self_attn.q_proj.weight.detach().float()
    assert torch.equal(host.to_torch(w.wq.parts[3]), q[192:256].T)


# ------------------------------------------------------------------------------------------ the timeline


def test_ccl_formulas():
    c = tp_timeline.CCL(fixed_us=5.0)
    bw, hop = c.link.gbps * 1e3, c.link.hop_latency_us
    assert c.link.gbps == 12.5 and hop == 0.65 and c.link.source == "eth-wh"
    m = 256 * 1024
    assert c.all_gather(m, 8) == pytest.approx(5.0 + 7 * (m / 8 / bw + hop))
    assert c.all_reduce(m, 4) == pytest.approx(2 * (5.0 + 3 * (m / 4 / bw + hop)))
    assert c.send(m) == pytest.approx(5.0 + m / bw + hop)
    assert c.all_gather(m, 1) == 0.0
    assert c.rows(1) == 32 and tp_timeline.CCL(tile_rows=False).rows(1) == 1


@pytest.mark.parametrize("kernels", tp_timeline.KERNEL_TIMINGS)
def test_segments_and_step_invariants(kernels):
    setup = tp_timeline.Setup(kernels=kernels)
    for ctx in (8192, 131072):
        for tp in (4, 8):
            s = tp_timeline.segments(ctx, tp, setup)
            assert s.hit <= s.miss and s.expected(0.0) == pytest.approx(s.miss)
            assert s.expected(1.0) == pytest.approx(s.hit)
            assert s.miss == pytest.approx(s.pre + s.attn_x + s.verdict + s.post + s.swap)
            assert s.single == pytest.approx(s.pre + s.attn + s.post)
        r = tp_timeline.step_row(ctx, (0.0, 0.875, 1.0), setup)
        al = r["alspec_ms"]
        assert al["1.0"] <= al["0.875"] <= al["0.0"]
        assert r["speedup_vs_tp8"]["0.875"] == pytest.approx(r["tp8_ms"] / al["0.875"])
        assert r["fits_gb"]["tp8"] < r["fits_gb"]["tp4"] < 12.0
    s8, s4 = tp_timeline.segments(32768, 8, setup), tp_timeline.segments(32768, 4, setup)
    assert s8.detail["qkv"] < s4.detail["qkv"] and s8.detail["all_reduce"] > s4.detail["all_reduce"]


def test_shard_table_covers_the_timeline():
    """Every shard instance the timeline reads is in the shipped shard table (no extrapolation below 128K)."""
    doc = tp_table.load()
    for model in tp_table.MODELS:
        for tp in tp_table.TP_DEGREES:
            for inst in tp_table.shard_instances(model, tp, tp_timeline.CONTEXTS + (256,)):
                assert inst.case in doc["rows"], inst.case
    assert doc["meta"]["sources"]
    for c in tp_table.block_check():
        assert c["us_per_1k_tokens"] > 0


def test_cli_writes_json_and_markdown(tmp_path):
    j, md = tmp_path / "tp8.json", tmp_path / "tp8.md"
    assert tp_timeline.main(["--ctx", "8192,131072", "--json", str(j), "--markdown", str(md)]) == 0
    doc = json.loads(j.read_text())
    assert doc["paper"]["e2e_speedup"] == 1.65 and doc["ccl"]["link"]["source"] == "eth-wh"
    assert {r["ctx"] for r in doc["cycle"]} == {8192, 131072}
    assert "n300_pair" in doc["cycle"][0] and doc["assumptions"]
    text = md.read_text()
    assert "TP-8" in text and "1.65" in text and "## Assumptions" in text
    hops = {(e["kernels"], e["target_speedup"]): e["hop_us"] for e in doc["hop_needed"]}
    for k in tp_timeline.KERNEL_TIMINGS:  # a costlier hop favours ALSpec: 1.0x needs less than 1.65x
        if hops[(k, 1.0)] is not None and hops[(k, 1.65)] is not None:
            assert hops[(k, 1.0)] <= hops[(k, 1.65)]


def test_table_build_reproduces_the_shipped_rows(sim, tmp_path):
    """The shard table's builder (the cycle model's shared ``model_instances`` loop) rebuilt for one model, TP-8 and
    the sink + recent context gives the shipped rows' modelled times, and saves a resumable table."""
    path = tmp_path / "t.json"
    doc = tp_table.build(models=("llama-3.1-8b",), tps=(8,), contexts=(256,), path=path, log=lambda _: None)
    shipped = tp_table.load()["rows"]
    assert doc["rows"] and tp_table.load(path)["rows"].keys() == doc["rows"].keys()
    assert doc["meta"]["sources"] == tp_table.sources_digest()
    for key, row in doc["rows"].items():
        assert row["n150"]["model_us"] == pytest.approx(shipped[key]["n150"]["model_us"], rel=1e-6), key
