"""The performance model (ttl_kernels.perf): op counting on the simulator, the time model, the figures.

Counts are checked against what a kernel must execute by construction (one silu per output tile, M*K*N tile
matmuls, bytes of the tensors it reads), never against recorded outputs of the model; times only through
invariants and the direction they move when a figure changes."""

from __future__ import annotations

import math

import pytest
import torch

from ttl_kernels import host, runtime
from ttl_kernels.perf import counter as counter_mod
from ttl_kernels.perf.hardware import CHIPS, ETHERNET, HARDWARE, figures
from ttl_kernels.perf.model import fluid_finish, model, sensitivity
from ttl_kernels.perf.ops import cpp_kind, uncounted
from ttl_kernels.perf.run import chip_grid, count_call, count_case
from ttl_kernels.runtime import ttl
from ttl_kernels.testing import pcc
from ttl_kernels.tiling import buffers_like, buffers_of

pytestmark = pytest.mark.skipif(not runtime.is_sim(), reason="op counting runs on the simulator")

BF16 = host.TILE_BYTES["bf16"]


def _rules_op():
    """A tiny kernel exercising each lowering rule the counter encodes."""

    @ttl.operation(grid=(1, 1))
    def rules(a, b, m, out):
        a_d, b_d = buffers_of((a, b), (1, 2))
        m_d = ttl.make_dataflow_buffer_like(m, shape=(2, 2), block_count=1)
        s_d, e_d, o_d = buffers_like(out, 3, (1, 2))

        @ttl.compute()
        def compute():
            with a_d.wait() as ab, b_d.wait() as bb:
                with s_d.reserve() as s:
                    s.store(ab + bb)  # both operands in L1: one FPU add per tile
                with e_d.reserve() as e:
                    e.store(ttl.math.exp(ab) * bb)  # a and b copied into DST, SFPU exp and SFPU multiply
            with s_d.wait() as s, e_d.wait() as e, m_d.wait() as mb, o_d.reserve() as o:
                o.store(s + e @ mb)  # s copied into DST, the matmul accumulates onto it (no add)

        @ttl.datamovement()
        def reader():
            with a_d.reserve() as ab:
                tx = ttl.copy(a[0:1, 0:2], ab)
                tx.wait()
            with b_d.reserve() as bb:
                tx = ttl.copy(b[0:1, 0:2], bb)
                tx.wait()
            with m_d.reserve() as mb:
                tx = ttl.copy(m[0:2, 0:2], mb)
                tx.wait()

        @ttl.datamovement()
        def writer():
            with o_d.wait() as ob:
                tx = ttl.copy(ob, out[0:1, 0:2])
                tx.wait()

    return rules


def test_counting_rules_on_a_tiny_kernel():
    g = torch.Generator().manual_seed(0)
    a, b, m = torch.randn(32, 64, generator=g), torch.randn(32, 64, generator=g), torch.randn(64, 64, generator=g) / 8
    ta, tb, tm = (host.to_device(x, "bf16") for x in (a, b, m))
    out = host.empty((32, 64), "bf16")
    op = _rules_op()
    _, counts, traffic = count_call(op, ta.tt, tb.tt, tm.tt, out.tt)
    qa, qb, qm = (host.to_torch(x) for x in (ta, tb, tm))
    assert pcc(host.to_torch(out), (qa + qb) + (torch.exp(qa) * qb) @ qm) > 0.999
    assert len(counts.launches) == 1
    launch = counts.launches[0]
    assert launch.grid == (1, 1) and list(launch.cores) == [0]
    threads = launch.cores[0]
    comp = next(t for t in threads.values() if t.role == "compute")
    assert dict(comp.ops) == {"fpu.add": 2, "sfpu.exp": 2, "sfpu_binary.mul": 2, "matmul.HiFi4": 1 * 2 * 2,
                              "unpack": 2 + 2 + 2, "pack": 2 + 2 + 2}
    assert (comp.reserve, comp.push, comp.wait, comp.pop) == (3, 3, 5, 5)
    reader = threads["reader"]
    assert (reader.reserve, reader.push, reader.wait) == (3, 3, 0)
    assert reader.dram_read_bytes == (2 + 2 + 4) * BF16 and reader.batches == 3 and reader.copies == 3
    assert threads["writer"].dram_write_bytes == 2 * BF16
    assert counts.dram_bytes == traffic.total_bytes


