"""Check the model against published measurements (no hardware here).

(a) **tt-lang's matmul benchmark on Blackhole 13x10** (tenstorrent/tt-lang benchmarks/matmul): device kernel
    time of its SUMMA kernel per shape (REGRESSIONS.md, "Current device-time comparison", 2026-09-09: minimum
    of five TT-Metal ``device_kernel_duration`` samples, bf16 inputs, HiFi4 with fp32 accumulation, DRAM
    interleaved) and the block / grid plan of each shape (ksplit_sweep.csv: ``bm, bn, bk, Mp, Np, Kp``; an
    earlier snapshot than the timings, so the plan used on 2026-09-09 may differ).  Only ``Kp = 1`` shapes
    are used (each core reduces the whole K; the K-split kernel adds a gather this project has no kernel for).

    Our :func:`ttl_kernels.matmul.matmul` runs with the same blocks on the same grid ``(Np, Mp)``, and its op
    counts and hand-offs come from running it.  It reads every A and B panel from DRAM itself, while the
    published kernel reads each block once and multicasts it along rows (A) and columns (B); so the traffic is
    remapped to the published design before modelling (:func:`as_multicast`: DRAM reads become NoC receives,
    and A + B are read from DRAM once, spread over the reading threads), and the matmuls are costed with fp32
    accumulation.  The unmodified kernel's model is reported beside it.

(b) **ttnn FlashDecode on Wormhole**: "up to 180 GB/s" of KV read (tt-metal tech_reports FlashDecode.md;
    bf16 Q, bfp8 KV, batch 8-32, 1 KV head, 8 Q heads, 128K, bytes counted as 1 per KV element).  We run
    :func:`ttl_kernels.attention.flash_decode` at Llama-3.1-8B heads (32 Q / 8 KV, head_dim 128), batch 1,
    32K context, with bf16 and bfp8_b caches, and compare its modelled useful bandwidth (K and V bytes of the
    visible positions over the modelled time) on n150 with 180 GB/s.  Different kernels and configurations:
    this checks that the model lands in the range a production kernel reaches, not a one-to-one prediction.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import torch

from .. import host
from .counter import CallCounts
from .hardware import TILE_BYTES
from .model import model
from .run import chip_grid, count_call

# (label, M, K, N, bm, bn, bk, Mp, Np, tt-lang device ms, ttnn.matmul device ms)
PUBLISHED_MATMUL = [
    ("1k x 2k x 1k", 1024, 2048, 1024, 4, 4, 8, 8, 8, 0.0726, 0.0794),
    ("3k x 1k x 3k (short K)", 3072, 1024, 3072, 6, 8, 8, 8, 12, 0.2349, 0.2175),
    ("2.5k x 2k x 3k", 2560, 2048, 3072, 8, 4, 8, 10, 13, 0.2956, 0.2937),
    ("2.5k x 4k x 3k", 2560, 4096, 3072, 8, 4, 8, 10, 13, 0.5036, 0.5237),
    ("3k x 4k x 3k", 3072, 4096, 3072, 6, 8, 8, 8, 12, 0.6949, 0.6401),
    ("1k x 16k x 2.5k (tall K)", 1024, 16384, 2560, 4, 8, 8, 8, 10, 1.0053, 1.0074),
    ("5k x 2k x 5k (short K)", 5120, 2048, 5120, 8, 8, 8, 10, 12, 1.0196, 0.9212),
    ("2.5k x 8k x 3.3k (130 cores)", 2560, 8192, 3328, 8, 8, 8, 10, 13, 0.8971, 0.9835),
    ("4k^3", 4096, 4096, 4096, 8, 4, 8, 8, 11, 1.3486, 1.1389),
    ("8k^3", 8192, 8192, 8192, 8, 4, 8, 8, 13, 8.6385, 8.6098),
]
DEFAULT_MATMUL = [0, 1, 2, 8]  # rows run by default (the others: --full); 8k^3 alone is ~17M tile matmuls
MATMUL_SOURCE = ("tenstorrent/tt-lang benchmarks/matmul/REGRESSIONS.md (device ms, Blackhole 13x10, 2026-09-09) "
                 "and ksplit_sweep.csv (block/grid plans)")

FLASHDECODE_GBPS = 180.0
FLASHDECODE_SOURCE = "tenstorrent/tt-metal tech_reports/FlashAttention/FlashDecode.md (up to 180 GB/s, Wormhole)"


def as_multicast(counts: CallCounts, dram_once_bytes: int, fp32_acc: bool = True) -> CallCounts:
    """A copy of ``counts`` with the traffic of a multicast SUMMA: every core's DRAM reads arrive over the NoC
    instead (one receive per read batch), and ``dram_once_bytes`` (A + B, each read once) are read from DRAM,
    spread evenly over the threads that read.  ``fp32_acc``: cost the matmuls with fp32 accumulation."""
    out = copy.deepcopy(counts)
    for launch in out.launches:
        readers = [t for th in launch.cores.values() for t in th.values() if t.dram_read_bytes]
        share = dram_once_bytes // max(1, len(readers))
        for t in readers:
            t.noc_recv_bytes += t.dram_read_bytes
            t.noc_transfers += t.batches
            t.dram_read_bytes = share
            t.dram_read_tiles = share // TILE_BYTES["bf16"]
        if fp32_acc:
            for th in launch.cores.values():
                for t in th.values():
                    for k in [k for k in t.ops if k.startswith("matmul.") and not k.endswith(".fp32")]:
                        t.ops[k + ".fp32"] += t.ops.pop(k)
    return out


def validate_matmul(rows: list[int] | None = None, verbose: bool = True) -> list[dict]:
    """Model the published matmul shapes on p150; one dict per shape."""
    from ..matmul import matmul

    out = []
    for i in rows if rows is not None else DEFAULT_MATMUL:
        label, M, K, N, bm, bn, bk, Mp, Np, ms, ttnn_ms = PUBLISHED_MATMUL[i]
        a = host.to_device(torch.zeros(M, K), "bf16")
        b = host.to_device(torch.zeros(K, N), "bf16")
        t0 = time.perf_counter()
        _, counts, _ = count_call(matmul, a, b, block=(bm, bn, bk), grid=(Np, Mp))
        wall = time.perf_counter() - t0
        minimum = a.nbytes + b.nbytes + M * N * 2
        mc = model(as_multicast(counts, a.nbytes + b.nbytes), "p150", min_bytes=minimum)
        raw = model(counts, "p150", min_bytes=minimum)
        pub_us = ms * 1e3
        row = dict(label=label, M=M, K=K, N=N, block=[bm, bn, bk], grid=[Np, Mp], published_us=pub_us,
                   ttnn_us=ttnn_ms * 1e3, model_us=round(mc.model_us, 2), error=round(mc.model_us / pub_us, 3),
                   leans="under" if mc.model_us < pub_us else "over", bound=mc.bound,
                   compute_us=round(mc.compute_us, 2), handoff_us=round(mc.handoff_us, 2),
                   noc_us=round(mc.noc_us, 2), dram_us=round(mc.dram_us, 2),
                   tile_matmuls=sum(v for k, v in counts.ops().items() if k.startswith("matmul.")),
                   own_kernel_model_us=round(raw.model_us, 2), own_kernel_bound=raw.bound,
                   own_kernel_dram_bytes=raw.dram_bytes, sim_wall_s=round(wall, 1))
        out.append(row)
        if verbose:
            print(f"  {label:<30} published {pub_us:8.1f} us  model {mc.model_us:8.1f} us ({mc.bound}) "
                  f"x{row['error']:.2f}  [own kernel, no multicast: {raw.model_us:.1f} us {raw.bound}]  "
                  f"sim {wall:.0f}s", flush=True)
    return out


def flash_case(context: int, kv_dtype: str, seed: int = 0):
    """Llama-3.1-8B decode attention inputs (batch 1) at ``context`` tokens, uploaded: (q, k, v, positions,
    useful K+V bytes)."""
    from ..attention import decode_q_to_tiles, kv_cache_to_tiles

    n_q, n_kv, d = 32, 8, 128
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(1, n_q, d, generator=g)
    k = torch.randn(1, n_kv, context, d, generator=g)
    v = torch.randn(1, n_kv, context, d, generator=g)
    tq = host.to_device(decode_q_to_tiles(q, n_kv), "bf16")
    tk = host.to_device(kv_cache_to_tiles(k), kv_dtype)
    tv = host.to_device(kv_cache_to_tiles(v), kv_dtype)
    useful = 2 * n_kv * context * d * TILE_BYTES[kv_dtype] // 1024
    return tq, tk, tv, [context - 1], useful


def attention_counts(context: int, kv_dtype: str, chip: str) -> tuple[CallCounts, int, float]:
    """(counts, useful bytes, simulator seconds) of one flash_decode call at Llama-3.1-8B heads."""
    from ..attention import flash_decode

    tq, tk, tv, pos, useful = flash_case(context, kv_dtype)
    t0 = time.perf_counter()
    with chip_grid(chip):
        _, counts, _ = count_call(flash_decode, tq, tk, tv, pos, chunk_size=128)
    return counts, useful, time.perf_counter() - t0


def partial_summary(counts: CallCounts, chip: str, useful: int) -> dict:
    """The split-KV partial launch: its binding core's op counts and the launch model, plus the whole call."""
    m = model(counts, chip, min_bytes=useful)
    part = m.launches[0]
    core = next(c for c in part.per_core if c.core == part.slowest_core)
    launch = counts.launches[0]
    threads = launch.cores[core.core]
    comp = next(t for t in threads.values() if t.role == "compute")
    reader = max((t for t in threads.values() if t.role != "compute"), key=lambda t: t.dram_read_bytes)
    return dict(
        call=dict(model_us=round(m.model_us, 2), bound=m.bound, dram_us=round(m.dram_us, 2),
                  useful_gbps=round(m.useful_gbps, 1), ratio_to_dram=round(m.ratio_to_dram, 3),
                  launches=[(x.name, round(x.model_us, 2), x.bound) for x in m.launches]),
        partial=dict(name=part.name, cores=part.cores, model_us=round(part.model_us, 2), bound=part.bound,
                     compute_us=round(part.compute_us, 2), handoff_us=round(part.handoff_us, 2),
                     dram_us=round(part.dram_us, 2), dm_us=round(part.dm_us, 2), slowest_core=core.core,
                     ops=dict(sorted(comp.ops.items())),
                     handoffs=comp.handoffs, handoff_tiles=comp.handoff_tiles,
                     reader_bytes=reader.dram_read_bytes, reader_batches=reader.batches))


