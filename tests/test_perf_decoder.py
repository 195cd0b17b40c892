"""The decode-step side of the performance model (ttl_kernels.perf.decoder): the projection matmuls at the measured
decode-matmul DRAM rate, the kernel instances of a decode step, the shipped kernel table and its interpolation, and
the one source of hardware figures the ALSpec latency model and the benchmarks read."""

from __future__ import annotations

import pytest

from ttl_kernels import runtime
from ttl_kernels.perf import decoder as dec
from ttl_kernels.perf.hardware import ELEMENT_BYTES, HARDWARE, figures


def test_projection_is_dram_bound_at_decode_shapes():
    """Llama-3.1-8B's gate projection, one tile row of users: the weights at the measured 249.5 GB/s bind on n150
    (compute: 128 x 448 tile matmuls on 12 bank workers); bfp4_b weights are 576/1024 bytes per element."""
    for dt, fid, cyc in (("bf16", "HiFi2", 32), ("bfp8_b", "HiFi2", 32), ("bfp4_b", "LoFi", 16)):
        r = dec.projection(4096, 14336, dt, "n150")
        wbytes = 4096 * 14336 * ELEMENT_BYTES[dt]
        assert r["fidelity"] == fid
        assert r["dram_us"] == pytest.approx((wbytes + 32 * (4096 + 14336) * 2) / 249.5e3, rel=1e-9)
        assert r["compute_us"] == pytest.approx(128 * 448 * cyc / 12 / 1e3, rel=1e-9)
        assert r["bound"] == "dram" and r["model_us"] == pytest.approx(r["dram_us"] + 0.7, rel=1e-9)
    eager = dec.projection(4096, 4096, "bfp8_b", "n150", dispatch="eager")
    assert eager["model_us"] - dec.projection(4096, 4096, "bfp8_b", "n150")["model_us"] == pytest.approx(29.0)
    slow = dec.projection(4096, 4096, "bf16", "n150", overrides={"matmul_dram_gbps": 239.0})
    assert slow["dram_us"] > dec.projection(4096, 4096, "bf16", "n150")["dram_us"]


def test_instances_follow_the_decoder():
    llama = {i.label: i for i in dec.instances("llama-3.1-8b", 1024)}
    qwen = {i.label: i for i in dec.instances("qwen3-8b", 1024, "bfp8_b", alspec=True)}
    assert "q_norm" not in llama and {"q_norm", "k_norm"} <= qwen.keys()  # Qwen3's head norms only
    assert llama["add_rmsnorm"].count == 2 and llama["rmsnorm"].per == "step"
    assert llama["attention"].params == dict(batch=1, n_q=32, n_kv=8, head_dim=128, s_max=1024, pos=1023,
                                             chunk_size=128, kv_dtype="bf16")
    assert qwen["attention"].params["kv_dtype"] == "bfp8_b" and qwen["speculative"].kernel == "speculative_decode"
    assert {i.op_class for i in llama.values()} == {"norms", "element-wise", "layout", "attention"}
    with pytest.raises(ValueError, match="^model must be one of"):
        dec.instances("no-such-model", 1024)


def test_weight_bytes_by_precision():
    """Llama-3.1-8B: ~7.0 G projection weights + 0.53 G LM head + 0.53 G bf16 embedding."""
    gb = {p: dec.weight_bytes("llama-3.1-8b", dec.PRECISIONS[p]) / 1e9 for p in dec.PRECISIONS}
    assert 15.5 < gb["bf16"] < 16.5 and 8.5 < gb["bfp8_b"] < 9.5 and 5.8 < gb["performance"] < 6.6
    assert gb["bf16"] > 12 > gb["bfp8_b"]  # bf16 weights do not fit an n150's 12 GB
    assert dec.kv_bytes("llama-3.1-8b", 1024, "bf16") == 32 * 2 * 8 * 1024 * 128 * 2