def _relay_op():
    """Core 0 reads a tile and sends it over a pipe to core 1, which writes it out."""
    net = ttl.PipeNet([ttl.Pipe(src=(0, 0), dst=(1, 0))])

    @ttl.operation(grid=(2, 1))
    def relay(a, out):
        in_d, mid_d, rx_d, o_d = buffers_of((a, a, a, out))

        @ttl.compute()
        def compute():
            x, y = ttl.node(dims=2)
            if x == 0:
                with in_d.wait() as i, mid_d.reserve() as m:
                    m.store(i)
            else:
                with rx_d.wait() as r, o_d.reserve() as o:
                    o.store(r)

        @ttl.datamovement()
        def reader():
            x, y = ttl.node(dims=2)
            if x == 0:
                with in_d.reserve() as i:
                    tx = ttl.copy(a[0:1, 0:1], i)
                    tx.wait()

            def recv(pipe):
                with rx_d.reserve() as b:
                    tr = ttl.copy(pipe, b)
                    tr.wait()

            net.if_dst(recv)

        @ttl.datamovement()
        def writer():
            x, y = ttl.node(dims=2)

            def send(pipe):
                with mid_d.wait() as b:
                    ts = ttl.copy(b, pipe)
                    ts.wait()

            net.if_src(send)
            if x == 1:
                with o_d.wait() as o:
                    tw = ttl.copy(o, out[0:1, 0:1])
                    tw.wait()

    return relay


def test_core_to_core_bytes_are_counted():
    a = host.to_device(torch.randn(32, 32), "bf16")
    out = host.empty((32, 32), "bf16")
    _, counts, _ = count_call(_relay_op(), a.tt, out.tt)
    assert torch.equal(host.to_torch(out), host.to_torch(a))
    launch = counts.launches[0]
    assert launch.cores[0]["writer"].noc_send_bytes == BF16 and launch.cores[1]["reader"].noc_recv_bytes == BF16
    assert launch.cores[0]["reader"].dram_read_bytes == BF16 and launch.cores[1]["writer"].dram_write_bytes == BF16
    assert counts.total("noc_transfers") == 2
    m = model(counts, "n150")
    assert m.noc_us > 0
    assert model(counts, "n150", overrides={"noc_latency_cycles": 1e7}).bound == "noc"


def test_silu_mul_one_tile():
    counts, min_bytes, _ = count_case("silu_mul", dict(rows=32, cols=32, dtype="bf16"), "n150")
    ops = counts.ops()
    assert ops["sfpu.silu"] == 1 and ops["sfpu_binary.mul"] + ops.get("fpu.mul", 0) == 1
    assert ops["pack"] == 1
    assert counts.total("dram_read_bytes") == 2 * BF16 and counts.total("dram_write_bytes") == BF16
    assert min_bytes == 3 * BF16
    busy = [c for launch in counts.launches for c, th in launch.cores.items() if any(t.ops for t in th.values())]
    assert len(busy) == 1  # one tile of work: one core computes


