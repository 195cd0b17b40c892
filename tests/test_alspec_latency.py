"""The ALSpec latency model: timeline algebra, monotonicity, a hand-computed case, measured-traffic input, and the
cycle model behind it (kernel times from ttl_kernels.perf on the chips it knows; the roofline elsewhere)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from models.alspec import latency as lat
from models.alspec.latency import Dtypes, Hardware, ModelShape
from ttl_kernels.perf import decoder as perf_decoder

LLAMA = lat.MODELS["llama-3.1-8b"]
N300 = lat.HARDWARE["n300"]

# A machine with round numbers and no fixed overheads, and a one-layer toy model, for the hand computation.
TOY_HW = Hardware("toy", dram_gbps=1.0, attn_gbps=0.5, peak_tflops=1e-3, link_gbps=0.1, dram_gb=100.0, launch_us=0.0,
                  link_latency_us=0.0)
TOY = ModelShape("toy", hidden=32, intermediate=64, n_q=2, n_kv=1, head_dim=32, layers=1, vocab=32)
BF16 = Dtypes(weights="bf16", kv="bf16", act="bf16", link="bf16")


def test_hand_computed_small_case():
    """Every segment of one toy layer at ctx 128, S 32, batch 1, counted by hand (bytes at 1 GB/s = ns).  The toy
    machine has no cycle model (``chip`` None), so every op is on the roofline.
    The layer lists the kernels the kernel-built decoder runs (models/decoder_step.py), a change from the first
    version of this model: the residual add is fused into the next norm (``add_rmsnorm``: reads h, r, w, writes
    h + r and x: 4 * 2048 + 64 = 8256 B), so ``pre`` has no norm of its own and ``post`` ends with the next
    layer's input norm; the attention segments include the heads <-> KV-group layout ops (q or o as heads
    [32, 64] plus one 32-row tile per KV head: 4096 + 2048 = 6144 B each); the step's first norm moves to
    ``final``.
    pre = qkv 18432 + rope 12416 + kv_update 4224 = 35072 B -> 35.072 us
    attn = 6144 + K,V 2*128*32*2 = 16384 + q/o tiles 4096 = 20480 B at 0.5 GB/s (40.96 us) + 6144 -> 53.248 us
    spec = 6144 + K,V over 2S = 64 tokens 8192 + 4096 = 12288 B at 0.5 GB/s (24.576 us) + 6144 -> 36.864 us
    verify = 4096 + 3 fp32 tiles 12288 = 16384 B -> 16.384 us;  transfer = 2*32*2 = 128 B at 0.1 GB/s -> 1.28 us
    post = o 10240 + add_rmsnorm 8256 + gate_up 18432 + silu_mul 12288 + down 10240 + add_rmsnorm 8256 = 67712 B
    swap = link (64 + 2048) B at 0.1 GB/s = 21.12 us + select 14336 B = 14.336 us -> 35.456 us
    (every op is bandwidth bound here: FLOPs at 1 GFLOP/s are below the byte times)."""
    t = lat.layer_times(TOY, TOY_HW, 128, chunk=32, dt=BF16)
    us = {k: round(v * 1e6, 6) for k, v in t.__dict__.items()}
    assert us == {"pre": 35.072, "attn": 53.248, "spec": 36.864, "verify": 16.384, "transfer": 1.28, "post": 67.712,
                  "swap": 35.456}
    assert round(t.single * 1e6, 6) == 156.032                     # 35.072 + 53.248 + 67.712
    assert round(t.hit * 1e6, 6) == 176.384                        # 35.072 + max(69.632, 105.856) + 35.456
    assert round(t.miss * 1e6, 6) == 207.872                       # 35.072 + 53.248 + 16.384 + 67.712 + 35.456
    r = lat.decode_latency(TOY, TOY_HW, 128, 0.25, chunk=32, dt=BF16)
    fin_us = 4.16 + 6.144                                          # first norm 4160 B + lm_head (2048 + 4096) B
    assert r["final_ms"] == pytest.approx(fin_us * 1e-3, rel=1e-12)
    assert r["single_ms"] == pytest.approx((156.032 + fin_us) * 1e-3, rel=1e-12)
    assert r["alspec_ms"] == pytest.approx((0.25 * 176.384 + 0.75 * 207.872 + fin_us) * 1e-3, rel=1e-12)
    assert set(r["kernel_sources"]) == {"roofline", "link"}
    # eager dispatch adds the host cost per op (and per link transfer); traced adds none
    slow = replace(TOY_HW, dispatch_us=1.0)
    n_ops = 3 + 3 + 6  # pre, attn, post (a single-device layer)
    assert lat.layer_times(TOY, slow, 128, chunk=32, dt=BF16, dispatch="eager").single * 1e6 == pytest.approx(
        156.032 + n_ops, rel=1e-12)
    assert lat.layer_times(TOY, slow, 128, chunk=32, dt=BF16).single * 1e6 == pytest.approx(156.032, rel=1e-12)


def test_compute_bound_op_uses_flops():
    k = lat.Kernel("x", bytes=1e3, flops=1e12)
    assert lat.kernel_time(k, TOY_HW) == pytest.approx(1e12 / 1e9)
    assert lat.kernel_time(replace(k, flops=0.0), replace(TOY_HW, launch_us=5.0)) == pytest.approx(1e-6 + 5e-6)


def test_miss_timeline_is_serial():
    for ctx in lat.CONTEXTS:
        t = lat.layer_times(LLAMA, N300, ctx)
        assert t.miss == pytest.approx(t.pre + t.attn + t.verify + t.post + t.swap, rel=1e-15)
        assert t.miss > t.single  # a miss costs the verdict and the swap on top of plain decoding
        r = lat.decode_latency(LLAMA, N300, ctx, 0.0)
        assert r["alspec_ms"] == pytest.approx(r["single_ms"] + LLAMA.layers * (t.verify + t.swap) * 1e3, rel=1e-12)
        assert r["alspec_ms"] == pytest.approx(r["alspec_all_miss_ms"], rel=1e-12)


def test_hit_ordering_and_linearity():
    for ctx in lat.CONTEXTS:
        t = lat.layer_times(LLAMA, N300, ctx)
        assert t.hit <= t.miss
        r0, r1, rh = (lat.decode_latency(LLAMA, N300, ctx, h) for h in (0.0, 1.0, 0.3))
        assert r1["alspec_ms"] <= r0["alspec_ms"]
        assert rh["alspec_ms"] == pytest.approx(0.3 * r1["alspec_ms"] + 0.7 * r0["alspec_ms"], rel=1e-12)
        # a hit hides max(...) of the two paths: never better than either path alone
        eps = 1 + 1e-12
        assert t.hit * eps >= t.pre + t.attn + t.verify + t.swap
        assert t.hit * eps >= t.pre + t.spec + t.transfer + t.post + t.swap


def test_monotonic_in_context():
    for h in (0.0, 0.5, 1.0):
        rows = [lat.decode_latency(LLAMA, N300, c, h) for c in lat.CONTEXTS]
        for key in ("single_ms", "alspec_ms", "attention_overhead_single_ms"):
            vals = [r[key] for r in rows]
            assert all(a <= b for a, b in zip(vals, vals[1:])), (h, key, vals)
        assert rows[-1]["single_ms"] > rows[0]["single_ms"]


def test_spec_equals_exact_when_context_fits_two_chunks():
    t = lat.layer_times(LLAMA, N300, 256, chunk=128)
    assert t.spec == t.attn


def test_per_layer_hit_rates():
    rates = [1.0] * 16 + [0.0] * 16
    r = lat.decode_latency(LLAMA, N300, 32768, rates)
    half = lat.decode_latency(LLAMA, N300, 32768, 0.5)
    assert r["alspec_ms"] == pytest.approx(half["alspec_ms"], rel=1e-12)
    assert r["hit_rate"] == 0.5


def test_llama_on_the_cycle_model():
    """Llama-3.1-8B on an n300 chip.  Changed with the cycle model (ttl_kernels.perf): the first version timed
    attention at 128K as K+V bytes at ttnn's 180 GB/s + a 5 us launch (~2.99 ms per layer) and the 1K step as
    bytes at 288 GB/s (25-40 ms); now every TT-Lang kernel is the time the cycle model gives its instance (our
    flash decode, DRAM-bound at long contexts since the kernels were reworked), the projections are DRAM-sharded
    matmuls at the measured 239-260 GB/s, and the step adds the norms, RoPE and layout kernels the roofline
    counted as bytes only."""
    k = lat.layer_kernels(LLAMA, 131072)
    assert k["attn"][1].bytes - 2 * 8 * 32 * 128 * 2 == 2 * 8 * 131072 * 128 * 2  # the roofline's bytes stay
    t = lat.layer_times(LLAMA, N300, 131072)
    parts = [perf_decoder.lookup(kern, dict(params), "n150")["model_us"] for kern, params in
             (k["attn"][0].instance, k["attn"][1].instance, k["attn"][2].instance)]
    assert t.attn == pytest.approx(sum(parts) * 1e-6, rel=1e-12)
    kv_bytes = 2 * 8 * 131072 * 128 * 2
    assert kv_bytes / 288e9 < t.attn < 10e-3  # never faster than reading K + V at the DRAM peak
    r = lat.decode_latency(LLAMA, N300, 1024, 0.0)
    assert set(r["kernel_sources"]) == {"cycle", "link"}  # every kernel from the cycle model
    kv, embedding = 32 * 2 * 8 * 1024 * 128 * 2, LLAMA.vocab * 4096 * 1088 / 1024
    weights = lat.model_bytes(LLAMA, 1024, 1, lat.Dtypes()) - kv - embedding
    assert r["single_ms"] > weights / 260e6  # at least the weights at the measured decode-matmul rate
    assert 35 < r["single_ms"] < 60
    eager = r["by_dispatch"]["eager"]["single_ms"] - r["by_dispatch"]["traced"]["single_ms"]
    launches = eager / (N300.dispatch_us * 1e-3)
    assert launches == pytest.approx(round(launches), abs=1e-6) and launches >= 32 * 11  # >= 11 ops a layer
    assert not lat.decode_latency(LLAMA, N300, 131072, 1.0)["fits"]  # 12 GB per chip
    assert lat.decode_latency(LLAMA, N300, 8192, 1.0)["fits"]


def test_cycle_model_falls_back_to_the_roofline():
    """A device without a chip (``chip`` None) or a batch the table lacks times those kernels on the roofline."""
    roof = lat.decode_latency(LLAMA, replace(N300, chip=None), 4096, 0.5)
    assert set(roof["kernel_sources"]) == {"roofline", "link"}
    b4 = lat.decode_latency(LLAMA, N300, 4096, 0.5, batch=4)["kernel_sources"]
    assert b4["cycle"] > 0 and b4["roofline"] == 8  # attention x2, layout x4, verify, kv_update; norms: the table
    perf = lat.decode_latency(LLAMA, N300, 4096, 0.5, dt=Dtypes(mlp_weights="bfp4_b"))
    assert perf["single_ms"] < lat.decode_latency(LLAMA, N300, 4096, 0.5)["single_ms"]  # fewer MLP weight bytes
    with pytest.raises(ValueError, match="^dispatch:"):
        lat.decode_latency(LLAMA, N300, 4096, 0.5, dispatch="lazy")


def test_measured_traffic_scales_bytes(tmp_path):
    f = tmp_path / "traffic.json"
    f.write_text(json.dumps({"results": [
        {"kernel": "silu_mul", "bytes": 300, "min_bytes": 100},
        {"kernel": "silu_mul", "bytes": 150, "min_bytes": 100},
        {"kernel": "unknown_kernel", "bytes": 999, "min_bytes": 1},
        {"kernel": "residual_add"},
    ]}))
    m = lat.load_measured([f, tmp_path / "missing.json"])
    assert m.ratio == {"silu_mul": 3.0} and m.sources == [str(f)]
    base = lat.layer_times(TOY, TOY_HW, 128, chunk=32, dt=BF16)
    meas = lat.layer_times(TOY, TOY_HW, 128, chunk=32, dt=BF16, measured=m)
    assert meas.post - base.post == pytest.approx(2 * 12288e-9, rel=1e-12)  # silu_mul bytes tripled
    assert (meas.pre, meas.attn, meas.swap) == (base.pre, base.attn, base.swap)
    assert lat.load_measured([tmp_path / "missing.json"]).ratio == {}


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(ctx=0, hit_rate=0.5), "^ctx:"),
        (dict(ctx=1024, hit_rate=1.5), "^hit_rate:"),
        (dict(ctx=1024, hit_rate=[0.5] * 3), "^hit_rate: expected one rate or 32"),
        (dict(ctx=1024, hit_rate=0.5, chunk=48), "^chunk: expected a positive multiple of 32"),
        (dict(ctx=1024, hit_rate=0.5, batch=0), "^batch:"),
    ],
)
def test_bad_input_latency(kw, match):
    with pytest.raises(ValueError, match=match):
        lat.decode_latency(LLAMA, N300, **kw)


def test_no_link_is_an_error():
    with pytest.raises(ValueError, match="^hw: n150 has no chip-to-chip link"):
        lat.decode_latency(LLAMA, lat.HARDWARE["n150"], 1024, 0.5)


def test_cli_json(tmp_path, capsys):
    out = tmp_path / "lat.json"
    assert lat.main(["--hit", "0,1", "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert len(d["rows"]) == 2 * len(lat.CONTEXTS) and d["paper"]["e2e_speedup"] == 1.65
    assert "128K" in capsys.readouterr().out


def test_link_tile_rows_pads_transfers():
    base = lat.layer_kernels(LLAMA, 4096)
    tiled = lat.layer_kernels(LLAMA, 4096, dt=Dtypes(link_tile_rows=True))
    assert tiled["transfer"][0].bytes == 32 * base["transfer"][0].bytes == 32 * 32 * 128 * 2
    assert tiled["swap"][0].bytes - 32 * 32 * 2 == 32 * (base["swap"][0].bytes - 32 * 32 * 2)
    assert lat.layer_kernels(LLAMA, 4096, batch=32)["transfer"][0].bytes == tiled["transfer"][0].bytes
