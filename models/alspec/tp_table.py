"""Cycle-model times of the kernels a tensor-parallel shard runs (the per-device instances of TP-4 and TP-8), and of
a DFlash verification block's attention (B query rows of one sequence).

:mod:`ttl_kernels.perf.decoder`'s shipped table holds the kernels of ONE device running the whole model.  Under
N-way tensor parallelism each device runs the attention-side kernels on ``n_q / N`` query and ``n_kv / N`` KV
heads and ``silu_mul`` on ``intermediate / N`` columns; the norms (the residual stream stays replicated) and the
priority select are the whole model's.  The head count changes how the attention kernels split their work over the
cores (fewer segments, more splits per segment, a longer merge), so the shard instances are modelled for real on
the simulator (:func:`ttl_kernels.perf.run.model_case`, the same code the shipped table comes from), not scaled.

    python -m models.alspec.tp_table [--block]  # (re)build models/alspec/tp_kernel_table.json (minutes; resumable)

The table is read with :func:`ttl_kernels.perf.decoder.lookup` (``doc=``): attention instances at contexts it
lacks are interpolated, beyond 32K extrapolated, affinely in the context (as for the shipped table).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ttl_kernels.perf import decoder as perf_decoder

TABLE_PATH = Path(__file__).with_name("tp_kernel_table.json")  # package data, so that it ships with the package
MODELS = ("llama-3.1-8b", "qwen3-8b")
TP_DEGREES = (4, 8)
CONTEXTS = (256, 4096, 8192, 16384, 32768)  # 256 = 2S: the sink + recent part at S = 128
CHIP = "n150"
TILE = 32


def shard_params(model: str, tp: int) -> dict:
    """Per-device head and column counts of ``model`` under ``tp``-way tensor parallelism (ValueError when the heads
    or the intermediate size do not split into whole heads / tiles)."""
    m = perf_decoder.shape(model)
    if m["n_kv"] % tp or m["n_q"] % tp or (m["intermediate"] // tp) % TILE or m["intermediate"] % tp:
        raise ValueError(f"tp: {model} ({m['n_q']} q / {m['n_kv']} kv heads, intermediate {m['intermediate']}) does "
                         f"not split {tp} ways into whole heads and tiles")
    return dict(n_q=m["n_q"] // tp, n_kv=m["n_kv"] // tp, inter=m["intermediate"] // tp, head_dim=m["head_dim"],
                hidden=m["hidden"], eps=m["eps"], arch=m["arch"])


def attention_params(model: str, tp: int, ctx: int, kv_dtype: str = "bf16", chunk: int = 128) -> dict:
    s = shard_params(model, tp)
    return dict(batch=1, n_q=s["n_q"], n_kv=s["n_kv"], head_dim=s["head_dim"], s_max=ctx, pos=ctx - 1,
                chunk_size=chunk, kv_dtype=kv_dtype)


def shard_instances(model: str, tp: int, contexts=CONTEXTS, kv_dtype: str = "bf16",
                    chunk: int = 128) -> list[perf_decoder.Instance]:
    """The kernel instances one device of a ``tp``-way shard runs that differ from the whole model's."""
    s = shard_params(model, tp)
    nq, nkv, d = s["n_q"], s["n_kv"], s["head_dim"]
    heads = dict(batch=1, n_q=nq, n_kv=nkv, head_dim=d)
    out = [
        perf_decoder.Instance("rope", "rope", dict(rows=TILE, seq=TILE, n_q=nq, n_kv=nkv, head_dim=d, model=model,
                                                   dtype="bf16")),
        perf_decoder.Instance("kv_update", "kv_update", dict(batch=1, n_kv=nkv, head_dim=d)),
        perf_decoder.Instance("heads_to_groups", "heads_to_groups", heads),
        perf_decoder.Instance("groups_to_heads", "groups_to_heads", heads),
        perf_decoder.Instance("silu_mul", "silu_mul", dict(rows=TILE, cols=s["inter"], dtype="bf16")),
    ]
    if s["arch"] == "qwen3":
        out += [perf_decoder.Instance("q_norm", "head_rms_norm",
                                      dict(rows=TILE, heads=nq, head_dim=d, dtype="bf16", eps=s["eps"])),
                perf_decoder.Instance("k_norm", "head_rms_norm",
                                      dict(rows=TILE, heads=nkv, head_dim=d, dtype="bf16", eps=s["eps"]))]
    for ctx in contexts:
        p = attention_params(model, tp, ctx, kv_dtype, chunk)
        out.append(perf_decoder.Instance("attention", "flash_decode", p))
        if ctx > 2 * chunk:
            out.append(perf_decoder.Instance("speculative", "speculative_decode", p))
    return out


SOURCE_DIRS = ("attention", "layout", "rope", "norm", "eltwise", "ccl")
SOURCE_FILES = ("perf/counter.py", "perf/model.py", "perf/run.py")


