"""Latency model of ALSpec decode on two devices vs plain single-device decode.

    python -m models.alspec.latency [--hw n300] [--model llama-3.1-8b] [--hit 0,0.5,0.875,1] [--dispatch traced]
                                    [--json F]

Per kernel, on a device the cycle model knows (``Hardware.chip``: n150, the n300's chips, p150): the time
:mod:`ttl_kernels.perf` models for that kernel instance at the model's shapes (compute, dataflow-buffer hand-offs,
DRAM and NoC per core, the op-to-op launch gap; read from the table ``ttl-perf decoder-table`` builds,
:mod:`ttl_kernels.perf.decoder`), and for the projection matmuls (ttnn, not TT-Lang) a DRAM-sharded decode
matmul at the measured 239-260 GB/s (:func:`ttl_kernels.perf.decoder.projection`).  Dispatch is an explicit
term: ``traced`` (trace replay: no host cost per op) or ``eager`` (``Hardware.dispatch_us`` of host dispatch per
launch); :func:`decode_latency` returns both.  A kernel the table lacks (another batch, a model outside
:mod:`ttl_kernels.shapes`) and every kernel on a device without ``chip`` (a what-if machine) falls back to the
roofline ``t = max(bytes / bandwidth, flops / peak) + launch_us`` with analytic bytes (every weight read once
per decode step, K and V read once per user, activations tile-padded to 32 rows; :func:`load_measured`
multiplies them by measured traffic), attention at ``attn_gbps`` (ttnn's flash decode anchor).  Transfers
between the two devices: ``link_gbps`` per direction (full duplex) plus ``link_latency_us`` per transfer.
Every hardware figure comes from :mod:`ttl_kernels.perf.hardware` (:data:`HARDWARE` is that module's).

One decoder layer in segments, the kernels of the kernel-built decoder (``models/decoder_step.py``: the residual
add is fused into the next norm; both devices hold the whole model, no tensor parallelism):

``pre``       QKV matmul, [q/k head norms: Qwen3], RoPE on q/k, KV-cache update (both devices, in parallel)
``attn``      heads -> KV groups, exact decode attention over ``ctx`` tokens (K and V: ``2 * n_kv * ctx * d``
              elements/user), groups -> heads
``spec``      the speculative part: the same over the sink + recent chunks (``min(2 S, ctx)`` tokens)
``verify``    ``dist^2`` / ``norm^2`` of the two outputs, verdict and priority (cycle model: what the fused
              speculative kernel costs over plain flash decode at ``ctx``)
``transfer``  the speculative attention output (``n_q * d`` elements per user) to the peer
              (``Dtypes.link_tile_rows``: whole 32-row tiles instead, as a tile-layout CCL moves them)
``post``      O-proj, residual add + post-attention RMSNorm, gate/up matmul, SiLU*mul, down matmul, residual
              add + the next layer's input RMSNorm
``swap``      priority swap of the residual stream (``hidden`` per user each way, plus one priority tile)
              + the select op (:mod:`ttl_kernels.ccl.mesh_select`)

Timelines per layer:

* single device: ``pre + attn + post``
* ALSpec hit:    ``pre + max(attn + verify, spec + transfer + post) + swap``
* ALSpec miss:   ``pre + attn + verify + post + swap`` (serial: the receiver's work is discarded)
* expected:      ``h * hit + (1 - h) * miss`` with the hit rate ``h`` of that layer

A decode step is the sum over layers plus the step's first RMSNorm and the LM head (the same on both).  The
*attention overhead* of a step is its latency minus the latency of the same step with no attention at all
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

from ttl_kernels.perf import decoder as perf_decoder
from ttl_kernels.perf.hardware import ELEMENT_BYTES, HARDWARE, Hardware

ROOT = Path(__file__).resolve().parent.parent

GB = 1e9
TILE = 32
DTYPE_BYTES = ELEMENT_BYTES  # bytes per element as stored: bf16 2, fp32 4, bfp8_b 1088/1024, bfp4_b 576/1024
DISPATCH = ("traced", "eager")

# ---------------------------------------------------------------------------------------------- hardware
# Hardware and HARDWARE (n150, n300, p150) are ttl_kernels.perf.hardware's: one source for every figure.

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
    qk_norm: bool = False  # Qwen3's per-head q/k RMSNorm

    @classmethod
    def named(cls, name: str) -> ModelShape:
        """A :mod:`reference.registry` model (its checkpoint config)."""
        from ttl_kernels.shapes import MODEL_SHAPES

        m = MODEL_SHAPES[name]
        return cls(name, m["hidden"], m["intermediate"], m["n_q"], m["n_kv"], m["head_dim"], m["layers"], m["vocab"],
                   m["arch"] == "qwen3")


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
    # the MLP projections' weights (None: ``weights``; tt_transformers' performance mode stores them as bfp4_b)
    mlp_weights: str | None = None

    @property
    def mlp(self) -> str:
        return self.mlp_weights or self.weights


# ---------------------------------------------------------------------------------------------- kernels


@dataclass(frozen=True)
class Kernel:
    """One op: bytes moved to/from DRAM (or over the link), FLOPs, which bandwidth applies; for the cycle model,
    the kernel instance it is (``instance``: registry kernel and parameters, see :mod:`ttl_kernels.perf.decoder`)
    or the projection matmul (``matmul``: K, N, weight dtype)."""

    name: str
    bytes: float
    flops: float = 0.0
    kind: str = "dram"  # "dram" | "attn" | "link"
    instance: tuple | None = None  # (kernel, ((param, value), ...))
    matmul: tuple[int, int, str] | None = None


@dataclass
class Measured:
    """Measured traffic per kernel, as a multiplier on the analytic minimum (roofline kernels only: the cycle
    model counts each kernel's traffic itself).

    ``ratio[name]`` = measured bytes / minimal bytes (the ``ratio`` field of ``bench/results/traffic.json``,
    worst case over the measured shapes); kernels without a measurement keep the analytic count.
    ``aliases`` maps a benchmark's kernel name to the model's kernel name(s)."""

    ratio: dict[str, float] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def apply(self, k: Kernel) -> Kernel:
        r = self.ratio.get(k.name)
        return k if r is None else replace(k, bytes=k.bytes * r)


# model kernel names a benchmark kernel (its registry name) stands for
BENCH_ALIASES: dict[str, tuple[str, ...]] = {
    "silu_mul": ("silu_mul",),
    "residual_add": ("residual_add",),
    "rms_norm": ("rmsnorm",),
    "add_rms_norm": ("add_rmsnorm",),
    "head_rms_norm": ("q_norm", "k_norm"),
    "rope": ("rope",),
    "kv_update": ("kv_update",),
    "heads_to_groups": ("heads_to_groups",),
    "groups_to_heads": ("groups_to_heads",),
    "flash_decode": ("attn",),
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


def cycle_instances(shape: ModelShape, ctx: int, *, batch: int = 1, chunk: int = 128,
                    dt: Dtypes = Dtypes()) -> dict[str, tuple]:
    """Kernel label -> (registry kernel, parameters) of the instances the cycle model's table holds for this layer
    (:func:`ttl_kernels.perf.decoder.instances`); empty for a shape outside :mod:`ttl_kernels.shapes` or
    activations other than bf16.  The table is at batch 1: the kernels whose instance depends on the batch
    (attention, the layout ops, the KV update) are left out above it (roofline); the row kernels (norms, RoPE,
    element-wise: one 32-row tile) stay up to 32 users."""
    if dt.act != "bf16" or batch > TILE:
        return {}
    try:
        if ModelShape.named(shape.name) != shape:
            return {}
        insts = perf_decoder.instances(shape.name, ctx, dt.kv, chunk, alspec=True)
    except (KeyError, ValueError):
        return {}
    out = {i.label: (i.kernel, tuple(i.params.items())) for i in insts}
    spec = perf_decoder.attention_params(shape.name, min(2 * chunk, ctx), dt.kv, chunk)
    out["spec"] = ("flash_decode", tuple(spec.items()))
    out["verify"] = ("verify", out.pop("speculative")[1])
    if batch != 1:
        for label in ("attention", "spec", "verify", "heads_to_groups", "groups_to_heads", "kv_update"):
            out.pop(label)
    return out


def layer_kernels(
    shape: ModelShape, ctx: int, *, batch: int = 1, chunk: int = 128, dt: Dtypes = Dtypes()
) -> dict[str, list[Kernel]]:
    """The kernels of one decoder layer by segment (see the module docstring): analytic bytes and FLOPs, and the
    instance the cycle model times (where it has one)."""
    H, inter, nq, nkv, d = shape.hidden, shape.intermediate, shape.n_q, shape.n_kv, shape.head_dim
    kb, ab, lb = (DTYPE_BYTES[x] for x in (dt.kv, dt.act, dt.link))
    R = _rows(batch)
    LR = R if dt.link_tile_rows else batch  # rows that cross the link
    qkv = (nq + 2 * nkv) * d
    inst = cycle_instances(shape, ctx, batch=batch, chunk=chunk, dt=dt)

    def act(*cols: int) -> float:
        return R * sum(cols) * ab

    def op(name: str, nbytes: float, flops: float = 0.0, kind: str = "dram", label: str | None = None) -> Kernel:
        return Kernel(name, nbytes, flops, kind, inst.get(label or name))

    def matmul(name: str, k: int, n: int, w: str) -> Kernel:
        return Kernel(name, k * n * DTYPE_BYTES[w] + act(k, n), 2.0 * batch * k * n, matmul=(k, n, w))

    def attention(name: str, tokens: int, label: str) -> Kernel:
        kv = batch * 2 * nkv * tokens * d * kb
        return op(name, kv + 2 * batch * nkv * TILE * d * ab, 4.0 * batch * nq * tokens * d, "attn", label)

    def regroup(name: str) -> Kernel:  # heads <-> KV groups (one 32-row tile per user and KV head)
        return op(name, act(nq * d) + batch * nkv * TILE * d * ab)

    add_norm = op("add_rmsnorm", act(H, H, H, H) + H * ab, 5.0 * batch * H)  # reads h, r, w; writes h + r, x
    pre = [matmul("qkv", H, qkv, dt.weights)]
    if shape.qk_norm:
        pre += [op("q_norm", act(nq * d, nq * d) + d * ab, 4.0 * batch * nq * d),
                op("k_norm", act(nkv * d, nkv * d) + d * ab, 4.0 * batch * nkv * d)]
    spec_tokens = min(2 * chunk, ctx)
    return {
        "pre": pre + [
            op("rope", act((nq + nkv) * d, (nq + nkv) * d) + 2 * d * ab, 6.0 * batch * (nq + nkv) * d),
            op("kv_update", 2 * batch * nkv * d * kb + act(2 * nkv * d)),
        ],
        "attn": [regroup("heads_to_groups"), attention("attn", ctx, "attention"), regroup("groups_to_heads")],
        "spec": [regroup("heads_to_groups"), attention("spec", spec_tokens, "spec"), regroup("groups_to_heads")],
        "verify": [
            op("verify", 2 * batch * nkv * TILE * d * ab + batch * TILE * TILE * 4 * 3, 3.0 * batch * nq * d)
        ],
        "transfer": [Kernel("transfer", LR * nq * d * lb, 0.0, "link")],
        "post": [
            matmul("o_proj", nq * d, H, dt.weights),
            add_norm,
            matmul("gate_up", H, 2 * inter, dt.mlp),
            op("silu_mul", act(inter, inter, inter), 5.0 * batch * inter),
            matmul("down", inter, H, dt.mlp),
            add_norm,  # with the next layer's input norm (the final norm after the last layer)
        ],
        "swap": [
            Kernel("swap_link", LR * H * lb + TILE * TILE * ab, 0.0, "link"),
            op("swap_select", act(H, H, H) + 4 * TILE * TILE * ab, 3.0 * batch * H),
        ],
    }


def final_kernels(shape: ModelShape, *, batch: int = 1, dt: Dtypes = Dtypes(), chunk: int = 128) -> list[Kernel]:
    """The step's first RMSNorm (before layer 0) + the LM head (once per decode step)."""
    H, V = shape.hidden, shape.vocab
    ab, wb = DTYPE_BYTES[dt.act], DTYPE_BYTES[dt.weights]
    R = _rows(batch)
    inst = cycle_instances(shape, 2 * chunk, batch=batch, chunk=chunk, dt=dt)
    return [Kernel("rmsnorm", 2 * R * H * ab + H * ab, 4.0 * batch * H, instance=inst.get("rmsnorm")),
            Kernel("lm_head", V * H * wb + R * (H + V) * ab, 2.0 * batch * H * V, matmul=(H, V, dt.weights))]


def _dispatch_us(hw: Hardware, dispatch: str) -> float:
    if dispatch not in DISPATCH:
        raise ValueError(f"dispatch: expected one of {DISPATCH}; got {dispatch!r}")
    return hw.dispatch_us if dispatch == "eager" else 0.0


def kernel_time(k: Kernel, hw: Hardware, dispatch: str = "traced") -> float:
    """Seconds for one op on the roofline: its bytes and FLOPs plus the fixed launch (or link) overhead, plus the
    host dispatch when ``dispatch`` is "eager"."""
    disp = _dispatch_us(hw, dispatch) * 1e-6
    if k.kind == "link":
        if hw.link_gbps is None:
            raise ValueError(f"hw: {hw.name} has no chip-to-chip link figure; pass link_gbps (e.g. n300: 12.5)")
        return k.bytes / (hw.link_gbps * GB) + hw.link_latency_us * 1e-6 + disp
    bw = hw.attn_gbps if k.kind == "attn" else hw.dram_gbps
    return max(k.bytes / (bw * GB), k.flops / (hw.peak_tflops * 1e12)) + hw.launch_us * 1e-6 + disp


def cycle_time(k: Kernel, hw: Hardware, dispatch: str = "traced", *, batch: int = 1) -> float | None:
    """Seconds for one op from the cycle model on ``hw.chip`` (None: no chip, or no such instance in the table).
    ``verify`` is what the fused speculative kernel costs over plain flash decode (same launches)."""
    if hw.chip is None or k.kind == "link":
        return None
    disp = _dispatch_us(hw, dispatch)
    if k.matmul is not None:
        K, N, w = k.matmul
        return (perf_decoder.projection(K, N, w, hw.chip, rows=_rows(batch))["model_us"] + disp) * 1e-6
    if k.instance is None:
        return None
    kernel, params = k.instance[0], dict(k.instance[1])
    if kernel == "verify":
        a = perf_decoder.lookup("speculative_decode", params, hw.chip)
        b = perf_decoder.lookup("flash_decode", params, hw.chip)
        return None if a is None or b is None else max(a["model_us"] - b["model_us"], 0.0) * 1e-6
    row = perf_decoder.lookup(kernel, params, hw.chip)
    return None if row is None else (row["model_us"] + disp * row["launches"]) * 1e-6


def op_time(k: Kernel, hw: Hardware, dispatch: str = "traced", measured: Measured | None = None,
            batch: int = 1) -> tuple[float, str]:
    """(seconds, "cycle" | "roofline" | "link") of one op: the cycle model where it has the op, else the roofline."""
    t = cycle_time(k, hw, dispatch, batch=batch)
    if t is not None:
        return t, "cycle"
    return kernel_time((measured or Measured()).apply(k), hw, dispatch), "link" if k.kind == "link" else "roofline"


class Timeline:
    """ALSpec's timeline of one layer from its segments (``pre``, ``attn``, ``spec``, ``transfer``, ``post``,
    ``swap``, and :attr:`sender`: what the exact device does before the verdict is known): one device alone
    ``pre + attn + post``; a hit ``pre + max(sender, spec + transfer + post) + swap`` (the exact device's
    attention overlaps the other's post-attention work); a miss serial."""

    @property
    def sender(self) -> float:
        raise NotImplementedError

    @property
    def single(self) -> float:
        return self.pre + self.attn + self.post

    @property
    def hit(self) -> float:
        return self.pre + max(self.sender, self.spec + self.transfer + self.post) + self.swap

    @property
    def miss(self) -> float:
        return self.pre + self.sender + self.post + self.swap

    def expected(self, hit_rate: float) -> float:
        return hit_rate * self.hit + (1.0 - hit_rate) * self.miss

    @property
    def no_attention(self) -> float:
        return self.pre + self.post


@dataclass(frozen=True)
class LayerTimes(Timeline):
    """Seconds per segment of one layer (see the module docstring)."""

    pre: float
    attn: float
    spec: float
    verify: float
    transfer: float
    post: float
    swap: float

    @property
    def sender(self) -> float:
        return self.attn + self.verify


def kernel_rows(shape: ModelShape, hw: Hardware, ctx: int, *, batch: int = 1, chunk: int = 128, dt: Dtypes = Dtypes(),
                measured: Measured | None = None, dispatch: str = "traced") -> list[dict]:
    """Every op of one layer and the step's final ops: segment, name, microseconds, source (cycle / roofline / link)."""
    segs = layer_kernels(shape, ctx, batch=batch, chunk=chunk, dt=dt)
    segs["final"] = final_kernels(shape, batch=batch, dt=dt, chunk=chunk)
    rows = []
    for seg, ks in segs.items():
        for k in ks:
            t, src = op_time(k, hw, dispatch, measured, batch)
            rows.append({"segment": seg, "kernel": k.name, "us": t * 1e6, "source": src})
    return rows


def layer_times(shape: ModelShape, hw: Hardware, ctx: int, *, batch: int = 1, chunk: int = 128, dt: Dtypes = Dtypes(),
                measured: Measured | None = None, dispatch: str = "traced") -> LayerTimes:
    segs = layer_kernels(shape, ctx, batch=batch, chunk=chunk, dt=dt)
    t = {seg: sum(op_time(k, hw, dispatch, measured, batch)[0] for k in ks) for seg, ks in segs.items()}
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
    attn = (H * (nq + 2 * nkv) * d + nq * d * H) * DTYPE_BYTES[dt.weights]
    mlp = 3 * H * inter * DTYPE_BYTES[dt.mlp]
    weights = shape.layers * (attn + mlp) + 2 * shape.vocab * H * DTYPE_BYTES[dt.weights]
    kv = shape.layers * batch * 2 * nkv * ctx * d * DTYPE_BYTES[dt.kv]
    return weights + kv


def _step(shape, hw, ctx, rates, batch, chunk, dt, measured, dispatch) -> dict:
    lt = layer_times(shape, hw, ctx, batch=batch, chunk=chunk, dt=dt, measured=measured, dispatch=dispatch)
    fin = sum(op_time(k, hw, dispatch, measured, batch)[0] for k in final_kernels(shape, batch=batch, dt=dt,
                                                                                     chunk=chunk))
    single = shape.layers * lt.single + fin
    alspec = sum(lt.expected(h) for h in rates) + fin
    base = shape.layers * lt.no_attention + fin
    over_single, over_alspec = single - base, alspec - base
    ms = 1e3
    return {
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
    }


def decode_latency(shape: ModelShape, hw: Hardware, ctx: int, hit_rate: float | Sequence[float], *, batch: int = 1,
                   chunk: int = 128, dt: Dtypes = Dtypes(), measured: Measured | None = None,
                   dispatch: str = "traced") -> dict:
    """Modelled latency of one decode step at context ``ctx``: single device vs ALSpec on a pair.

    ``hit_rate`` is one rate for every layer or one per layer.  Times in milliseconds, with ``dispatch``'s host
    cost ("traced": none; "eager": ``hw.dispatch_us`` per launch); ``by_dispatch`` has the step both ways."""
    rates = [float(hit_rate)] * shape.layers if isinstance(hit_rate, (int, float)) else [float(h) for h in hit_rate]
    if len(rates) != shape.layers:
        raise ValueError(f"hit_rate: expected one rate or {shape.layers} (one per layer); got {len(rates)}")
    _check(ctx, rates, chunk, batch)
    _dispatch_us(hw, dispatch)
    both = {mode: _step(shape, hw, ctx, rates, batch, chunk, dt, measured, mode) for mode in DISPATCH}
    srcs: dict[str, int] = {}
    for r in kernel_rows(shape, hw, ctx, batch=batch, chunk=chunk, dt=dt, measured=measured):
        srcs[r["source"]] = srcs.get(r["source"], 0) + 1
    return {
        "ctx": ctx,
        "hit_rate": sum(rates) / len(rates),
        "dispatch": dispatch,
        **both[dispatch],
        "by_dispatch": {m: {k: both[m][k] for k in ("single_ms", "alspec_ms", "speedup", "attention_overhead_ratio")}
                        for m in DISPATCH},
        "kernel_sources": srcs,
        "fits": model_bytes(shape, ctx, batch, dt) <= hw.dram_gb * GB,
        "device_gb": model_bytes(shape, ctx, batch, dt) / GB,
    }


CONTEXTS = [1024 * 2 ** i for i in range(8)]  # 1K .. 128K


def latency_table(
    shape: ModelShape, hw: Hardware, hit_rates: Sequence[float], contexts: Sequence[int] = CONTEXTS, **kw
) -> list[dict]:
    return [decode_latency(shape, hw, ctx, h, **kw) for ctx in contexts for h in hit_rates]


def format_table(rows: list[dict]) -> str:
    other = {"traced": "eager", "eager": "traced"}
    o = other[rows[0]["dispatch"]] if rows else "eager"
    head = (f"{'ctx':>6} {'hit':>5} {'single ms':>10} {'ALSpec ms':>10} {'speedup':>8} {'attn ovh single':>16} "
            f"{'attn ovh ALSpec':>16} {'ovh ratio':>9} {o + ' single':>13} {o + ' ALSpec':>13} {o + ' x':>8} "
            f"{'fits':>5}")
    lines = [head]
    for r in rows:
        e = r["by_dispatch"][o]
        lines.append(
            f"{r['ctx'] // 1024:>5}K {r['hit_rate']:>5.3f} {r['single_ms']:>10.3f} {r['alspec_ms']:>10.3f} "
            f"{r['speedup']:>8.3f} "
            f"{r['attention_overhead_single_ms']:>16.3f} {r['attention_overhead_alspec_ms']:>16.3f} "
            f"{r['attention_overhead_ratio']:>9.2f} {e['single_ms']:>13.3f} {e['alspec_ms']:>13.3f} "
            f"{e['speedup']:>8.3f} {'yes' if r['fits'] else 'no':>5}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hw", choices=sorted(HARDWARE), default="n300")
    ap.add_argument("--model", choices=sorted(MODELS), default="llama-3.1-8b")
    ap.add_argument("--hit", default="0,0.5,0.875,1", help="comma-separated hit rates")
    ap.add_argument("--chunk", type=int, default=128, help="ALSpec chunk size S")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--dispatch", choices=DISPATCH, default="traced",
                    help="host dispatch: traced (none) or eager (per launch); the table shows the other beside it")
    ap.add_argument("--link-gbps", type=float, default=None, help="override the chip-to-chip bandwidth")
    ap.add_argument("--launch-us", type=float, default=None, help="override the per-op launch of roofline kernels")
    ap.add_argument("--roofline", action="store_true", help="time every kernel on the roofline (no cycle model)")
    ap.add_argument("--weights-dtype", choices=sorted(DTYPE_BYTES), default=Dtypes.weights)
    ap.add_argument("--mlp-weights-dtype", choices=sorted(DTYPE_BYTES), default=None,
                    help="MLP weights (default: --weights-dtype; tt_transformers' performance mode: bfp4_b)")
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
    if a.roofline:
        hw = replace(hw, chip=None)
    measured = load_measured(a.measured)
    dt = Dtypes(weights=a.weights_dtype, kv=a.kv_dtype, link_tile_rows=a.link_tile_rows,
                mlp_weights=a.mlp_weights_dtype)
    rows = latency_table(
        MODELS[a.model],
        hw,
        [float(h) for h in a.hit.split(",")],
        chunk=a.chunk,
        batch=a.batch,
        dt=dt,
        measured=measured,
        dispatch=a.dispatch,
    )
    timing = (f"cycle model on {hw.chip} (kernels: {rows[0]['kernel_sources']})" if hw.chip else
              f"roofline, launch {hw.launch_us} us")
    print(f"ALSpec latency model: {a.model} on {a.hw} pair, S={a.chunk}, batch {a.batch}, link {hw.link_gbps} GB/s, "
          f"{timing}, dispatch {a.dispatch}, weights {dt.weights} (MLP {dt.mlp}), KV {dt.kv}; measured traffic: "
          f"{measured.sources or 'none'}")
    print(format_table(rows))
    print(f"paper: {PAPER['attention_overhead_reduction_at_128k']}x lower attention overhead at 128K; "
          f"{PAPER['e2e_speedup']}x e2e ({PAPER['e2e_setup']})")
    if a.json:
        Path(a.json).write_text(
            json.dumps(
                {
                    "hw": {k: v for k, v in asdict(hw).items()},
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