def validate_flashdecode(contexts=(32768,), dtypes=("bf16", "bfp8_b"), chips=("n150", "p150"),
                         verbose: bool = True) -> list[dict]:
    out = []
    for ctx in contexts:
        for dt in dtypes:
            for chip in chips:
                counts, useful, wall = attention_counts(ctx, dt, chip)
                s = partial_summary(counts, chip, useful)
                row = dict(context=ctx, kv_dtype=dt, chip=chip, useful_bytes=useful, sim_wall_s=round(wall, 1), **s)
                if chip == "n150":
                    row["anchor_gbps"] = FLASHDECODE_GBPS
                    row["error"] = round(s["call"]["useful_gbps"] / FLASHDECODE_GBPS, 3)
                    row["leans"] = "over" if s["call"]["useful_gbps"] > FLASHDECODE_GBPS else "under"
                out.append(row)
                if verbose:
                    c = s["call"]
                    extra = f" vs ttnn {FLASHDECODE_GBPS:.0f} GB/s: x{row['error']:.2f}" if chip == "n150" else ""
                    print(f"  flash_decode {ctx:>6} {dt:<6} {chip}: model {c['model_us']:8.1f} us ({c['bound']}) "
                          f"useful {c['useful_gbps']:6.1f} GB/s{extra}  [partial {s['partial']['bound']}: "
                          f"compute {s['partial']['compute_us']:.1f} + handoff {s['partial']['handoff_us']:.1f} us, "
                          f"dram {s['partial']['dram_us']:.1f} us]  sim {wall:.0f}s", flush=True)
    return out