def sources_digest() -> str:
    """sha256 over the kernels' and the cycle model's sources: a table built from other sources is stale (the
    figures are compared one by one, :func:`stale`)."""
    import hashlib

    import ttl_kernels

    root = Path(ttl_kernels.__file__).parent
    files = sorted(f for d in SOURCE_DIRS for f in (root / d).glob("*.py")) + [root / f for f in SOURCE_FILES]
    h = hashlib.sha256()
    for f in files:
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def load(path: Path = TABLE_PATH) -> dict:
    """The table (``{"meta", "rows", "block"}`` like the shipped one; empty when it has not been built)."""
    if not path.is_file():
        return {"meta": {}, "rows": {}}
    return json.loads(path.read_text())


def save(doc: dict, path: Path = TABLE_PATH) -> None:
    path.write_text(json.dumps(doc, indent=0, sort_keys=True) + "\n")


def lookup(kernel: str, params: dict, chip: str = CHIP, doc: dict | None = None) -> dict | None:
    """An instance's modelled fields: this table first, then the shipped one."""
    return perf_decoder.lookup(kernel, params, chip, doc or load()) or perf_decoder.lookup(kernel, params, chip)


def stale(doc: dict | None = None, chip: str = CHIP) -> list[str]:
    """What changed since this table was built (its times are then out of date): the figures whose value changed,
    and ``"kernel sources"`` when the kernels' or the cycle model's code differs (:func:`sources_digest`)."""
    meta = (doc or load()).get("meta", {})
    built = meta.get("figures", {}).get(chip, {})
    now = {k: v.value for k, v in perf_decoder.figures(chip).items()}
    out = sorted(k for k in now if k in built and built[k] != now[k])
    if meta.get("sources") not in (None, sources_digest()):
        out.append("kernel sources")
    return out


def build(models=MODELS, tps=TP_DEGREES, contexts=CONTEXTS, chips=(CHIP,), path: Path = TABLE_PATH,
          log=print) -> dict:
    """Model every shard instance not yet in the table at ``path`` (saved after each row, so a killed build
    resumes), shortest context first."""
    from ttl_kernels import runtime

    runtime.use_backend("sim")
    doc = load(path)
    rows = doc.setdefault("rows", {})
    cases: dict[str, perf_decoder.Instance] = {}
    for model in models:
        for tp in tps:
            for inst in shard_instances(model, tp, contexts):
                cases.setdefault(inst.case, inst)

    def saved() -> None:
        doc["meta"] = {"models": list(models), "tp": list(tps), "contexts": list(contexts), "chips": list(chips),
                       "note": "per-device instances of N-way tensor parallelism (models/alspec/tp_table.py); "
                               "contexts above the largest are extrapolated by ttl_kernels.perf.decoder.lookup",
                       "figures": {c: {k: v.value for k, v in perf_decoder.figures(c).items()} for c in chips},
                       "sources": sources_digest()}
        save(doc, path)

    perf_decoder.model_instances(cases, chips, rows, saved, log)
    return doc


# ------------------------------------------------------------------------------------------ verification blocks

BLOCK_ROWS = 16
BLOCK_CONTEXTS = (1024, 2048, 4096)


def block_key(kernel: str, rows: int, n_q: int, n_kv: int, head_dim: int, ctx: int, chunk: int = 128) -> str:
    return f"{kernel}:rows={rows},n_q={n_q},n_kv={n_kv},head_dim={head_dim},s_max={ctx},chunk_size={chunk}"


def build_block(rows: int = BLOCK_ROWS, contexts=BLOCK_CONTEXTS, n_q: int = 32, n_kv: int = 8, head_dim: int = 128,
                chunk: int = 128, path: Path = TABLE_PATH, log=print) -> dict:
    """Model the attention of a verification block on the simulator: ``rows`` query rows of one sequence at
    positions ``ctx - rows .. ctx - 1`` reading one cache (``shared_kv``), plain flash decode and the speculative
    kernel (:func:`models.alspec.dflash_verify.speculative_block`), stored under ``"block"`` (a few contexts: the
    simulation grows with rows x context; :mod:`models.alspec.dflash_runs` extends them with the equivalence these
    rows check)."""
    import torch

    from ttl_kernels import host, runtime

    runtime.use_backend("sim")
    from ttl_kernels.attention import flash_decode
    from ttl_kernels.attention._layout import decode_q_to_tiles, kv_cache_to_tiles
    from ttl_kernels.perf.run import model_call

    from .dflash_verify import speculative_block

    doc = load(path)
    block = doc.setdefault("block", {})
    for ctx in contexts:
        q = host.to_device(decode_q_to_tiles(torch.zeros(rows, n_q, head_dim), n_kv), "bf16")
        kv = host.to_device(kv_cache_to_tiles(torch.zeros(1, n_kv, ctx, head_dim)), "bf16")
        pos = list(range(ctx - rows, ctx))
        for kernel, fn, kw in (("flash_decode", flash_decode, dict(shared_kv=True, chunk_size=chunk)),
                               ("speculative_decode", speculative_block,
                                dict(lambda_=0.1, chunk=chunk, n_q=n_q, kv_dtype="bf16", shared=True))):
            key = block_key(kernel, rows, n_q, n_kv, head_dim, ctx, chunk)
            if CHIP in block.get(key, {}):
                continue
            t0 = time.perf_counter()
            res = model_call(fn, q, kv, kv, pos, chips=(CHIP,), **kw)
            block[key] = {"kernel": kernel, "params": dict(rows=rows, n_q=n_q, n_kv=n_kv, head_dim=head_dim, s_max=ctx,
                                                           chunk_size=chunk),
                          CHIP: perf_decoder.summarize(res[CHIP])}
            save(doc, path)
            log(f"{key}: {block[key][CHIP]['model_us']:.1f} us  sim {time.perf_counter() - t0:.0f} s")
    return doc


