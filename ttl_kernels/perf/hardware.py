"""Every hardware figure of the project, each with its source: chips, DRAM, NoC, Ethernet, dispatch, and the
cost table (cycles per tile op by kind and fidelity, SFPU costs, dataflow-buffer hand-offs).

A :class:`Figure` is a value plus its unit, its source and whether the value is *confirmed* (a published
measurement or a spec sheet for that chip) or a *parameter* (no citable figure for this chip and op: a
documented default, often borrowed from the other architecture or from an older software stack).  The model
(:mod:`ttl_kernels.perf.model`) reads figures only through :func:`figures`; :func:`ttl_kernels.perf.model.sensitivity`
reruns it with each figure halved and doubled, which is the "what if it is 2x off" column.

Sources (short names used in the ``source`` fields):

``specs-wh`` / ``specs-bh``
    Tenstorrent product pages, docs.tenstorrent.com/aibs/{wormhole,blackhole}/specifications.html, as quoted in
    ../shared/design/numbers.md and perf-model.md (n150: 1 Wormhole chip, 72 Tensix, 12 GB GDDR6, 288 GB/s;
    p150: 1 Blackhole chip, 140 Tensix, 32 GB GDDR6, 512 GB/s).
``gemm-flops``
    tt-metal tech_reports/GEMM_FLOPS/GEMM_FLOPS.md: the matrix engine does 8x16 x 16x16 per cycle, so one
    32x32x32 tile matmul is 16 cycles at LoFi, 32 HiFi2, 48 HiFi3, 64 HiFi4; inputs shorter than 8 rows cost 8
    rows; fast-dispatch worker grids 8x8 (Wormhole) and 13x10 (Blackhole); its n150 512x512x512 bf16 HiFi2
    row: 49.0 us per op without trace, 20.0 us with trace.
``dram-wh`` / ``dram-bh``
    tt-metal tech_reports/Saturating_DRAM_bandwidth/Saturating_DRAM_bandwidth.md (Wormhole, 12 DRAM banks: 288
    GB/s spec, 267 GB/s microbenchmark, 239-260 GB/s in Llama3-70B decode matmuls and 243-261 in Mixtral8x7b's,
    its table "DRAM spec speed / u-benchmark / Llama3-70 decode / Mixtral8x7b decode"; decode matmuls are DRAM
    sharded, one worker core per bank) and ..._Blackhole.md (p150, 8 DRAM banks: 512 GB/s spec, 500 GB/s with
    bank-adjacent readers, 344 GB/s with arbitrary reader placement, 186 GB/s with one outstanding read per
    core).
``cycle-estimator``
    tenstorrent/tt-lang docs/development/CycleEstimator.md (main branch): NoC 25.3 B/cycle per core measured
    and a 293-cycle small-transfer floor (tt-metal noc_latencies.yaml) on Wormhole; 60.9 B/cycle on Blackhole
    with the Wormhole latency as a placeholder; fp32 dest accumulation makes a matmul ~7% slower; tt-lang sets
    no math fidelity so tt-metal's default HiFi4 applies; SFPU floor 1 instruction = 32 cycles per tile.
``mb1``
    tenstorrent/tt-lang benchmarks/microbench/RESULTS.md, MB1: one compute core doing wait/reserve, copy_tile,
    pack_tile, pop/push per iteration: Wormhole 0.160 us + 0.065 us per tile, Blackhole 0.089 us + 0.039 us
    per tile (bf16, linear fits, r^2 0.98-0.99).
``buda-wh``
    tenstorrent/tt-budabackend perf_lib/op_model/params/wormhole_b0/params_v3.yaml: per-tile cycles fitted to
    measured Wormhole B0 op sweeps (whole op: unpack + math + pack).  An older software stack than tt-lang's
    (ttnn 0.69), so SFPU figures may be stale; the Blackhole file in that repository is a copy of it.
``tt-metal#43569``
    "Accurate exp performance on bfloat16": ~1150 cycles/tile for the default bf16-accurate exp (a TTI
    rewrite brings it under 700; tt-metal PR #54318 measures 578 -> 482 cycles/tile on Blackhole p100a).
``tt-metal#48925``
    "[LLK] WH SFPU complex llks cleanup": Wormhole bf16 MATH_ISOLATE cycles per tile on main: silu 1432.0,
    tanh 823.9, div 1474.8.
``tt-metal#57292``
    "[Blackhole] Fast bf16 SFPU kernels" (p150b, main a406ad5c): abs 146 cycles/tile; SDPA's approximate exp
    77 cycles/tile.
``tt-llk#834``
    Blackhole reciprocal: bf16 ~96, fp32 ~160 cycles/tile (as quoted in perf-model.md; not re-read here).
``llama3-galaxy-perf``
    tt-metal models/demos/llama3_subdevices/tests/test_decoder_device_perf.py perf_targets: traced Llama-3
    decode on Wormhole Galaxy, op-to-op gap 0.6-1.0 us per op.
``dflash-readme``
    tt-metal qwen36 README-DFLASH.md as quoted in perf-model.md: ~0.6 ms per op in an eager Python drafter.
``eth-wh``
    tt-metal tech_reports/EthernetMultichip/BasicEthernetGuide.md: every Wormhole Ethernet link 100 Gb/s
    (12.5 GB/s) per direction; n300: 2 links between its chips, one reserved for dispatch, so 12.5 GB/s per
    direction for kernels; T3000 = four n300 in a 2x4 mesh, Galaxy 4x8, same link speed; ~650 ns per hop
    (8-chip ring ping), 530-620 ns one way on one link.
``flashdecode``
    tt-metal tech_reports/FlashAttention/FlashDecode.md: "up to 180 GB/s" KV bandwidth on Wormhole (bf16 Q,
    bfp8 KV, 1 byte per KV element counted), against a 250 GB/s maximum observed.
``tt-transformers``
    tt-metal models/tt_transformers/tt/mlp.py (decode: DRAM-sharded matmuls, "These use HiFi2") and
    model_config.py ``ModelOptimizations.performance`` (bfp4_b MLP weights with LoFi, bfp8_b attention weights;
    recent versions keep FF2 in bfp8_b and only FF1/FF3 in bfp4_b).
``ttnn-0.69``
    the installed ttnn 0.69 ``ComputeConfigDescriptor()`` defaults (read here): math_fidelity HiFi4,
    math_approx_mode False, fp32_dest_acc_en False -- what tt-lang 1.1.1 kernels get.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

CHIPS = ("n150", "p150")


@dataclass(frozen=True)
class Figure:
    """One hardware figure: value, unit, source, and whether it is confirmed for this chip."""

    value: float
    unit: str
    source: str
    confirmed: bool = True
    note: str = ""

    def scaled(self, factor: float) -> Figure:
        return replace(self, value=self.value * factor)


def _f(value, unit, source, note="", confirmed=True) -> Figure:
    return Figure(float(value), unit, source, confirmed, note)


def _p(value, unit, source, note="") -> Figure:
    """A parameter: no citable figure for this chip/op; ``source`` says where the default comes from."""
    return Figure(float(value), unit, source, False, note)


# ------------------------------------------------------------------------------------------ chip figures

_WH = {
    "clock_ghz": _f(1.0, "GHz", "specs-wh; mb1 profiler clock 1000 MHz"),
    "grid_x": _f(8, "cores", "gemm-flops (8x8 fast-dispatch worker grid)"),
    "grid_y": _f(8, "cores", "gemm-flops (8x8 fast-dispatch worker grid)"),
    "dram_gbps": _f(288.0, "GB/s", "dram-wh (spec; 267 microbenchmark, 239-260 in decode matmuls)"),
    "dram_gb": _f(12.0, "GB", "specs-wh"),
    "l1_kib": _f(1464.0, "KiB", "numbers.md (L1 per core)"),
    "peak_tflops": _f(74.0, "TFLOP/s", "specs-wh via numbers.md (bf16 spec peak; used by models/alspec/latency.py)"),
    "attn_gbps": _f(180.0, "GB/s", "flashdecode (ttnn FlashDecode, measured)"),
    "noc_bytes_per_cycle": _f(25.3, "B/cycle", "cycle-estimator (measured 64 KB asymptote, noc_latencies.yaml)"),
    "noc_latency_cycles": _f(293.0, "cycles", "cycle-estimator (small-transfer floor, noc_latencies.yaml)"),
    "dram_latency_cycles": _p(293.0, "cycles", "cycle-estimator NoC floor", "a DRAM read adds the bank access on top"),
    "handoff_cycles": _f(80.0, "cycles", "mb1 (0.160 us fixed per wait+reserve+pop+push iteration, / 2)"),
    "dm_handoff_cycles": _p(80.0, "cycles", "mb1 compute-thread figure", "data-movement RISC cost not measured"),
    "launch_us": _f(0.7, "us", "llama3-galaxy-perf (traced op-to-op 0.6-1.0 us, Wormhole)"),
    "dispatch_eager_us": _f(29.0, "us", "gemm-flops (n150 512^3: 49.0 us eager - 20.0 us traced)"),
    "dispatch_eager_python_us": _f(600.0, "us", "dflash-readme (~0.6 ms per op, eager Python drafter)"),
    "matmul_dram_gbps": _f(249.5, "GB/s", "dram-wh (decode matmuls 239-260 GB/s on 288 GB/s DRAM: the midpoint)",
                           "used for ttnn's DRAM-sharded projection matmuls, not for TT-Lang kernels"),
    "matmul_cores": _f(12, "cores", "dram-wh (12 DRAM banks, one DRAM-sharded matmul worker per bank); "
                       "tt-transformers (\"FLOP-bound on 12 cores with HiFi4\")"),
}

_BH = {
    "clock_ghz": _f(1.35, "GHz", "specs-bh; mb1 profiler clock 1350 MHz"),
    "grid_x": _f(13, "cores", "gemm-flops (13x10 worker grid)"),
    "grid_y": _f(10, "cores", "gemm-flops (13x10 worker grid)"),
    "dram_gbps": _f(512.0, "GB/s", "dram-bh (spec; 500 bank-adjacent, 344 arbitrary placement)"),
    "dram_gb": _f(32.0, "GB", "specs-bh"),
    "l1_kib": _f(1536.0, "KiB", "numbers.md (~1.5 MB per core)"),
    "peak_tflops": _f(193.0, "TFLOP/s", "numbers.md (~193 measured; used by models/alspec/latency.py)"),
    "attn_gbps": _p(512.0 * 180.0 / 288.0, "GB/s", "flashdecode", "Wormhole's 62% of spec applied to 512 GB/s"),
    "noc_bytes_per_cycle": _f(60.9, "B/cycle", "cycle-estimator (Blackhole profile)"),
    "noc_latency_cycles": _p(293.0, "cycles", "cycle-estimator", "Wormhole value, a placeholder there too"),
    "dram_latency_cycles": _p(293.0, "cycles", "cycle-estimator NoC floor (Wormhole)", "no Blackhole figure"),
    "handoff_cycles": _f(60.0, "cycles", "mb1 (0.089 us fixed per iteration at 1.35 GHz, / 2)"),
    "dm_handoff_cycles": _p(60.0, "cycles", "mb1 compute-thread figure", "data-movement RISC cost not measured"),
    "launch_us": _p(0.7, "us", "llama3-galaxy-perf", "Wormhole figure; no Blackhole op-to-op figure found"),
    "dispatch_eager_us": _p(29.0, "us", "gemm-flops", "n150 figure; host-side cost, likely similar"),
    "dispatch_eager_python_us": _p(600.0, "us", "dflash-readme", "host-side, chip-independent"),
    "matmul_dram_gbps": _p(512.0 * 249.5 / 288.0, "GB/s", "dram-wh ratio",
                           "Wormhole's decode-matmul share of spec (249.5 / 288) applied to 512 GB/s; no p150 figure"),
    "matmul_cores": _p(8, "cores", "dram-bh (8 DRAM banks, one bank-adjacent reader per bank)",
                       "assumes Blackhole's decode matmuls also use one worker per bank"),
}

# ------------------------------------------------------------------------------------------ cost table
# Cycles per 32x32 tile, math thread.  "unpack" is copy_tile (CB -> DST), "pack" is pack_tile (DST -> CB).
# FPU binary ops read both operands from CBs (their unpack is inside the figure); SFPU ops work in DST (an
# operand that lives in a CB is copied in first and counted as an unpack).

_MATMUL_WH = {
    # one 32x32x32 tile matmul: 16 cycles per fidelity phase (gemm-flops); tt-lang uses HiFi4 (ttnn-0.69)
    "matmul.LoFi": _f(16, "cycles/tile", "gemm-flops"),
    "matmul.HiFi2": _f(32, "cycles/tile", "gemm-flops"),
    "matmul.HiFi3": _f(48, "cycles/tile", "gemm-flops"),
    "matmul.HiFi4": _f(64, "cycles/tile", "gemm-flops"),
    "matmul.fp32_dest_factor": _f(1.07, "x", "cycle-estimator (fp32 dest accumulation ~7% slower)"),
}

_COMMON_WH = {
    "unpack": _f(32.5, "cycles/tile", "mb1 (0.065 us per tile copy+pack, split evenly)"),
    "pack": _f(32.5, "cycles/tile", "mb1 (0.065 us per tile copy+pack, split evenly)"),
    "fpu.add": _f(49.6, "cycles/tile", "buda-wh (add tile_weight)"),
    "fpu.sub": _f(49.7, "cycles/tile", "buda-wh (subtract tile_weight)"),
    "fpu.mul": _f(54.6, "cycles/tile", "buda-wh (multiply tile_weight)"),
    "sfpu_binary.add": _p(128, "cycles/tile", "cycle-estimator SFPU floor x 4 (load, load, op, store)"),
    "sfpu_binary.sub": _p(128, "cycles/tile", "cycle-estimator SFPU floor x 4 (load, load, op, store)"),
    "sfpu_binary.mul": _p(128, "cycles/tile", "cycle-estimator SFPU floor x 4 (load, load, op, store)"),
    "sfpu_binary.div": _f(1474.8, "cycles/tile", "tt-metal#48925 (Wormhole bf16 DIV)"),
    "sfpu_binary.max": _f(333.8, "cycles/tile", "buda-wh (maximum tile_weight)"),
    "sfpu_binary.min": _p(333.8, "cycles/tile", "buda-wh maximum", "assumed equal to max"),
    "sfpu.exp": _f(1150, "cycles/tile", "tt-metal#43569 (bf16-accurate exp, before the TTI rewrite)"),
    "sfpu.recip": _f(910.1, "cycles/tile", "buda-wh (reciprocal tile_weight)", "older stack"),
    "sfpu.rsqrt": _p(910.1, "cycles/tile", "buda-wh sqrt tile_weight", "rsqrt not measured; assumed = sqrt"),
    "sfpu.sqrt": _f(910.1, "cycles/tile", "buda-wh (sqrt tile_weight)", "older stack"),
    "sfpu.silu": _f(1432.0, "cycles/tile", "tt-metal#48925 (Wormhole bf16 silu)"),
    "sfpu.tanh": _f(823.9, "cycles/tile", "tt-metal#48925 (Wormhole bf16 tanh)"),
    "sfpu.sigmoid": _f(266.5, "cycles/tile", "buda-wh (sigmoid tile_weight)", "older stack"),
    "sfpu.gelu": _f(270.4, "cycles/tile", "buda-wh (gelu tile_weight)", "older stack"),
    "sfpu.log": _f(718.1, "cycles/tile", "buda-wh (log tile_weight)", "older stack"),
    "sfpu.abs": _f(171.5, "cycles/tile", "buda-wh (abs tile_weight)"),
    "sfpu.square": _f(204.2, "cycles/tile", "buda-wh (square tile_weight)"),
    "sfpu.relu": _p(171.5, "cycles/tile", "buda-wh abs", "one compare+select like abs"),
    "sfpu.sign": _p(171.5, "cycles/tile", "buda-wh abs", "one compare+select like abs"),
    "sfpu.signbit": _p(171.5, "cycles/tile", "buda-wh abs", "one compare+select like abs"),
    "sfpu.neg": _p(171.5, "cycles/tile", "buda-wh abs", "one sign flip like abs"),
    "sfpu.default": _p(256, "cycles/tile", "cycle-estimator SFPU floor x 8", "any SFPU op without a figure"),
    "typecast": _p(128, "cycles/tile", "cycle-estimator SFPU floor x 4", "bf16<->fp32 load/convert/store"),
    "fill": _p(32, "cycles/tile", "cycle-estimator SFPU floor (one store per row of 32)"),
    "transpose": _p(65, "cycles/tile", "mb1 copy+pack per tile", "unpack-side transpose ~ one copy"),
    "bcast": _p(32.5, "cycles/tile", "mb1 unpack", "unpacker broadcast ~ one copy"),
    "reduce": _f(59, "cycles/tile", "buda-wh (reduce tile_weight)"),
}

_COMMON_BH = dict(_COMMON_WH)
_COMMON_BH.update({
    "unpack": _f(26.3, "cycles/tile", "mb1 (0.039 us per tile copy+pack at 1.35 GHz, split evenly)"),
    "pack": _f(26.3, "cycles/tile", "mb1 (0.039 us per tile copy+pack at 1.35 GHz, split evenly)"),
    "fpu.add": _p(49.6, "cycles/tile", "buda-wh", "Wormhole figure (same FPU design assumed)"),
    "fpu.sub": _p(49.7, "cycles/tile", "buda-wh", "Wormhole figure (same FPU design assumed)"),
    "fpu.mul": _p(54.6, "cycles/tile", "buda-wh", "Wormhole figure (same FPU design assumed)"),
    "sfpu_binary.div": _p(1474.8, "cycles/tile", "tt-metal#48925", "Wormhole figure"),
    "sfpu_binary.max": _p(333.8, "cycles/tile", "buda-wh", "Wormhole figure"),
    "sfpu.exp": _f(1150, "cycles/tile", "tt-metal#43569 (both archs; 578 on BH main after the rewrite)"),
    "sfpu.recip": _f(96, "cycles/tile", "tt-llk#834 (Blackhole bf16 reciprocal)"),
    "sfpu.rsqrt": _p(910.1, "cycles/tile", "buda-wh sqrt", "Wormhole figure, likely pessimistic on BH"),
    "sfpu.sqrt": _p(910.1, "cycles/tile", "buda-wh sqrt", "Wormhole figure, likely pessimistic on BH"),
    "sfpu.silu": _p(1432.0, "cycles/tile", "tt-metal#48925", "Wormhole figure"),
    "sfpu.tanh": _p(823.9, "cycles/tile", "tt-metal#48925", "Wormhole figure"),
    "sfpu.sigmoid": _p(266.5, "cycles/tile", "buda-wh", "Wormhole figure"),
    "sfpu.gelu": _p(270.4, "cycles/tile", "buda-wh", "Wormhole figure"),
    "sfpu.log": _p(718.1, "cycles/tile", "buda-wh", "Wormhole figure"),
    "sfpu.abs": _f(146, "cycles/tile", "tt-metal#57292 (Blackhole main)"),
    "sfpu.square": _p(204.2, "cycles/tile", "buda-wh", "Wormhole figure"),
    "sfpu.relu": _p(146, "cycles/tile", "tt-metal#57292 abs", "one compare+select like abs"),
    "sfpu.sign": _p(146, "cycles/tile", "tt-metal#57292 abs", "one compare+select like abs"),
    "sfpu.signbit": _p(146, "cycles/tile", "tt-metal#57292 abs", "one compare+select like abs"),
    "sfpu.neg": _p(146, "cycles/tile", "tt-metal#57292 abs", "one sign flip like abs"),
    "reduce": _p(59, "cycles/tile", "buda-wh", "Wormhole figure"),
})

_MATMUL_BH = {k: (v if k != "matmul.fp32_dest_factor" else _f(1.07, "x", "cycle-estimator (BH-calibrated)"))
              for k, v in _MATMUL_WH.items()}

_FIGURES: dict[str, dict[str, Figure]] = {
    "n150": {**_WH, **_MATMUL_WH, **_COMMON_WH},
    "p150": {**_BH, **_MATMUL_BH, **_COMMON_BH},
}

# tt-lang 1.1.1 compute kernels get ttnn's ComputeConfigDescriptor defaults (ttnn-0.69): HiFi4, accurate SFPU.
DEFAULT_FIDELITY = "HiFi4"
FIDELITIES = ("LoFi", "HiFi2", "HiFi3", "HiFi4")

DISPATCH_MODES = ("traced", "eager", "eager_python")


def figures(chip: str, overrides: dict[str, float] | None = None) -> dict[str, Figure]:
    """The figures of ``chip`` (a copy), with ``overrides`` (name -> value) applied."""
    if chip not in _FIGURES:
        raise ValueError(f"chip must be one of {CHIPS}; got {chip!r}")
    out = dict(_FIGURES[chip])
    for name, value in (overrides or {}).items():
        if name not in out:
            raise KeyError(f"{chip} has no figure {name!r}")
        out[name] = replace(out[name], value=float(value), source=out[name].source + " (overridden)")
    return out


def figure_table(chip: str) -> list[dict]:
    """Rows (name, value, unit, confirmed, source, note) for reports."""
    return [dict(name=k, value=v.value, unit=v.unit, confirmed=v.confirmed, source=v.source, note=v.note)
            for k, v in figures(chip).items()]


def grid(chip: str) -> tuple[int, int]:
    f = figures(chip)
    return int(f["grid_x"].value), int(f["grid_y"].value)


# --------------------------------------------------------------------------------------- Ethernet links

@dataclass(frozen=True)
class EthernetLink:
    """A chip-to-chip Ethernet link (per direction)."""

    name: str
    gbps: float                # GB/s per direction per link
    hop_latency_us: float      # one-way latency per hop
    links_for_kernels: int     # links between two neighbouring chips usable by kernels
    topology: str
    source: str


ETHERNET: dict[str, EthernetLink] = {
    "wormhole": EthernetLink("wormhole", 12.5, 0.65, 1, "100 Gb/s per direction per link, 16 links per chip", "eth-wh"),
    "n300": EthernetLink("n300", 12.5, 0.65, 1, "2 chips, 2 links, one reserved for dispatch", "eth-wh"),
    "t3k": EthernetLink("t3k", 12.5, 0.65, 1, "8 chips, 2x4 mesh of four n300 boards", "eth-wh"),
    "galaxy": EthernetLink("galaxy", 12.5, 0.65, 1, "32 chips, 4x8 mesh", "eth-wh"),
}

# ------------------------------------------------------------------ roofline view for models/alspec/latency


@dataclass(frozen=True)
class Hardware:
    """One device as the ALSpec latency model (models/alspec/latency.py) sees it: roofline figures for kernels the
    cycle model has no count of, and ``chip``, the chip whose cycle model (:mod:`ttl_kernels.perf.decoder`'s
    table) times the kernels it has counted.  ``launch_us`` is the per-op cost of the roofline path (the
    measured traced op-to-op gap for the chips here, the cycle model's per-launch term too); ``dispatch_us`` the
    eager host cost per op, added only when eager dispatch is asked for; ``matmul_gbps`` the DRAM rate of the
    projection matmuls; ``link_latency_us`` a fixed cost per chip-to-chip transfer (an assumption: a CCL send
    is a launch plus handshakes on top of the ~0.65 us hop of :data:`ETHERNET`)."""

    name: str
    dram_gbps: float
    attn_gbps: float
    peak_tflops: float
    link_gbps: float | None
    dram_gb: float
    launch_us: float = 5.0
    link_latency_us: float = 5.0
    chip: str | None = None
    dispatch_us: float = 0.0
    matmul_gbps: float | None = None
    sources: dict = field(default_factory=dict, compare=False)


def _roofline(name: str, chip: str, link: EthernetLink | None) -> Hardware:
    f = figures(chip)
    keys = ("dram_gbps", "attn_gbps", "peak_tflops", "dram_gb", "launch_us", "dispatch_eager_us", "matmul_dram_gbps")
    return Hardware(name, f["dram_gbps"].value, f["attn_gbps"].value, f["peak_tflops"].value,
                    None if link is None else link.gbps, f["dram_gb"].value, launch_us=f["launch_us"].value,
                    link_latency_us=5.0, chip=chip, dispatch_us=f["dispatch_eager_us"].value,
                    matmul_gbps=f["matmul_dram_gbps"].value,
                    sources={k: f[k].source for k in keys} | ({"link_gbps": link.source} if link else {})
                    | {"link_latency_us": "assumed (models/alspec/latency.py; not a measurement)"})


HARDWARE: dict[str, Hardware] = {
    "n150": _roofline("n150", "n150", None),
    "n300": _roofline("n300", "n150", ETHERNET["n300"]),
    "p150": _roofline("p150", "p150", None),
}

TILE_BYTES = {"bf16": 2048, "fp32": 4096, "bfp8_b": 1088, "bfp4_b": 576}
# bytes per element as stored (block floats: 1024 values + one shared exponent per 16 values, per tile)
ELEMENT_BYTES = {k: v / 1024 for k, v in TILE_BYTES.items()}