def test_lookup_interpolates_attention_in_context():
    p = dec.attention_params("tiny-llama", 1024)
    rows = {}
    for ctx, us in ((1024, 100.0), (4096, 400.0)):
        q = dict(p, s_max=ctx, pos=ctx - 1)
        rows[dec.case_key("flash_decode", q)] = {"kernel": "flash_decode", "params": q, "n150": dict(
            model_us=us, dram_us=us / 4, compute_us=us / 2, handoff_us=1.0, noc_us=0.0, launch_us=1.4,
            bound="compute", launches=2, dram_bytes=int(us * 1000))}
    doc = {"rows": rows}
    mid = dec.lookup("flash_decode", dict(p, s_max=2048, pos=2047), "n150", doc)
    assert mid["model_us"] == pytest.approx(200.0) and mid["interpolated"] == [1024, 4096]
    far = dec.lookup("flash_decode", dict(p, s_max=8192, pos=8191), "n150", doc)
    assert far["model_us"] == pytest.approx(800.0)  # extrapolated from the last two
    assert dec.lookup("flash_decode", dict(p, s_max=1024, pos=1023), "n150", doc)["model_us"] == 100.0
    assert dec.lookup("flash_decode", dict(p, s_max=2048, pos=100), "n150", doc) is None  # not the last position
    assert dec.lookup("flash_decode", dict(p, s_max=2048, pos=2047, kv_dtype="bfp8_b"), "n150", doc) is None
    assert dec.lookup("rope", {"rows": 32}, "n150", doc) is None


def test_shipped_table_matches_the_model():
    """The shipped table's row of an instance is what the cycle model gives now (rebuild it with ``ttl-perf
    decoder-table`` when a kernel or a figure changes); every figure it was built with is today's."""
    doc = dec.table()
    assert doc.get("rows"), "the shipped kernel table (ttl_kernels/perf/kernel_table.json) is empty or missing"
    for chip in doc["meta"]["chips"]:
        assert dec.stale_figures(chip) == [], chip
    if not runtime.is_sim():
        pytest.skip("the cycle model counts ops on the simulator: a device or compile-only backend cannot model")
    from ttl_kernels.perf import model_case

    inst = next(i for i in dec.instances("tiny-llama", 1024) if i.kernel == "silu_mul")
    res = model_case(inst.kernel, inst.params, ("n150",), seed=None)
    assert doc["rows"][inst.case]["n150"] == dec.summarize(res["n150"])


def test_one_source_of_hardware_figures():
    """models.alspec.latency and the report read the perf model's figures (the same objects, not copies)."""
    from bench.reporting import hardware as report_hw
    from models.alspec import latency as lat

    assert lat.HARDWARE is HARDWARE and lat.Hardware is type(HARDWARE["n150"])
    assert lat.DTYPE_BYTES is ELEMENT_BYTES
    for chip in ("n150", "p150"):
        f = figures(chip)
        assert report_hw.HW_GBPS[chip] == f["dram_gbps"].value == HARDWARE[chip].dram_gbps
        assert HARDWARE[chip].chip == chip and HARDWARE[chip].launch_us == f["launch_us"].value
        assert HARDWARE[chip].dispatch_us == f["dispatch_eager_us"].value
    assert HARDWARE["n300"].chip == "n150" and HARDWARE["n300"].link_gbps == 12.5
    assert figures("n150")["matmul_dram_gbps"].value == pytest.approx((239 + 260) / 2)


def test_build_table_reproduces_the_shipped_rows():
    """``ttl-perf decoder-table``'s builder, rebuilt for the tiny Llama at one context on n150, gives the shipped
    rows' modelled times; rows it is handed as done are kept and not rerun; ``save`` sees every row."""
    if not runtime.is_sim():
        pytest.skip("the cycle model counts ops on the simulator: a device or compile-only backend cannot model")
    shipped = dec.table()["rows"]
    saves = []
    doc = dec.build_table(["tiny-llama"], [256], chips=("n150",), log=lambda _: None, save=saves.append)
    assert doc["rows"] and len(saves) == len(doc["rows"])
    for key, row in doc["rows"].items():
        assert row["n150"]["model_us"] == pytest.approx(shipped[key]["n150"]["model_us"], rel=1e-6), key
    again = dec.build_table(["tiny-llama"], [256], chips=("n150",), log=lambda _: None, done=doc["rows"],
                            save=saves.append)
    assert again["rows"] == doc["rows"] and len(saves) == len(doc["rows"])  # nothing rerun