def _block_rows(doc: dict, kernel: str, rows: int, n_q: int, n_kv: int, head_dim: int, chunk: int) -> dict[int, float]:
    out = {}
    for r in doc.get("block", {}).values():
        p = r["params"]
        if (r["kernel"], p["rows"], p["n_q"], p["n_kv"], p["head_dim"], p["chunk_size"]) == \
                (kernel, rows, n_q, n_kv, head_dim, chunk) and CHIP in r:
            out[p["s_max"]] = r[CHIP]["model_us"]
    return out


def block_attention(kernel: str, rows: int, params: dict, doc: dict | None = None) -> float:
    """Modelled us of a verification block's attention: ``rows`` rows of one sequence at context ``params["s_max"]``
    (``params``: the single-row attention instance with the device's heads).  Measured where :func:`build_block`
    modelled it, else affine in the context through the two largest measured contexts: a block keeps every core
    busy from 1K on, so its time grows by whole chunks per core (:func:`block_check`: the measured points lie on a
    line, with a slope proportional to the KV heads)."""
    doc = doc or load()
    n_q, n_kv, d, ctx, chunk = (params[k] for k in ("n_q", "n_kv", "head_dim", "s_max", "chunk_size"))
    pts = _block_rows(doc, kernel, rows, n_q, n_kv, d, chunk)
    if ctx in pts:
        return pts[ctx]
    if len(pts) < 2:
        raise KeyError(f"no measured {kernel} block of {rows} rows with {n_q} q / {n_kv} kv heads at two contexts "
                       "(python -m models.alspec.tp_table --block)")
    (x0, y0), (x1, y1) = sorted(pts.items())[-2:]
    return max(y0 + (ctx - x0) * (y1 - y0) / (x1 - x0), 0.0)


def block_check(doc: dict | None = None) -> list[dict]:
    """Per measured block kernel and heads: the slope (us per 1K tokens of context) and, with three or more
    contexts, how far the middle points lie off the line through the ends (relative)."""
    doc = doc or load()
    groups: dict[tuple, dict[int, float]] = {}
    for r in doc.get("block", {}).values():
        p = r["params"]
        if CHIP in r:
            groups.setdefault((r["kernel"], p["rows"], p["n_q"], p["n_kv"]), {})[p["s_max"]] = r[CHIP]["model_us"]
    out = []
    for (kernel, rows, n_q, n_kv), pts in sorted(groups.items()):
        xs = sorted(pts)
        slope = (pts[xs[-1]] - pts[xs[0]]) / (xs[-1] - xs[0]) * 1024 if len(xs) > 1 else None
        off = max((abs(pts[x] - (pts[xs[0]] + (x - xs[0]) * slope / 1024)) / pts[x] for x in xs[1:-1]), default=None) \
            if slope is not None else None
        out.append({"kernel": kernel, "rows": rows, "n_q": n_q, "n_kv": n_kv, "us": {str(x): pts[x] for x in xs},
                    "us_per_1k_tokens": slope, "max_rel_off_line": off})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--tp", default=",".join(map(str, TP_DEGREES)))
    ap.add_argument("--contexts", default=",".join(map(str, CONTEXTS)))
    ap.add_argument("--block", action="store_true", help="also model verification-block attention (minutes)")
    a = ap.parse_args(argv)
    build(a.models.split(","), [int(t) for t in a.tp.split(",")], [int(c) for c in a.contexts.split(",")])
    if a.block:
        build_block()
        for tp in TP_DEGREES:  # the shards' heads (Llama-3.1-8B and Qwen3-8B share 32 q / 8 kv heads of 128)
            build_block(n_q=32 // tp, n_kv=8 // tp, contexts=BLOCK_CONTEXTS[:2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