def validate(full: bool = False, json_path: str | None = None, matmul_rows: list[int] | None = None,
             contexts=(32768,), verbose: bool = True, command: str | None = None) -> dict:
    rows = list(range(len(PUBLISHED_MATMUL))) if full else matmul_rows
    if verbose:
        print(f"(a) matmul vs tt-lang's published device times on Blackhole 13x10 ({MATMUL_SOURCE})")
    mm = validate_matmul(rows, verbose)
    if verbose:
        print(f"(b) decode attention vs ttnn FlashDecode ({FLASHDECODE_SOURCE})")
    fd = validate_flashdecode(contexts, verbose=verbose)
    errs = [r["error"] for r in mm]
    summary = dict(
        matmul=dict(rows=len(mm), error_min=min(errs), error_max=max(errs),
                    error_geomean=round(float(torch.tensor(errs).log().mean().exp()), 3),
                    leans="under" if all(e < 1 for e in errs) else "over" if all(e > 1 for e in errs) else "mixed"),
        flashdecode={f"{r['kv_dtype']}": dict(useful_gbps=r["call"]["useful_gbps"], error=r["error"], leans=r["leans"])
                     for r in fd if r["chip"] == "n150"})
    from .. import env

    res = dict(command=command or "ttl_kernels.perf.validate.validate()", machine=env.machine(), summary=summary,
               matmul=mm, flashdecode=fd, sources=dict(matmul=MATMUL_SOURCE, flashdecode=FLASHDECODE_SOURCE))
    if verbose:
        s = summary["matmul"]
        print(f"matmul: model / published = {s['error_min']:.2f} .. {s['error_max']:.2f} "
              f"(geomean {s['error_geomean']:.2f}, leans {s['leans']})")
        for dt, v in summary["flashdecode"].items():
            print(f"flash decode {dt}: {v['useful_gbps']:.0f} GB/s modelled vs {FLASHDECODE_GBPS:.0f} measured "
                  f"(x{v['error']:.2f}, leans {v['leans']})")
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(res, indent=1))
        if verbose:
            print(f"wrote {json_path}")
    return res
