"""Latency model of ALSpec decode on two devices vs plain single-device decode (roofline per kernel).

    python -m models.alspec.latency [--hw n300] [--model llama-3.1-8b] [--hit 0,0.5,0.875,1] [--json F]

Per kernel ``t = max(bytes / bandwidth, flops / peak) + launch`` (one ``launch_us`` per op, default 5 us:
the host-to-device dispatch of one program; with trace replay on hardware it is lower).  Bytes are counted
analytically from the shapes (every weight read once per decode step, K and V read once per user, the
activations read and written once, tile-padded to 32 rows) or taken from measured traffic
(:func:`load_measured`); FLOPs are analytic.  Bandwidth: attention reads at the flash-decode anchor
(``attn_gbps``: ttnn's flash decode reaches ~180 GB/s on Wormhole, 62% of 288), everything else at
``dram_gbps``; transfers between the two devices at ``link_gbps`` per direction (full duplex) plus a
fixed ``link_latency_us`` per transfer.

One decoder layer in segments (both devices hold the whole model, no tensor parallelism):

``pre``       input RMSNorm, QKV matmul, RoPE on q/k, KV-cache update (both devices, in parallel)
``attn``      exact decode attention over ``ctx`` tokens (K and V: ``2 * n_kv * ctx * d`` elements/user)
``spec``      the speculative part: attention over the sink + recent chunks (``min(2 S, ctx)`` tokens)
``verify``    ``dist^2`` / ``norm^2`` of the two outputs, verdict and priority (one small op)
``transfer``  the speculative attention output (``n_q * d`` elements per user) to the peer
              (``Dtypes.link_tile_rows``: whole 32-row tiles instead, as a tile-layout CCL moves them)
``post``      O-proj, residual add, post-attention RMSNorm, gate/up matmul, SiLU*mul, down matmul, add
``swap``      priority swap of the residual stream (``hidden`` per user each way, plus one priority tile)
              + the select op (:mod:`ttl_kernels.ccl.mesh_select`)

Timelines per layer:

* single device: ``pre + attn + post``
* ALSpec hit:    ``pre + max(attn + verify, spec + transfer + post) + swap``
* ALSpec miss:   ``pre + attn + verify + post + swap`` (serial: the receiver's work is discarded)
* expected:      ``h * hit + (1 - h) * miss`` with the hit rate ``h`` of that layer

A decode step is the sum over layers plus the final RMSNorm + LM head (the same on both).  The *attention
overhead* of a step is its latency minus the latency of the same step with no attention at all
(``layers * (pre + post) + final``); the paper's "5x lower attention-latency overhead at 128K" compares
that quantity (our definition; the paper's setup differs: see ``PAPER``).

Capacity: ``fits`` says whether weights + KV cache fit one device's DRAM (each device holds everything).
A Wormhole n300 chip has 12 GB, so Llama-3.1-8B at 128K context does not fit (the released proof of
concept stopped at 32K); the model still reports the time as a what-if.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

GB = 1e9
TILE = 32
DTYPE_BYTES = {"bf16": 2.0, "fp32": 4.0, "bfp8_b": 1088 / 1024, "bfp4_b": 576 / 1024}

# ---------------------------------------------------------------------------------------------- hardware


@dataclass(frozen=True)
class Hardware:
    """One device of the pair (spec-sheet values; see ../shared/design/numbers.md)."""

    name: str
    dram_gbps: float          # DRAM bandwidth used for weights and activations
    attn_gbps: float          # effective bandwidth of decode attention (flash-decode anchor)
    peak_tflops: float        # bf16 matmul peak
    link_gbps: float | None   # chip-to-chip bandwidth per direction usable by kernels (None: no link)
    dram_gb: float            # DRAM capacity per device
    launch_us: float = 5.0    # fixed cost per op
    link_latency_us: float = 5.0  # fixed cost per inter-device transfer (assumed; not a spec value)


HARDWARE: dict[str, Hardware] = {
    # Wormhole n150: one chip, no link to a peer.
    "n150": Hardware("n150", dram_gbps=288.0, attn_gbps=180.0, peak_tflops=74.0, link_gbps=None, dram_gb=12.0),
    # Wormhole n300: two n150-class chips on one board, ~12.5 GB/s per direction between them.
    "n300": Hardware("n300", dram_gbps=288.0, attn_gbps=180.0, peak_tflops=74.0, link_gbps=12.5, dram_gb=12.0),
    # Blackhole p150 (one chip).  attn_gbps keeps Wormhole's 62% flash-decode efficiency (an assumption);
    # its Ethernet ports (4 x 800G) are not characterised for kernels here, so a pair needs --link-gbps.
    "p150": Hardware(
        "p150", dram_gbps=512.0, attn_gbps=512.0 * 180.0 / 288.0, peak_tflops=193.0, link_gbps=None, dram_gb=32.0
    ),
}

# The paper's figures (Cai et al., ICML 2025), quoted next to ours.
PAPER = {
    "attention_overhead_reduction_at_128k": 5.0,
    "e2e_speedup": 1.65,
    "e2e_setup": "8 devices (4-way TP + 4 speculative devices) vs 8-way TP, assumed 87.5% hit rate",
    "poc_setup": "2 Wormhole chips (n300), Llama-3.1-8B, <= 32K context, batch 1, no tensor parallelism",
}

# ---------------------------------------------------------------------------------------------- models


@dataclass(frozen=True)
class ModelShape:
    name: str
    hidden: int
    intermediate: int
    n_q: int
    n_kv: int
    head_dim: int
    layers: int
    vocab: int

    @classmethod
    def named(cls, name: str) -> ModelShape:
        """A :mod:`reference.registry` model (its checkpoint config)."""
        from ttl_kernels.shapes import MODEL_SHAPES

        m = MODEL_SHAPES[name]
        return cls(name, m["hidden"], m["intermediate"], m["n_q"], m["n_kv"], m["head_dim"], m["layers"], m["vocab"])


MODELS: dict[str, ModelShape] = {name: ModelShape.named(name) for name in ("llama-3.1-8b", "qwen3-8b", "tiny-llama")}


@dataclass(frozen=True)
class Dtypes:
    """Storage formats: weights (tt-metal runs Llama-3.1-8B in bfp8 on one Wormhole chip), KV cache,
    activations (tile layout) and what goes over the link."""

    weights: str = "bfp8_b"
    kv: str = "bf16"
    act: str = "bf16"
    link: str = "bf16"
    # what crosses the link: only the users' rows (False, the default) or whole 32-row tiles (True: a
    # tile-layout tensor moved by ttnn's CCL ops as is; 32x the bytes at batch 1)
    link_tile_rows: bool = False


# ---------------------------------------------------------------------------------------------- kernels


@dataclass(frozen=True)
class Kernel:
    """One op: bytes moved to/from DRAM (or over the link), FLOPs, which bandwidth applies."""

    name: str
    bytes: float
    flops: float = 0.0
    kind: str = "dram"  # "dram" | "attn" | "link"


@dataclass
class Measured:
    """Measured traffic per kernel, as a multiplier on the analytic minimum.

    ``ratio[name]`` = measured bytes / minimal bytes (the ``ratio`` field of ``bench/results/traffic.json``,
    worst case over the measured shapes); kernels without a measurement keep the analytic count.
    ``aliases`` maps a benchmark's kernel name to the model's kernel name(s)."""

    ratio: dict[str, float] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def apply(self, k: Kernel) -> Kernel:
        r = self.ratio.get(k.name)
        return k if r is None else replace(k, bytes=k.bytes * r)


# model kernel names a benchmark kernel stands for
BENCH_ALIASES: dict[str, tuple[str, ...]] = {
    "silu_mul": ("silu_mul",),
    "residual_add": ("residual_add",),
    "rmsnorm": ("rmsnorm",),
    "add_rmsnorm": ("rmsnorm",),
    "rope": ("rope",),
    "flash_decode": ("attn",),
    "speculative_flash_decode": ("attn", "spec"),
    "mesh_select": ("swap_select",),
}


def load_measured(paths: Iterable[str | Path], aliases: dict[str, tuple[str, ...]] | None = None) -> Measured:
    """Read benchmark JSON files (``{"results": [{"kernel", "bytes", "min_bytes", ...}]}``, as
    ``bench/traffic.py`` writes) into per-kernel multipliers.  Records without ``bytes``/``min_bytes`` or
    for kernels the model does not know are skipped; missing files are skipped (the analytic counts stay)."""
    aliases = BENCH_ALIASES if aliases is None else aliases
    m = Measured()
    for p in paths:
        p = Path(p)
        if not p.is_file():
            continue
        data = json.loads(p.read_text())
        recs = data.get("results", []) if isinstance(data, dict) else data
        used = False
        for r in recs:
            if not isinstance(r, dict) or not r.get("min_bytes") or "bytes" not in r:
                continue
            for name in aliases.get(r.get("kernel"), ()):
                ratio = float(r["bytes"]) / float(r["min_bytes"])
                m.ratio[name] = max(m.ratio.get(name, 0.0), ratio)
                used = True
        if used:
            m.sources.append(str(p))
    return m


def _rows(batch: int) -> int:
    """Activation rows as stored (tile layout: users padded to whole tiles of 32 rows)."""
    return -(-batch // TILE) * TILE


def layer_kernels(
    shape: ModelShape, ctx: int, *, batch: int = 1, chunk: int = 128, dt: Dtypes = Dtypes()
) -> dict[str, list[Kernel]]:
    """The kernels of one decoder layer by segment (see the module docstring), analytic bytes and FLOPs."""
    H, inter, nq, nkv, d = shape.hidden, shape.intermediate, shape.n_q, shape.n_kv, shape.head_dim
    wb, kb, ab, lb = (DTYPE_BYTES[x] for x in (dt.weights, dt.kv, dt.act, dt.link))
    R = _rows(batch)
    LR = R if dt.link_tile_rows else batch  # rows that cross the link
    qkv = (nq + 2 * nkv) * d

    def act(*cols: int) -> float:
        return R * sum(cols) * ab

    def matmul(name: str, k: int, n: int) -> Kernel:
        return Kernel(name, k * n * wb + act(k, n), 2.0 * batch * k * n)

    def attention(name: str, tokens: int) -> Kernel:
        kv = batch * 2 * nkv * tokens * d * kb
        return Kernel(name, kv + 2 * batch * nkv * TILE * d * ab, 4.0 * batch * nq * tokens * d, "attn")

    spec_tokens = min(2 * chunk, ctx)
    return {
        "pre": [
            Kernel("rmsnorm", act(H, H) + H * ab, 4.0 * batch * H),
            matmul("qkv", H, qkv),
            Kernel("rope", act((nq + nkv) * d, (nq + nkv) * d) + 2 * d * ab, 6.0 * batch * (nq + nkv) * d),
            Kernel("kv_update", 2 * batch * nkv * d * kb + act(2 * nkv * d)),
        ],
        "attn": [attention("attn", ctx)],
        "spec": [attention("spec", spec_tokens)],
        "verify": [
            Kernel("verify", 2 * batch * nkv * TILE * d * ab + batch * TILE * TILE * 4 * 3, 3.0 * batch * nq * d)
        ],
        "transfer": [Kernel("transfer", LR * nq * d * lb, 0.0, "link")],
        "post": [
            matmul("o_proj", nq * d, H),
            Kernel("residual_add", act(H, H, H), 1.0 * batch * H),
            Kernel("rmsnorm", act(H, H) + H * ab, 4.0 * batch * H),
            matmul("gate_up", H, 2 * inter),
            Kernel("silu_mul", act(inter, inter, inter), 5.0 * batch * inter),
            matmul("down", inter, H),
            Kernel("residual_add", act(H, H, H), 1.0 * batch * H),
        ],
        "swap": [
            Kernel("swap_link", LR * H * lb + TILE * TILE * ab, 0.0, "link"),
            Kernel("swap_select", act(H, H, H) + 4 * TILE * TILE * ab, 3.0 * batch * H),
        ],
    }


def final_kernels(shape: ModelShape, *, batch: int = 1, dt: Dtypes = Dtypes()) -> list[Kernel]:
    """Final RMSNorm + LM head (once per decode step)."""
    H, V = shape.hidden, shape.vocab
    ab, wb = DTYPE_BYTES[dt.act], DTYPE_BYTES[dt.weights]
    R = _rows(batch)
    return [Kernel("rmsnorm", 2 * R * H * ab + H * ab, 4.0 * batch * H),
            Kernel("lm_head", V * H * wb + R * (H + V) * ab, 2.0 * batch * H * V)]


def kernel_time(k: Kernel, hw: Hardware) -> float:
    """Seconds for one op: roofline of its bytes and FLOPs plus the fixed launch (or link) overhead."""
    if k.kind == "link":
        if hw.link_gbps is None:
            raise ValueError(f"hw: {hw.name} has no chip-to-chip link figure; pass link_gbps (e.g. n300: 12.5)")
        return k.bytes / (hw.link_gbps * GB) + hw.link_latency_us * 1e-6
    bw = hw.attn_gbps if k.kind == "attn" else hw.dram_gbps
    return max(k.bytes / (bw * GB), k.flops / (hw.peak_tflops * 1e12)) + hw.launch_us * 1e-6


@dataclass(frozen=True)
class LayerTimes:
    """Seconds per segment of one layer (see the module docstring)."""

    pre: float
    attn: float
    spec: float
    verify: float
    transfer: float
    post: float
    swap: float

    @property
    def single(self) -> float:
        return self.pre + self.attn + self.post

    @property
    def hit(self) -> float:
        return self.pre + max(self.attn + self.verify, self.spec + self.transfer + self.post) + self.swap

    @property
    def miss(self) -> float:
        return self.pre + self.attn + self.verify + self.post + self.swap

    def expected(self, hit_rate: float) -> float:
        return hit_rate * self.hit + (1.0 - hit_rate) * self.miss

    @property
    def no_attention(self) -> float:
        return self.pre + self.post


def layer_times(shape: ModelShape, hw: Hardware, ctx: int, *, batch: int = 1, chunk: int = 128, dt: Dtypes = Dtypes(),
                measured: Measured | None = None) -> LayerTimes:
    m = measured or Measured()
    segs = layer_kernels(shape, ctx, batch=batch, chunk=chunk, dt=dt)
    t = {seg: sum(kernel_time(m.apply(k), hw) for k in ks) for seg, ks in segs.items()}
    return LayerTimes(**t)


def _check(ctx: int, hit_rates: Sequence[float], chunk: int, batch: int) -> None:
    if not isinstance(ctx, int) or ctx < 1:
        raise ValueError(f"ctx: expected a positive int; got {ctx!r}")
    if chunk <= 0 or chunk % TILE:
        raise ValueError(f"chunk: expected a positive multiple of 32 (ALSpec's S); got {chunk}")
    if batch < 1:
        raise ValueError(f"batch: expected >= 1; got {batch}")
    bad = [h for h in hit_rates if not (0.0 <= float(h) <= 1.0)]
    if bad:
        raise ValueError(f"hit_rate: expected values in [0, 1]; got {bad}")


def model_bytes(shape: ModelShape, ctx: int, batch: int, dt: Dtypes) -> float:
    """Weights + KV cache of one device (each device of the pair holds all of it)."""
    H, inter, nq, nkv, d = shape.hidden, shape.intermediate, shape.n_q, shape.n_kv, shape.head_dim
    per_layer = H * (nq + 2 * nkv) * d + nq * d * H + 3 * H * inter
    weights = (shape.layers * per_layer + 2 * shape.vocab * H) * DTYPE_BYTES[dt.weights]
    kv = shape.layers * batch * 2 * nkv * ctx * d * DTYPE_BYTES[dt.kv]
    return weights + kv


def decode_latency(shape: ModelShape, hw: Hardware, ctx: int, hit_rate: float | Sequence[float], *, batch: int = 1,
                   chunk: int = 128, dt: Dtypes = Dtypes(), measured: Measured | None = None) -> dict:
    """Modelled latency of one decode step at context ``ctx``: single device vs ALSpec on a pair.

    ``hit_rate`` is one rate for every layer or one per layer.  Times in milliseconds."""
    rates = [float(hit_rate)] * shape.layers if isinstance(hit_rate, (int, float)) else [float(h) for h in hit_rate]
    if len(rates) != shape.layers:
        raise ValueError(f"hit_rate: expected one rate or {shape.layers} (one per layer); got {len(rates)}")
    _check(ctx, rates, chunk, batch)
    lt = layer_times(shape, hw, ctx, batch=batch, chunk=chunk, dt=dt, measured=measured)
    fin = sum(kernel_time((measured or Measured()).apply(k), hw) for k in final_kernels(shape, batch=batch, dt=dt))
    single = shape.layers * lt.single + fin
    alspec = sum(lt.expected(h) for h in rates) + fin
    base = shape.layers * lt.no_attention + fin
    over_single, over_alspec = single - base, alspec - base
    ms = 1e3
    return {
        "ctx": ctx,
        "hit_rate": sum(rates) / len(rates),
        "single_ms": single * ms,
        "alspec_ms": alspec * ms,
        "alspec_all_hit_ms": (shape.layers * lt.hit + fin) * ms,
        "alspec_all_miss_ms": (shape.layers * lt.miss + fin) * ms,
        "speedup": single / alspec,
        "attention_overhead_single_ms": over_single * ms,
        "attention_overhead_alspec_ms": over_alspec * ms,
        "attention_overhead_ratio": over_single / over_alspec if over_alspec > 0 else math.inf,
        "layer_ms": {k: v * ms for k, v in asdict(lt).items()},
        "final_ms": fin * ms,
        "fits": model_bytes(shape, ctx, batch, dt) <= hw.dram_gb * GB,
        "device_gb": model_bytes(shape, ctx, batch, dt) / GB,
    }


CONTEXTS = [1024 * 2 ** i for i in range(8)]  # 1K .. 128K


def latency_table(
    shape: ModelShape, hw: Hardware, hit_rates: Sequence[float], contexts: Sequence[int] = CONTEXTS, **kw
) -> list[dict]:
    return [decode_latency(shape, hw, ctx, h, **kw) for ctx in contexts for h in hit_rates]


def format_table(rows: list[dict]) -> str:
    head = (f"{'ctx':>6} {'hit':>5} {'single ms':>10} {'ALSpec ms':>10} {'speedup':>8} {'attn ovh single':>16} "
            f"{'attn ovh ALSpec':>16} {'ovh ratio':>9} {'fits':>5}")
    lines = [head]
    for r in rows:
        lines.append(
            f"{r['ctx'] // 1024:>5}K {r['hit_rate']:>5.3f} {r['single_ms']:>10.3f} {r['alspec_ms']:>10.3f} "
            f"{r['speedup']:>8.3f} "
            f"{r['attention_overhead_single_ms']:>16.3f} {r['attention_overhead_alspec_ms']:>16.3f} "
            f"{r['attention_overhead_ratio']:>9.2f} {'yes' if r['fits'] else 'no':>5}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hw", choices=sorted(HARDWARE), default="n300")
    ap.add_argument("--model", choices=sorted(MODELS), default="llama-3.1-8b")
    ap.add_argument("--hit", default="0,0.5,0.875,1", help="comma-separated hit rates")
    ap.add_argument("--chunk", type=int, default=128, help="ALSpec chunk size S")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--link-gbps", type=float, default=None, help="override the chip-to-chip bandwidth")
    ap.add_argument("--launch-us", type=float, default=None, help="override the per-op launch overhead")
    ap.add_argument("--weights-dtype", choices=sorted(DTYPE_BYTES), default=Dtypes.weights)
    ap.add_argument("--kv-dtype", choices=sorted(DTYPE_BYTES), default=Dtypes.kv)
    ap.add_argument(
        "--link-tile-rows", action="store_true", help="ship whole 32-row tiles over the link (tile-layout CCL)"
    )
    ap.add_argument("--measured", action="append", default=[], help="benchmark JSON with measured traffic (repeatable)")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    hw = HARDWARE[a.hw]
    if a.link_gbps is not None:
        hw = replace(hw, link_gbps=a.link_gbps)
    if a.launch_us is not None:
        hw = replace(hw, launch_us=a.launch_us)
    measured = load_measured(a.measured)
    dt = Dtypes(weights=a.weights_dtype, kv=a.kv_dtype, link_tile_rows=a.link_tile_rows)
    rows = latency_table(
        MODELS[a.model],
        hw,
        [float(h) for h in a.hit.split(",")],
        chunk=a.chunk,
        batch=a.batch,
        dt=dt,
        measured=measured,
    )
    print(f"ALSpec latency model: {a.model} on {a.hw} pair, S={a.chunk}, batch {a.batch}, link {hw.link_gbps} GB/s, "
          f"launch {hw.launch_us} us, weights {dt.weights}, KV {dt.kv}; measured traffic: {measured.sources or 'none'}")
    print(format_table(rows))
    print(f"paper: {PAPER['attention_overhead_reduction_at_128k']}x lower attention overhead at 128K; "
          f"{PAPER['e2e_speedup']}x e2e ({PAPER['e2e_setup']})")
    if a.json:
        Path(a.json).write_text(
            json.dumps(
                {
                    "hw": asdict(hw),
                    "model": asdict(MODELS[a.model]),
                    "dtypes": asdict(dt),
                    "paper": PAPER,
                    "measured": {"ratio": measured.ratio, "sources": measured.sources},
                    "rows": rows,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