def test_silu_mul_work_is_one_op_per_tile_at_any_grid():
    rows, cols = 64, 2048
    tiles = (rows // 32) * (cols // 32)
    for chip in CHIPS:
        counts, _, _ = count_case("silu_mul", dict(rows=rows, cols=cols, dtype="bf16"), chip)
        ops = counts.ops()
        assert ops["sfpu.silu"] == tiles and ops["pack"] == tiles
        assert counts.total("dram_read_bytes") == 2 * tiles * BF16
        cores = math.prod(int(figures(chip)[k].value) for k in ("grid_x", "grid_y"))
        for launch in counts.launches:
            assert math.prod(launch.grid) <= cores and len(launch.cores) <= cores


def test_matmul_parity_and_tile_matmul_count():
    from ttl_kernels.matmul import matmul

    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(64, 96, generator=g), torch.randn(96, 128, generator=g)
    (mt, kt, nt), (bm, bn, bk) = (2, 3, 4), (1, 2, 3)
    y, counts, traffic = count_call(matmul, a, b, block=(bm, bn, bk), grid=(2, 2))
    assert pcc(y, a @ b) > 0.9999
    ops = counts.ops()
    assert ops["matmul.HiFi4.fp32"] == mt * kt * nt  # fp32 operands: costed with fp32 accumulation
    # every output block reads its A row panel and B column panel once
    a_reads, b_reads = nt // bn, mt // bm
    assert counts.total("dram_read_bytes") == (a_reads * mt * kt + b_reads * kt * nt) * 4096  # fp32 tiles
    assert counts.total("dram_write_bytes") == mt * nt * 4096
    assert counts.dram_bytes == traffic.total_bytes


@pytest.fixture(scope="module")
def stream_counts():
    """silu_mul at a decode shape on the n150 grid (counted once for the time-model tests)."""
    counts, min_bytes, _ = count_case("silu_mul", dict(rows=32, cols=4096, dtype="bf16"), "n150")
    return counts, min_bytes


def test_binding_term_follows_the_figures(stream_counts):
    counts, mb = stream_counts
    assert model(counts, "n150", min_bytes=mb, overrides={"dram_gbps": 1e6, "noc_bytes_per_cycle": 1e6,
                                                          "dram_latency_cycles": 0}).bound == "compute"
    assert model(counts, "n150", min_bytes=mb, overrides={"dram_gbps": 1.0}).bound == "dram"
    assert model(counts, "n150", min_bytes=mb, overrides={"handoff_cycles": 1e7}).bound == "handoff"
    assert model(counts, "n150", min_bytes=mb, overrides={"launch_us": 1e6}).bound == "dispatch"
    slow = model(counts, "n150", overrides={"dram_gbps": 10.0})
    fast = model(counts, "n150", overrides={"dram_gbps": 1000.0})
    assert slow.model_us > fast.model_us and slow.dram_us > fast.dram_us


def test_model_invariants(stream_counts):
    counts, mb = stream_counts
    for chip in CHIPS:
        m = model(counts, chip, min_bytes=mb)
        assert m.model_us == pytest.approx(sum(x.model_us for x in m.launches))
        assert m.model_us >= m.dram_us + m.launch_us - 1e-9
        for x in m.launches:
            assert x.body_us >= max(x.dram_us, x.compute_us + x.handoff_us, x.dm_us) - 1e-9
            assert x.body_us == pytest.approx(max([x.dram_us] + [c.total_us for c in x.per_core]))
        assert m.dram_us == pytest.approx(counts.dram_bytes / (figures(chip)["dram_gbps"].value * 1e3))
        assert m.useful_gbps == pytest.approx(mb / m.model_us / 1e3)
        assert m.ratio_to_dram == pytest.approx(m.model_us / m.dram_us)
        assert m.bound in ("dram", "compute", "handoff", "noc", "dispatch")
        assert sum(m.bound_shares.values()) == pytest.approx(m.model_us, rel=1e-3)
        eager = model(counts, chip, min_bytes=mb, dispatch="eager")
        assert eager.dispatch_us == pytest.approx(len(m.launches) * figures(chip)["dispatch_eager_us"].value)
        assert eager.model_us == pytest.approx(m.model_us + eager.dispatch_us)


def test_sensitivity_is_monotone(stream_counts):
    counts, mb = stream_counts
    rows = sensitivity(counts, "n150", min_bytes=mb)
    names = {r["figure"] for r in rows}
    assert {"dram_gbps", "sfpu.silu", "handoff_cycles", "pack"} <= names
    assert "sfpu.exp" not in names  # silu_mul executes no exp: its cost cannot matter
    for r in rows:
        if r["figure"] in ("clock_ghz", "dram_gbps", "noc_bytes_per_cycle"):  # rates: more is faster
            assert r["model_us_half"] >= r["model_us"] >= r["model_us_double"], r
        else:  # costs: more is slower
            assert r["model_us_half"] <= r["model_us"] <= r["model_us_double"], r
    assert max(r["swing"] for r in rows) > 0


def test_fluid_sharing():
    assert fluid_finish([100.0, 100.0], cap=1e9, aggregate=10.0) == pytest.approx([20.0, 20.0])
    assert fluid_finish([50.0], cap=5.0, aggregate=100.0) == pytest.approx([10.0])
    t = fluid_finish([10.0, 30.0, 0.0], cap=1e9, aggregate=10.0)
    assert t[0] == pytest.approx(2.0) and t[1] == pytest.approx(4.0) and t[2] == 0.0


def test_chip_grid_is_what_kernels_see():
    for chip in CHIPS:
        with chip_grid(chip) as g:
            assert runtime.grid() == g == (int(figures(chip)["grid_x"].value), int(figures(chip)["grid_y"].value))
    assert runtime.grid() == runtime.backend().grid


def test_dram_bytes_equal_the_traffic_trace_per_core():
    from ttl_kernels.attention import flash_decode
    from ttl_kernels.perf.validate import flash_case

    tq, tk, tv, pos, useful = flash_case(256, "bfp8_b")
    _, counts, traffic = count_call(flash_decode, tq, tk, tv, pos, chunk_size=128)
    assert counts.dram_bytes == traffic.total_bytes
    per_core: dict = {}
    for launch in counts.launches:
        for core, th in launch.cores.items():
            per_core[f"core{core}"] = per_core.get(f"core{core}", 0) + sum(t.dram_bytes for t in th.values())
    assert {k: v for k, v in per_core.items() if v} == dict(traffic.per_core_bytes)
    kv_read = sum(t.dram_read_tiles for launch in counts.launches[:1] for th in launch.cores.values()
                  for t in th.values())
    assert kv_read * 1088 >= useful  # the bfp8_b K and V tiles were all read


def test_cpp_op_map():
    assert cpp_kind("matmul_block") == "matmul"
    assert cpp_kind("add_tiles") == "fpu.add" and cpp_kind("mul_binary_tile") == "sfpu_binary.mul"
    assert cpp_kind("binary_max_tile") == "sfpu_binary.max"
    assert cpp_kind("negative_tile") == "sfpu.neg" and cpp_kind("exp_tile") == "sfpu.exp"
    assert cpp_kind("pack_tile_block") == "pack" and cpp_kind("copy_tile") == "unpack"
    assert cpp_kind("typecast_tile") == "typecast" and cpp_kind("transpose_wh_tile") == "transpose"
    assert uncounted(["exp_tile", "matmul_block"], {"sfpu.exp": 3, "matmul.HiFi4": 1}) == []
    assert uncounted(["recip_tile"], {"sfpu.exp": 3}) == ["recip_tile -> sfpu.recip"]
    assert uncounted(["mystery"], {}) == ["mystery -> None"]


def test_every_figure_is_cited():
    for chip in CHIPS:
        figs = figures(chip)
        for name, f in figs.items():
            assert f.source.strip(), (chip, name)
            assert math.isfinite(f.value) and f.value > 0, (chip, name)
        for k in ("matmul.LoFi", "matmul.HiFi4", "sfpu.exp", "unpack", "pack", "handoff_cycles", "launch_us"):
            assert k in figs
        assert figs["matmul.HiFi4"].value == 4 * figs["matmul.LoFi"].value  # 16 cycles per fidelity phase
    with pytest.raises(KeyError):
        figures("n150", {"no_such_figure": 1.0})
    assert ETHERNET["n300"].gbps > 0


def test_roofline_view_matches_the_alspec_model():
    from models.alspec import latency as alspec
    for name, hw in HARDWARE.items():
        theirs = alspec.HARDWARE[name]
        for f in ("dram_gbps", "attn_gbps", "peak_tflops", "link_gbps", "dram_gb", "launch_us", "link_latency_us"):
            ours, want = getattr(hw, f), getattr(theirs, f)
            if want is None:
                assert ours is None, (name, f)
            else:
                assert ours == pytest.approx(want), (name, f)


def test_counter_records_nothing_when_inactive():
    before = list(counter_mod._ACTIVE)
    host.to_torch(host.to_device(torch.zeros(32, 32), "bf16"))
    assert counter_mod._ACTIVE == before
