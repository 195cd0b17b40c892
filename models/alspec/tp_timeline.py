"""The ALSpec paper's 8-device setup as a timeline on the cycle model: Llama-3.1-8B on 8 Wormhole chips, two groups
of 4-way tensor parallelism running ALSpec against each other ("4-device TP + 4-device speculative parallel"),
beside 8-way tensor parallelism without speculation, 4-way TP alone, and the n300-pair model of
:mod:`models.alspec.latency` (one device of a pair holds the whole model).

    python -m models.alspec.tp_timeline [--hit 0,0.5,0.875,1] [--ctx 8192,...,131072] [--ccl-fixed-us 5]
                                        [--json bench/results/alspec_tp8.json] [--markdown bench/results/alspec_tp8.md]

Per device and per layer, in microseconds (``N`` = the TP degree, every device of a group runs the same timeline):

``pre``        QKV projection of ``(n_q + 2 n_kv) d / N`` columns (column-parallel), [q/k head norms], RoPE and the
               KV-cache update on the device's ``n_q / N`` / ``n_kv / N`` heads
``attn``       heads -> groups, flash decode over ``ctx`` tokens on the device's heads, groups -> heads
``attn_x``     ALSpec's sender: the speculative flash decode on its heads (exact + sink/recent + dist/norm in one
               pass; its own modelled time, which can be below plain flash decode's: its work split differs)
``spec``       when the speculative output is ready: the sink + recent part (flash decode over ``2 S`` tokens)
``verdict``    the verdict is over ALL heads of a user, and the heads are split over the group: an all-reduce of
               the per-device ``dist^2`` / ``norm^2`` tiles over the ``N`` devices + one small op for the compare
``transfer``   each sender device ships its heads' speculative output (``n_q d / N`` per row) to its peer in the
               other group: one point-to-point Ethernet send
``post``       O projection (row-parallel: ``n_q d / N`` rows) -> **all-reduce** of the residual update -> residual
               add + post-attention norm (replicated) -> gate/up projection (``2 I / N`` columns, column-parallel)
               -> SiLU*mul on ``I / N`` columns -> down projection (row-parallel) -> **all-reduce** -> residual add
               + the next layer's input norm
``swap``       the priority exchange of the residual stream with the peer (``hidden`` per row + a priority tile,
               one send each way, full duplex) + the select op

Step = layers x layer + the first RMSNorm + the LM head (vocab-parallel, ``V / N`` columns) + an all-gather of the
logits.  Timelines: ``TP-N = pre + attn + post``; ALSpec hit ``pre + max(attn_x + verdict, spec + transfer + post)
+ swap``, miss ``pre + attn_x + verdict + post + swap``, expected ``h hit + (1 - h) miss``.  The *attention
overhead* of a setup is its step minus the same setup's step without attention (``layers x (pre + post) +
final``: for ALSpec the transfers, swaps and verdict reductions count as overhead).

CCL costs (ttnn's mesh collectives over Wormhole Ethernet, ring algorithms; :data:`ttl_kernels.perf.hardware.ETHERNET`
``t3k``: 12.5 GB/s per direction per link, one link per neighbour pair for kernels, ~0.65 us per hop, source
``eth-wh``)::

    all_gather(M over N)     = fixed + (N - 1) (M / N / bw + hop)          (N - 1 ring steps of M / N bytes)
    reduce_scatter(M over N) = fixed + (N - 1) (M / N / bw + hop)
    all_reduce(M over N)     = reduce_scatter + all_gather                  (ttnn's composite: 2 fixed costs)
    send(M)                  = fixed + M / bw + hop                         (neighbours: one hop)

``fixed`` (default 5 us) is the same per-transfer assumption the pair model uses (``Hardware.link_latency_us``:
a CCL op's launch and handshakes on top of the hop; no measurement), with 0 and 20 us as a sensitivity.  Rows:
ttnn's CCLs move tile-layout tensors, so a batch-1 activation crosses as a whole 32-row tile (``--rows-only``:
only the user's row, the lower bound).

Kernel times (:data:`VARIANTS`): ``cycle``: the TT-Lang kernels from the cycle model on n150 (the shard instances
from :mod:`models.alspec.tp_table`, the replicated ones from the shipped table), the projections as DRAM-sharded
decode matmuls (:func:`ttl_kernels.perf.decoder.projection`); traced dispatch (no host cost per op).  ``ttnn``: the
three attention kernels at ttnn's measured FlashDecode anchor (``attn_gbps``, 180 GB/s of KV on Wormhole) instead.
``roofline``: every TT-Lang kernel at its roofline (the analytic bytes of :mod:`models.alspec.latency`) + the
traced op-to-op gap.  The paper's system ran ttnn's kernels, DRAM-bound at decode; the TT-Lang kernels here are
compute-bound on the cycle model (the norms alone cost ~0.2 ms per layer and do not shrink with TP), so the two
last variants say how the comparison moves with faster kernels.  The n300 pair row uses
:func:`models.alspec.latency.decode_latency` on the cycle model (``cycle``) or its roofline (``roofline``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ttl_kernels.perf import decoder as perf_decoder
from ttl_kernels.perf.hardware import ELEMENT_BYTES, ETHERNET, HARDWARE, EthernetLink, figures

from . import latency, tp_table

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
TILE = 32
CHIP = "n150"
CONTEXTS = (8192, 16384, 32768, 65536, 131072)
HIT_RATES = (0.0, 0.5, 0.875, 1.0)
PAPER_HIT = 0.875


@dataclass(frozen=True)
class CCL:
    """Collective costs over an Ethernet ring (module docstring); times in microseconds."""

    link: EthernetLink = ETHERNET["t3k"]
    fixed_us: float = HARDWARE["n300"].link_latency_us
    tile_rows: bool = True  # a batch-1 activation crosses as a whole 32-row tile (tile-layout CCL)

    @property
    def bytes_per_us(self) -> float:
        return self.link.gbps * 1e3

    def rows(self, batch: int) -> int:
        return -(-batch // TILE) * TILE if self.tile_rows else batch

    def all_gather(self, nbytes: float, n: int) -> float:
        if n <= 1:
            return 0.0
        return self.fixed_us + (n - 1) * (nbytes / n / self.bytes_per_us + self.link.hop_latency_us)

    reduce_scatter = all_gather

    def all_reduce(self, nbytes: float, n: int) -> float:
        return self.reduce_scatter(nbytes, n) + self.all_gather(nbytes, n)

    def send(self, nbytes: float) -> float:
        return self.fixed_us + nbytes / self.bytes_per_us + self.link.hop_latency_us

    def describe(self) -> dict:
        return {"link": asdict(self.link), "fixed_us": self.fixed_us, "tile_rows": self.tile_rows,
                "fixed_source": "assumed, as Hardware.link_latency_us of the pair model (no measurement)"}


@dataclass(frozen=True)
class Setup:
    """Weights / KV formats and the ALSpec chunk; what the attention kernels are timed with."""

    model: str = "llama-3.1-8b"
    weights: str = "bfp8_b"
    kv: str = "bf16"
    chunk: int = 128
    batch: int = 1
    # "cycle": TT-Lang kernels on the cycle model; "ttnn": the attention kernels at ttnn's FlashDecode anchor instead;
    # "roofline": every TT-Lang kernel on the roofline (analytic bytes, spec DRAM rate, attention at the anchor)
    kernels: str = "cycle"


@dataclass
class Segments(latency.Timeline):
    """Microseconds per segment of one layer on one device of a TP-``tp`` group (module docstring)."""

    tp: int
    pre: float
    attn: float
    attn_x: float
    spec: float
    verdict: float
    transfer: float
    post: float
    swap: float
    final: float
    detail: dict

    @property
    def sender(self) -> float:  # the speculative kernel, then the all-reduce of the verdict over the group
        return self.attn_x + self.verdict


def _time(kernel: str, params: dict) -> float:
    row = tp_table.lookup(kernel, params, CHIP)
    if row is None:
        raise KeyError(f"no cycle-model time for {perf_decoder.case_key(kernel, params)} (run python -m "
                       "models.alspec.tp_table)")
    return float(row["model_us"])


KERNEL_TIMINGS = ("cycle", "ttnn", "roofline")


def shard_shape(model: str, tp: int) -> latency.ModelShape:
    """The per-device shapes of ``tp``-way tensor parallelism as a :class:`models.alspec.latency.ModelShape` (its
    analytic bytes per kernel are the shard's)."""
    m = latency.MODELS[model]
    if tp == 1:
        return m
    s = tp_table.shard_params(model, tp)
    return replace(m, name=f"{model}/tp{tp}", intermediate=s["inter"], n_q=s["n_q"], n_kv=s["n_kv"])


def roofline_times(ctx: int, tp: int, setup: Setup) -> dict[str, float]:
    """Microseconds of each TT-Lang kernel of a shard on the roofline of :func:`models.alspec.latency.kernel_time`
    (analytic bytes at the spec DRAM rate, attention at ttnn's FlashDecode anchor, + the traced op-to-op gap)."""
    hw = replace(latency.HARDWARE[CHIP], chip=None, launch_us=figures(CHIP)["launch_us"].value)
    dt = latency.Dtypes(weights=setup.weights, kv=setup.kv)
    segs = latency.layer_kernels(shard_shape(setup.model, tp), ctx, batch=setup.batch, chunk=setup.chunk, dt=dt)
    segs["final"] = latency.final_kernels(shard_shape(setup.model, tp), batch=setup.batch, dt=dt)
    t = {f"{seg}.{k.name}": latency.kernel_time(k, hw) * 1e6 for seg, ks in segs.items() for k in ks
         if k.kind != "link"}  # links are the CCL model's
    names = (("rope", "pre", "rope"), ("kv_update", "pre", "kv_update"),
             ("heads_to_groups", "attn", "heads_to_groups"), ("groups_to_heads", "attn", "groups_to_heads"),
             ("flash_decode", "attn", "attn"), ("spec_part", "spec", "spec"), ("add_rmsnorm", "post", "add_rmsnorm"),
             ("silu_mul", "post", "silu_mul"), ("swap_select", "swap", "swap_select"), ("rmsnorm", "final", "rmsnorm"))
    out = {name: t[f"{seg}.{label}"] for name, seg, label in names}
    out["speculative_decode"] = out["flash_decode"] + t["verify.verify"]  # one pass over the KV + the verdict
    if "pre.q_norm" in t:
        out["q_norm"], out["k_norm"] = t["pre.q_norm"], t["pre.k_norm"]
    return out


def segments(ctx: int, tp: int, setup: Setup = Setup(), ccl: CCL = CCL()) -> Segments:
    """One layer's segments on one device of a TP-``tp`` group at context ``ctx``."""
    m = perf_decoder.shape(setup.model)
    s = tp_table.shard_params(setup.model, tp) if tp > 1 else dict(
        n_q=m["n_q"], n_kv=m["n_kv"], inter=m["intermediate"], head_dim=m["head_dim"], hidden=m["hidden"],
        eps=m["eps"], arch=m["arch"])
    H, d, nq, nkv, inter, V = m["hidden"], m["head_dim"], s["n_q"], s["n_kv"], s["inter"], m["vocab"]
    w, R = setup.weights, setup.batch
    rows = ccl.rows(R)
    act = ELEMENT_BYTES["bf16"]
    det: dict[str, float] = {}

    def proj(name: str, K: int, N: int) -> float:
        det[name] = perf_decoder.projection(K, N, w, CHIP, rows=-(-R // TILE) * TILE)["model_us"]
        return det[name]

    roof = roofline_times(ctx, tp, setup) if setup.kernels != "cycle" else {}
    attention = ("flash_decode", "speculative_decode", "spec_part")

    def kern(name: str, kernel: str, params: dict) -> float:
        if setup.kernels == "roofline" or (setup.kernels == "ttnn" and name in attention):
            det[name] = roof[name]
        else:
            det[name] = _time(kernel, params)
        return det[name]

    heads = dict(batch=1, n_q=nq, n_kv=nkv, head_dim=d)
    row = dict(rows=TILE, cols=H, dtype="bf16", eps=m["eps"], passes=1)
    pre = proj("qkv", H, (nq + 2 * nkv) * d)
    if m["arch"] == "qwen3":
        pre += kern("q_norm", "head_rms_norm", dict(rows=TILE, heads=nq, head_dim=d, dtype="bf16", eps=m["eps"]))
        pre += kern("k_norm", "head_rms_norm", dict(rows=TILE, heads=nkv, head_dim=d, dtype="bf16", eps=m["eps"]))
    pre += kern("rope", "rope", dict(rows=TILE, seq=TILE, n_q=nq, n_kv=nkv, head_dim=d, model=setup.model,
                                     dtype="bf16"))
    pre += kern("kv_update", "kv_update", dict(batch=1, n_kv=nkv, head_dim=d))
    layout = kern("heads_to_groups", "heads_to_groups", heads) + kern("groups_to_heads", "groups_to_heads", heads)

    def attn_params(tokens: int) -> dict:
        return dict(batch=1, n_q=nq, n_kv=nkv, head_dim=d, s_max=tokens, pos=tokens - 1, chunk_size=setup.chunk,
                    kv_dtype=setup.kv)

    spec_tokens = min(2 * setup.chunk, ctx)
    if setup.kernels not in KERNEL_TIMINGS:
        raise ValueError(f"kernels: expected one of {KERNEL_TIMINGS}; got {setup.kernels!r}")
    kern("flash_decode", "flash_decode", attn_params(ctx))
    if ctx > spec_tokens:
        kern("speculative_decode", "speculative_decode", attn_params(ctx))
    else:
        det["speculative_decode"] = det["flash_decode"]
    kern("spec_part", "flash_decode", attn_params(spec_tokens))
    attn = layout + det["flash_decode"]
    attn_x = layout + det["speculative_decode"]
    spec = layout + det["spec_part"]
    # ALSpec only: dist^2 / norm^2 tiles summed over the group, the compare (one small op), the transfer, the swap
    f = figures(CHIP)
    det["verdict_all_reduce"] = ccl.all_reduce(2 * -(-R // TILE) * TILE * TILE * act, tp)  # dist^2, norm^2 tiles
    det["verdict_op"] = f["launch_us"].value + 3 * 4096 / (f["dram_gbps"].value * 1e3)
    verdict = det["verdict_all_reduce"] + det["verdict_op"]
    det["transfer"] = ccl.send(rows * nq * d * act)
    det["swap_link"] = ccl.send(rows * H * act + TILE * TILE * act)
    swap = det["swap_link"] + kern("swap_select", "mesh_select", dict(rows=TILE, cols=H, dtype="bf16"))
    det["all_reduce"] = ccl.all_reduce(rows * H * act, tp)
    add_norm = kern("add_rmsnorm", "add_rms_norm", row)
    post = (proj("o_proj", nq * d, H) + det["all_reduce"] + add_norm + proj("gate_up", H, 2 * inter)
            + kern("silu_mul", "silu_mul", dict(rows=TILE, cols=inter, dtype="bf16")) + proj("down", inter, H)
            + det["all_reduce"] + add_norm)
    det["lm_head_all_gather"] = ccl.all_gather(rows * V * act, tp)
    final = kern("rmsnorm", "rms_norm", row) + proj("lm_head", H, V // tp) + det["lm_head_all_gather"]
    return Segments(tp, pre, attn, attn_x, spec, verdict, det["transfer"], post, swap, final, det)


def device_gb(ctx: int, tp: int, setup: Setup = Setup()) -> float:
    """Weights (sharded), the LM head (vocab-sharded), the embedding table (bf16, replicated) and the KV cache of
    the device's heads, on one device."""
    m = perf_decoder.shape(setup.model)
    prec = perf_decoder.Precision("x", setup.weights, setup.weights, setup.weights, setup.kv)
    emb = m["vocab"] * m["hidden"] * 2.0
    return ((perf_decoder.weight_bytes(setup.model, prec) - emb) / tp + emb
            + perf_decoder.kv_bytes(setup.model, ctx, setup.kv) / tp) / 1e9


def step_row(ctx: int, hit_rates=HIT_RATES, setup: Setup = Setup(), ccl: CCL = CCL()) -> dict:
    """Modelled decode step (ms) of every setup at ``ctx``: TP-8, TP-4, ALSpec 4+4 per hit rate, and the n300 pair
    (:func:`models.alspec.latency.decode_latency`)."""
    L = perf_decoder.shape(setup.model)["layers"]
    s8, s4 = segments(ctx, 8, setup, ccl), segments(ctx, 4, setup, ccl)
    ms = 1e-3
    tp8 = (L * s8.single + s8.final) * ms
    tp4 = (L * s4.single + s4.final) * ms
    base8, base4 = (L * s8.no_attention + s8.final) * ms, (L * s4.no_attention + s4.final) * ms
    alspec = {str(h): (L * s4.expected(h) + s4.final) * ms for h in hit_rates}
    out = {
        "ctx": ctx,
        "tp8_ms": tp8,
        "tp4_ms": tp4,
        "alspec_ms": alspec,
        "speedup_vs_tp8": {h: tp8 / v for h, v in alspec.items()},
        "speedup_vs_tp4": {h: tp4 / v for h, v in alspec.items()},
        "attention_overhead_ms": {"tp8": tp8 - base8, "tp4": tp4 - base4,
                                  **{f"alspec@{h}": v - base4 for h, v in alspec.items()}},
        "layer_us": {"tp8": _seg_dict(s8), "tp4": _seg_dict(s4)},
        "fits_gb": {"tp8": device_gb(ctx, 8, setup), "tp4": device_gb(ctx, 4, setup)},
    }
    over8 = out["attention_overhead_ms"]["tp8"]
    out["overhead_ratio_vs_tp8"] = {h: over8 / max(v - base4, 1e-12) for h, v in alspec.items()}
    if setup.kernels in ("cycle", "roofline"):  # the pair model times its kernels one of these two ways
        shape, hw = latency.MODELS[setup.model], latency.HARDWARE["n300"]
        if setup.kernels == "roofline":
            hw = replace(hw, chip=None, launch_us=figures(CHIP)["launch_us"].value)
        pair = {}
        for h in hit_rates:
            r = latency.decode_latency(shape, hw, ctx, h, chunk=setup.chunk,
                                       dt=latency.Dtypes(weights=setup.weights, kv=setup.kv,
                                                         link_tile_rows=ccl.tile_rows))
            pair[str(h)] = {k: r[k] for k in ("single_ms", "alspec_ms", "speedup", "attention_overhead_ratio",
                                              "fits", "device_gb")}
        out["n300_pair"] = pair
    return out


def _seg_dict(s: Segments) -> dict:
    d = {k: v for k, v in asdict(s).items() if k != "detail"}
    d.update(plain=s.single, hit=s.hit, miss=s.miss, detail=s.detail)
    return d


def table(contexts=CONTEXTS, hit_rates=HIT_RATES, setup: Setup = Setup(), ccl: CCL = CCL()) -> list[dict]:
    return [step_row(c, hit_rates, setup, ccl) for c in contexts]


def table_cells(rows: list[dict], hit: float = PAPER_HIT) -> tuple[list[str], list[list[str]]]:
    """The timeline table (one row per context) as header and cell strings: :func:`format_rows` prints them,
    :func:`markdown` writes them."""
    h = str(hit)
    pair = "n300_pair" in rows[0]
    head = (["ctx", "TP-8", "TP-4"] + [f"ALSpec h={k}" for k in rows[0]["alspec_ms"]]
            + [f"speedup vs TP-8 (h={h})", "attn overhead TP-8", "attn overhead ALSpec", "overhead ratio"]
            + (["n300: 1 chip", "n300 pair ALSpec", "pair speedup"] if pair else []))
    body = []
    for r in rows:
        o = r["attention_overhead_ms"]
        cells = ([f"{r['ctx'] // 1024}K", f"{r['tp8_ms']:.2f}", f"{r['tp4_ms']:.2f}"]
                 + [f"{v:.2f}" for v in r["alspec_ms"].values()]
                 + [f"{r['speedup_vs_tp8'][h]:.3f}", f"{o['tp8']:.2f}", f"{o['alspec@' + h]:.2f}",
                    f"{r['overhead_ratio_vs_tp8'][h]:.2f}"])
        if pair:
            q = r["n300_pair"][h]
            cells += [f"{q['single_ms']:.2f}", f"{q['alspec_ms']:.2f}",
                      f"{q['speedup']:.3f}{'' if q['fits'] else ' (does not fit)'}"]
        body.append(cells)
    return head, body


def format_rows(rows: list[dict], hit: float = PAPER_HIT) -> str:
    head, body = table_cells(rows, hit)
    widths = [max(len(c) for c in col) for col in zip(head, *body)]
    return "\n".join(" ".join(c.rjust(w) for c, w in zip(line, widths)) for line in [head, *body])


def run(contexts=CONTEXTS, hit_rates=HIT_RATES, ccl: CCL = CCL(), setup: Setup = Setup()) -> dict:
    """Every variant: the cycle-model attention and the ttnn anchor, tile rows and rows only, fixed CCL cost
    0 / default / 20 us (the sensitivity at 128K and the paper's hit rate)."""
    doc = {
        "setup": asdict(setup),
        "ccl": ccl.describe(),
        "paper": latency.PAPER,
        "paper_hit_rate": PAPER_HIT,
        "chip": CHIP,
        "shard_table": {"path": str(tp_table.TABLE_PATH.relative_to(ROOT)), "stale_figures": tp_table.stale()},
        "assumptions": ASSUMPTIONS,
        "cycle": table(contexts, hit_rates, setup, ccl),
        "ttnn": table(contexts, hit_rates, replace(setup, kernels="ttnn"), ccl),
        "roofline": table(contexts, hit_rates, replace(setup, kernels="roofline"), ccl),
    }
    big = max(contexts)
    sens = []
    for att in KERNEL_TIMINGS:
        for fixed in (0.0, ccl.fixed_us, 20.0):
            for tile_rows in (True, False):
                c = replace(ccl, fixed_us=fixed, tile_rows=tile_rows)
                r = step_row(big, (PAPER_HIT,), replace(setup, kernels=att), c)
                h = str(PAPER_HIT)
                sens.append({"kernels": att, "fixed_us": fixed, "tile_rows": tile_rows, "ctx": big,
                             "tp8_ms": r["tp8_ms"], "alspec_ms": r["alspec_ms"][h],
                             "speedup_vs_tp8": r["speedup_vs_tp8"][h],
                             "overhead_ratio_vs_tp8": r["overhead_ratio_vs_tp8"][h]})
    doc["sensitivity"] = sens
    doc["hop_needed"] = [{"kernels": att, "ctx": big, "target_speedup": target,
                          "hop_us": hop_for_speedup(target, big, replace(setup, kernels=att), ccl)}
                         for att in KERNEL_TIMINGS for target in (1.0, latency.PAPER["e2e_speedup"])]
    return doc


def hop_for_speedup(target: float, ctx: int, setup: Setup = Setup(), ccl: CCL = CCL(),
                    hi: float = 500.0) -> float | None:
    """The per-hop Ethernet latency (us) at which ALSpec 4+4 at the paper's hit rate reaches ``target`` x TP-8's
    step at ``ctx`` (bisection; None when not reached up to ``hi`` us).  TP-8's collectives cross more hops (an
    8-chip ring) than a 4-chip group's, so a costlier hop favours ALSpec: this says how costly it must be."""
    def speedup(hop: float) -> float:
        c = replace(ccl, link=replace(ccl.link, hop_latency_us=hop))
        return step_row(ctx, (PAPER_HIT,), setup, c)["speedup_vs_tp8"][str(PAPER_HIT)]

    lo = 0.0
    if speedup(lo) >= target:
        return 0.0
    if speedup(hi) < target:
        return None
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if speedup(mid) < target else (lo, mid)
    return hi


VARIANTS = {
    "cycle": "TT-Lang kernels on the cycle model",
    "ttnn": "attention kernels at ttnn's FlashDecode anchor (180 GB/s of KV), the rest on the cycle model",
    "roofline": "every TT-Lang kernel on the roofline (DRAM-bound, ttnn-like), attention at the FlashDecode anchor",
}

ASSUMPTIONS = [
    "8 Wormhole chips (the n150's chip) wired as a T3000 2x4 mesh; ALSpec = two groups of 4-way TP (the mesh's two "
    "rows), each holding a full replica, device i of one group paired with device i of the other by one direct link; "
    "TP-8 = one ring over all 8 chips.",
    "Ethernet: ETHERNET['t3k'] (eth-wh): 12.5 GB/s per direction per link, 1 link per neighbour pair for kernels, "
    "0.65 us per hop; collectives are ring algorithms with N-1 steps of M/N bytes (all-reduce = reduce-scatter + "
    "all-gather); a fixed 5 us per CCL op / send (assumption shared with the pair model; sensitivity 0 and 20 us).",
    "CCL payloads are tile-layout tensors: a batch-1 activation crosses as a 32-row tile (rows-only in the "
    "sensitivity); bf16 everywhere on the wire.",
    "ALSpec per layer (hit): pre + max(sender: speculative kernel + verdict all-reduce, receiver: speculative part "
    "+ transfer + TP-4 post-attention) + residual swap; miss: serial.  The verdict over all heads needs the per-device "
    "dist^2 / norm^2 summed over the group (an all-reduce the 2-device protocol does not have).",
    "Row-parallel O and down projections each end in an all-reduce of the residual update (Megatron-style); norms, "
    "residual adds and the swap select run replicated on every device; the LM head is vocab-parallel with an "
    "all-gather of the logits.",
    "Kernels: TT-Lang kernels from the cycle model on n150 (shard instances modelled by models/alspec/tp_table.py); "
    "projections are DRAM-sharded decode matmuls at the measured 249.5 GB/s; traced dispatch; weights bfp8_b, KV "
    "cache bf16, batch 1, S = 128.  Variant 'ttnn': the three attention kernels at ttnn's FlashDecode anchor "
    "(180 GB/s of KV) instead; variant 'roofline': every TT-Lang kernel at its DRAM/FLOP roofline (analytic bytes, "
    "models/alspec/latency.py's counts) + the 0.7 us op-to-op gap, the closest analogue here of the paper's ttnn ops.",
    "The n300 pair row is models/alspec/latency.py's decode_latency (one device holds the whole model) with the same "
    "rows-on-the-wire rule as the collectives (its own default ships only the user's row).",
    "No overlap between a device's own ops besides ALSpec's two groups (no async CCL fused into matmuls), no "
    "contention between the group's link traffic and the peer transfer.",
]


def markdown(doc: dict) -> str:
    h = str(doc["paper_hit_rate"])
    p = doc["paper"]
    out = ["# ALSpec on 8 devices: 4-way TP + 4 speculative devices vs 8-way TP (cycle model)", "",
           f"Llama-3.1-8B, batch 1, S = {doc['setup']['chunk']}, weights {doc['setup']['weights']}, KV "
           f"{doc['setup']['kv']}, {doc['chip']} chips, traced dispatch; written by `python -m "
           "models.alspec.tp_timeline`.  ALSpec columns: expected step at hit rate h; x TP-8 / overhead ratio at "
           f"h = {h} (the paper's assumed rate).  Times in ms per decode step.", ""]
    for key, title in VARIANTS.items():
        rows = doc[key]
        head, body = table_cells(rows, float(h))
        out += [f"## {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(cells) + " |" for cells in body]
        out.append("")
    out += ["## The paper", "",
            f"Up to {p['attention_overhead_reduction_at_128k']}x lower attention overhead at 128K and up to "
            f"{p['e2e_speedup']}x end to end ({p['e2e_setup']}).", "",
            f"## Sensitivity at {max(r['ctx'] for r in doc['cycle']) // 1024}K, h = {h}", "",
            "| kernels | CCL fixed us | rows on the wire | TP-8 ms | ALSpec ms | speedup vs TP-8 | overhead ratio |",
            "|---|---|---|---|---|---|---|"]
    for s in doc["sensitivity"]:
        out.append(f"| {s['kernels']} | {s['fixed_us']:g} | {'32-row tile' if s['tile_rows'] else '1 row'} | "
                   f"{s['tp8_ms']:.2f} | {s['alspec_ms']:.2f} | {s['speedup_vs_tp8']:.3f} | "
                   f"{s['overhead_ratio_vs_tp8']:.2f} |")
    out += ["", f"Per-hop latency (us) at which ALSpec 4+4 (h = {h}) reaches a given speedup over TP-8 at "
                f"{doc['hop_needed'][0]['ctx'] // 1024}K (eth-wh measures ~0.65 us; none = not within 500 us):", "",
            "| kernels | speedup | hop us needed |", "|---|---|---|"]
    for e in doc["hop_needed"]:
        out.append(f"| {e['kernels']} | {e['target_speedup']:g} | "
                   f"{'none' if e['hop_us'] is None else format(e['hop_us'], '.2f')} |")
    r = doc["cycle"][-1]
    out += ["", f"## Per-layer segments at {r['ctx'] // 1024}K (us, one device)", "",
            "| setup | pre | attn | attn_x (ALSpec sender) | spec ready | verdict | transfer | post | swap | final |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for k in ("tp8", "tp4"):
        s = r["layer_us"][k]
        out.append(f"| {k.upper()} | {s['pre']:.1f} | {s['attn']:.1f} | {s['attn_x']:.1f} | {s['spec']:.1f} | "
                   f"{s['verdict']:.1f} | {s['transfer']:.1f} | {s['post']:.1f} | {s['swap']:.1f} | "
                   f"{s['final']:.1f} |")
    d8 = r["layer_us"]["tp8"]["detail"]
    out += ["", f"One all-reduce of the residual (32-row tile) over 8 chips: {d8['all_reduce']:.1f} us; over 4: "
                f"{r['layer_us']['tp4']['detail']['all_reduce']:.1f} us."]
    if doc.get("mesh"):
        out += ["", "## The op sequence on the simulator's mesh (`python -m models.alspec.tp`)", "",
                "Weights sharded with `ShardTensorToMesh` (column-parallel QKV / gate / up, row-parallel O / down with "
                "`ttnn.all_reduce`, vocab-parallel LM head with `ttnn.all_gather`), the TT-Lang kernels per device on "
                "its shard, against the single-device kernel model (`KernelOps`, the same kernels on the whole "
                "model); a 24-token prompt as one block, then greedy decode steps.", "",
                "| mesh | model | heads (q / kv), per device | activations | steps | tokens identical | "
                "min logits PCC | max abs diff | collectives per step | seconds mesh / one device |",
                "|" + "---|" * 10]
        for m in doc["mesh"]["runs"]:
            out.append(f"| {m['mesh']} | {m['arch']}, {m['layers']} layers | {m['heads'][0]} / {m['heads'][1]}, "
                       f"{m['per_device_heads'][0]} / {m['per_device_heads'][1]} | {m['dtype']} | {len(m['steps'])} | "
                       f"{m['tokens_equal']} | {m['min_pcc']:.6f} | "
                       f"{max(x['max_abs_diff'] for x in m['steps']):.2e} | "
                       f"{m['ops_per_decode_step']['collectives']} | {m['seconds']['mesh']:.0f} / "
                       f"{m['seconds']['single']:.0f} |")
    out += ["", "## Assumptions", ""]
    out += [f"* {a}" for a in doc["assumptions"]]
    if doc["shard_table"]["stale_figures"]:
        out += ["", f"Note: the shard table predates a change of figures {doc['shard_table']['stale_figures']}; "
                    "rebuild it with `python -m models.alspec.tp_table`."]
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hit", default=",".join(map(str, HIT_RATES)))
    ap.add_argument("--ctx", default=",".join(map(str, CONTEXTS)))
    ap.add_argument("--ccl-fixed-us", type=float, default=CCL.fixed_us)
    ap.add_argument("--rows-only", action="store_true", help="only the user's row crosses the links (not a tile)")
    ap.add_argument("--json", default=str(RESULTS / "alspec_tp8.json"))
    ap.add_argument("--markdown", default=str(RESULTS / "alspec_tp8.md"))
    ap.add_argument("--mesh-json", default=str(RESULTS / "alspec_tp8_sim.json"),
                    help="the 1xN mesh runs (python -m models.alspec.tp --json ...) quoted in the Markdown if present")
    a = ap.parse_args(argv)
    hits = [float(h) for h in a.hit.split(",")]
    if any(not 0.0 <= h <= 1.0 for h in hits):
        ap.error("--hit: rates must lie in [0, 1]")
    if PAPER_HIT not in hits:
        hits.append(PAPER_HIT)
    ccl = CCL(fixed_us=a.ccl_fixed_us, tile_rows=not a.rows_only)
    doc = run([int(c) for c in a.ctx.split(",")], hits, ccl)
    if a.mesh_json and Path(a.mesh_json).is_file():
        doc["mesh"] = {"source": a.mesh_json, **json.loads(Path(a.mesh_json).read_text())}
    for key in VARIANTS:
        print(f"== {key}: ms per decode step; AL@h = ALSpec 4+4 at hit rate h; ratios at h = {PAPER_HIT}")
        print(format_rows(doc[key]))
    p = latency.PAPER
    print(f"paper: {p['attention_overhead_reduction_at_128k']}x lower attention overhead at 128K; {p['e2e_speedup']}x "
          f"e2e ({p['e2e_setup']})")
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(doc, indent=1, default=_finite) + "\n")
    if a.markdown:
        Path(a.markdown).write_text(markdown(doc))
    return 0


def _finite(x):
    return None if isinstance(x, float) and not math.isfinite(x) else str(x)


if __name__ == "__main__":
    sys.exit(main())
