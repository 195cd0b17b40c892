"""The kernels of one decode step at a model's shapes, their modelled times, and the projection matmuls.

A decode step of the kernel-built decoder (``models/decoder_step.py``, batch 1) runs per layer::

    q, k, v projections (ttnn matmuls)  [head_rms_norm q, k: Qwen3]  rope  kv_update
    heads_to_groups  flash_decode  groups_to_heads  o projection  add_rms_norm
    gate, up projections  silu_mul  down projection  add_rms_norm

plus one ``rms_norm`` before the first layer and the LM head after the last.  :func:`instances` lists the
TT-Lang kernel instances of that sequence (registry kernel + parameters, with the op class each belongs to);
the cycle model (:func:`ttl_kernels.perf.model_case`) times each on n150 and p150.  Simulating the long
contexts takes minutes, so :func:`build_table` runs every instance once and ``ttl-perf decoder-table`` writes
the result to ``ttl_kernels/perf/kernel_table.json`` (package data); :func:`lookup` reads it,
interpolating attention linearly between the contexts it holds (its time is affine in the number of chunks
per core).  Models of the ALSpec latency model (``models/alspec/latency.py``) read their kernel times here.

The projections and the LM head are ttnn matmuls, not TT-Lang kernels: :func:`projection` models them as
DRAM-sharded decode matmuls, ``max(weight + activation bytes / matmul DRAM rate, tile matmuls / (banks x
cycles per tile))`` + the op-to-op launch, with the measured decode-matmul DRAM rate (239-260 GB/s on
Wormhole, :mod:`.hardware` ``matmul_dram_gbps``).

Weight precisions (:data:`PRECISIONS`): ``bf16`` everywhere; ``bfp8_b`` everywhere; and tt_transformers'
``performance`` mode (bfp8_b attention weights and LM head, bfp4_b MLP weights with LoFi).  Each names the KV
cache dtype too (bf16 with bf16 weights, bfp8_b otherwise, tt_transformers' default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .hardware import CHIPS, ELEMENT_BYTES, figures
from .model import dispatch_cost

TILE = 32

# op classes of a decode step (the columns of bench/decode_step.py)
OP_CLASSES = ("attention", "matmuls", "norms", "element-wise", "layout", "dispatch")

KERNEL_CLASS = {
    "flash_decode": "attention", "speculative_decode": "attention",
    "rms_norm": "norms", "add_rms_norm": "norms", "head_rms_norm": "norms",
    "rope": "element-wise", "silu_mul": "element-wise", "residual_add": "element-wise", "mesh_select": "element-wise",
    "heads_to_groups": "layout", "groups_to_heads": "layout", "kv_update": "layout",
    "matmul": "matmuls", "projection": "matmuls",
}


@dataclass(frozen=True)
class Precision:
    """Storage formats of a decode step: projection weights by group, the LM head, the KV cache."""

    name: str
    attn: str      # q, k, v, o projections
    mlp: str       # gate, up, down projections
    lm_head: str
    kv: str
    note: str = ""

    def weight(self, group: str) -> str:
        return {"attn": self.attn, "mlp": self.mlp, "lm_head": self.lm_head}[group]


PRECISIONS: dict[str, Precision] = {
    "bf16": Precision("bf16", "bf16", "bf16", "bf16", "bf16", "every weight and the KV cache in bf16"),
    "bfp8_b": Precision("bfp8_b", "bfp8_b", "bfp8_b", "bfp8_b", "bfp8_b", "every weight and the KV cache in bfp8_b"),
    "performance": Precision("performance", "bfp8_b", "bfp4_b", "bfp8_b", "bfp8_b",
                             "tt_transformers' performance mode: bfp8_b attention weights, bfp4_b MLP weights "
                             "(recent versions keep the down projection in bfp8_b), bfp8_b LM head and KV cache"),
}


def fidelity_for(weight_dtype: str) -> str:
    """tt_transformers' decode matmuls run HiFi2; its bfp4_b MLP matmuls LoFi (tt-transformers in hardware.py)."""
    return "LoFi" if weight_dtype == "bfp4_b" else "HiFi2"


# ------------------------------------------------------------------------------------------ projections


def projection(K: int, N: int, weight_dtype: str, chip: str, *, rows: int = TILE, fidelity: str | None = None,
               dispatch: str = "traced", overrides: dict | None = None) -> dict:
    """A ttnn decode matmul ``[rows, K] x [K, N]`` with weights stored as ``weight_dtype``, on ``chip``.

    Returns the fields of a kernel model (times in us): ``dram_us`` (weights + bf16 activations at the measured
    decode-matmul DRAM rate), ``compute_us`` (tile matmuls at ``fidelity`` over one worker per DRAM bank; a
    decode row is padded to a 32-row tile), ``model_us`` = max of the two + launch (+ eager dispatch), ``bound``."""
    f = figures(chip, overrides)
    fid = fidelity or fidelity_for(weight_dtype)
    wbytes = K * N * ELEMENT_BYTES[weight_dtype]
    abytes = (-(-rows // TILE) * TILE) * (K + N) * ELEMENT_BYTES["bf16"]
    dram_us = (wbytes + abytes) / (f["matmul_dram_gbps"].value * 1e3)
    tiles = math.ceil(rows / TILE) * math.ceil(K / TILE) * math.ceil(N / TILE)
    compute_us = tiles * f[f"matmul.{fid}"].value / f["matmul_cores"].value / (f["clock_ghz"].value * 1e3)
    launch, disp = f["launch_us"].value, dispatch_cost(f, dispatch)
    body = max(dram_us, compute_us)
    total = body + launch + disp
    return dict(kernel="projection", K=K, N=N, weight_dtype=weight_dtype, fidelity=fid, chip=chip,
                dram_bytes=int(wbytes + abytes), dram_us=dram_us, compute_us=compute_us, handoff_us=0.0, noc_us=0.0,
                launch_us=launch, dispatch_us=disp, model_us=total, launches=1,
                bound="dispatch" if launch + disp > body else ("dram" if dram_us >= compute_us else "compute"),
                useful_gbps=(wbytes + abytes) / (total * 1e3), ratio_to_dram=total / dram_us)


# ------------------------------------------------------------------------------------------ instances


@dataclass(frozen=True)
class Instance:
    """One TT-Lang kernel call of a decode step: ``kernel`` with ``params`` (a registry case), ``count`` calls per
    layer (``per="layer"``) or per step (``per="step"``)."""

    label: str
    kernel: str
    params: dict = field(hash=False)
    per: str = "layer"
    count: int = 1

    @property
    def op_class(self) -> str:
        return KERNEL_CLASS[self.kernel]

    @property
    def case(self) -> str:
        return case_key(self.kernel, self.params)


def case_key(kernel: str, params: dict) -> str:
    from ..compile import format_case

    return format_case(kernel, params)


def shape(model: str) -> dict:
    from ..shapes import MODEL_SHAPES

    try:
        return MODEL_SHAPES[model]
    except KeyError:
        raise ValueError(f"model must be one of {sorted(MODEL_SHAPES)}; got {model!r}") from None


def attention_params(model: str, ctx: int, kv_dtype: str = "bf16", chunk: int = 128) -> dict:
    m = shape(model)
    return dict(batch=1, n_q=m["n_q"], n_kv=m["n_kv"], head_dim=m["head_dim"], s_max=ctx, pos=ctx - 1,
                chunk_size=chunk, kv_dtype=kv_dtype)


def instances(model: str, ctx: int, kv_dtype: str = "bf16", chunk: int = 128, alspec: bool = False) -> list[Instance]:
    """The TT-Lang kernel calls of one decode step of ``model`` (batch 1, ``ctx`` tokens of KV cache).  ``alspec``
    adds the kernels ALSpec runs besides: the speculative decode (exact + speculative attention + verdict in one
    pass) and the priority select of the residual swap (``mesh_select``)."""
    m = shape(model)
    H, nq, nkv, d = m["hidden"], m["n_q"], m["n_kv"], m["head_dim"]
    row = dict(rows=TILE, cols=H, dtype="bf16", eps=m["eps"], passes=1)
    out = [Instance("rmsnorm", "rms_norm", row, "step")]
    if m["arch"] == "qwen3":
        out += [Instance("q_norm", "head_rms_norm", dict(rows=TILE, heads=nq, head_dim=d, dtype="bf16", eps=m["eps"])),
                Instance("k_norm", "head_rms_norm", dict(rows=TILE, heads=nkv, head_dim=d, dtype="bf16", eps=m["eps"]))]
    heads = dict(batch=1, n_q=nq, n_kv=nkv, head_dim=d)
    out += [
        Instance("rope", "rope", dict(rows=TILE, seq=TILE, n_q=nq, n_kv=nkv, head_dim=d, model=model, dtype="bf16")),
        Instance("kv_update", "kv_update", dict(batch=1, n_kv=nkv, head_dim=d)),
        Instance("heads_to_groups", "heads_to_groups", heads),
        Instance("attention", "flash_decode", attention_params(model, ctx, kv_dtype, chunk)),
        Instance("groups_to_heads", "groups_to_heads", heads),
        Instance("add_rmsnorm", "add_rms_norm", row, count=2),
        Instance("silu_mul", "silu_mul", dict(rows=TILE, cols=m["intermediate"], dtype="bf16")),
    ]
    if alspec:
        out += [Instance("speculative", "speculative_decode", attention_params(model, ctx, kv_dtype, chunk)),
                Instance("swap_select", "mesh_select", dict(rows=TILE, cols=H, dtype="bf16"))]
    return out


def projections(model: str) -> list[tuple[str, str, int, int, str]]:
    """(label, weight group, K, N, per) of the decode step's matmuls."""
    m = shape(model)
    H, q, kv, inter = m["hidden"], m["n_q"] * m["head_dim"], m["n_kv"] * m["head_dim"], m["intermediate"]
    return [("wq", "attn", H, q, "layer"), ("wk", "attn", H, kv, "layer"), ("wv", "attn", H, kv, "layer"),
            ("wo", "attn", q, H, "layer"), ("w_gate", "mlp", H, inter, "layer"), ("w_up", "mlp", H, inter, "layer"),
            ("w_down", "mlp", inter, H, "layer"), ("lm_head", "lm_head", H, m["vocab"], "step")]


def weight_bytes(model: str, precision: Precision) -> float:
    """Projection weights + LM head as stored, plus the bf16 embedding table and norm weights."""
    m = shape(model)
    proj = sum(K * N * ELEMENT_BYTES[precision.weight(group)] * (m["layers"] if per == "layer" else 1)
               for _, group, K, N, per in projections(model))
    norms = (2 * m["layers"] + 1) * m["hidden"] * 2.0
    return proj + m["vocab"] * m["hidden"] * 2.0 + norms


def kv_bytes(model: str, ctx: int, kv_dtype: str, batch: int = 1) -> float:
    m = shape(model)
    return m["layers"] * batch * 2 * m["n_kv"] * ctx * m["head_dim"] * ELEMENT_BYTES[kv_dtype]


# ------------------------------------------------------------------------------------------ the table


def summarize(km) -> dict:
    """The fields of a :class:`ttl_kernels.perf.KernelModel` the table keeps."""
    return dict(model_us=round(km.model_us, 4), dram_us=round(km.dram_us, 4), compute_us=round(km.compute_us, 4),
                handoff_us=round(km.handoff_us, 4), noc_us=round(km.noc_us, 4), launch_us=round(km.launch_us, 4),
                bound=km.bound, launches=len(km.launches), dram_bytes=km.dram_bytes,
                ratio_to_dram=round(km.ratio_to_dram, 4),
                useful_gbps=None if km.useful_gbps is None else round(km.useful_gbps, 2))


def build_table(models, contexts, kv_dtypes=("bf16",), chips=CHIPS, chunk: int = 128, alspec: bool = True,
                log=print, done: dict | None = None, save=None) -> dict:
    """Model every kernel instance of ``models`` at ``contexts`` (attention) and ``kv_dtypes`` on ``chips``:
    ``{"rows": {case: {chip: fields}}, "meta": ...}``; each instance runs once per chip on the simulator, shortest
    context first.  ``done``: rows already modelled (kept, not rerun, and kept in the result even when this
    call does not ask for them: a table can be built in parts); ``save(doc)``: called after every row."""
    cases: dict[str, Instance] = {}
    for model in models:
        for ctx in contexts:
            for kv in kv_dtypes:
                for inst in instances(model, ctx, kv, chunk, alspec):
                    cases.setdefault(inst.case, inst)
    rows = {k: v for k, v in (done or {}).items() if any(c in v for c in CHIPS)}

    def meta() -> dict:
        attn = [r["params"] for r in rows.values() if "s_max" in r["params"]]
        return {"models": sorted(set(models) | {r["params"]["model"] for r in rows.values() if "model" in r["params"]}),
                "contexts": sorted({p["s_max"] for p in attn}), "kv_dtypes": sorted({p["kv_dtype"] for p in attn}),
                "chips": [c for c in CHIPS if any(c in r for r in rows.values())], "chunk": chunk,
                "figures": {c: _figure_digest(c) for c in CHIPS}}

    model_instances(cases, chips, rows, (lambda: save({"meta": meta(), "rows": rows})) if save else None, log)
    return {"meta": meta(), "rows": rows}


def model_instances(cases: dict[str, Instance], chips, rows: dict, saved=None, log=print) -> dict:
    """Model (on the simulator, once per chip) every instance of ``cases`` that ``rows`` lacks for some chip,
    shortest context first, into ``rows`` (returned); ``saved()`` is called after every row, so a killed build
    resumes from what it saved."""
    import time

    from .run import model_case

    todo = sorted((kv for kv in cases.items() if not all(c in rows.get(kv[0], {}) for c in chips)),
                  key=lambda kv: (kv[1].params.get("s_max", 0), kv[0]))
    for i, (key, inst) in enumerate(todo):
        t0 = time.perf_counter()
        res = model_case(inst.kernel, inst.params, chips, seed=None)
        rows[key] = {**rows.get(key, {}), "kernel": inst.kernel, "params": inst.params, "min_bytes": res["min_bytes"],
                     **{chip: summarize(res[chip]) for chip in chips}}
        log(f"[{i + 1}/{len(todo)}] {key}: " + ", ".join(
            f"{c} {rows[key][c]['model_us']:.1f} us ({rows[key][c]['bound']})" for c in chips)
            + f"  sim {time.perf_counter() - t0:.0f} s")
        if saved is not None:
            saved()
    return rows


def _figure_digest(chip: str) -> dict:
    return {k: v.value for k, v in figures(chip).items()}


TABLE_FILE = "kernel_table.json"  # package data, written by ``ttl-perf decoder-table``: do not edit


def write_table(doc: dict, path) -> None:
    """Write the table as JSON (package data, so it ships with the package)."""
    import json
    from pathlib import Path

    Path(path).write_text(json.dumps(doc, indent=0, sort_keys=True) + "\n")


_TABLE: dict | None = None


def table() -> dict:
    """The shipped table (empty when it has not been built)."""
    global _TABLE
    if _TABLE is None:
        import json
        from pathlib import Path

        path = Path(__file__).with_name(TABLE_FILE)
        _TABLE = json.loads(path.read_text()) if path.is_file() else {"meta": {}, "rows": {}}
    return _TABLE


def stale_figures(chip: str) -> list[str]:
    """Figures whose value changed since the table was built (its times are then out of date)."""
    built = table().get("meta", {}).get("figures", {}).get(chip, {})
    now = _figure_digest(chip)
    return sorted(k for k in now if k in built and built[k] != now[k])


def lookup(kernel: str, params: dict, chip: str, doc: dict | None = None) -> dict | None:
    """The table's fields of an instance on ``chip`` (None when it has no such instance).  Attention instances
    at a context the table lacks for ``chip`` are interpolated linearly in ``s_max`` (``pos = s_max - 1``)
    between the two nearest it holds, beyond the largest extrapolated from the last two (per-core work grows
    by whole chunks, so the time is affine in the context once every core has several); ``bound`` and
    ``launches`` come from the nearer one."""
    rows = (doc or table()).get("rows", {})
    key = case_key(kernel, params)
    if key in rows and chip in rows[key]:
        return rows[key][chip]
    if "s_max" not in params:
        return None
    rest = {k: v for k, v in params.items() if k not in ("s_max", "pos")}
    pts = sorted((r["params"]["s_max"], r[chip]) for r in rows.values()
                 if r["kernel"] == kernel and chip in r and r["params"].get("pos") == r["params"]["s_max"] - 1
                 and {k: v for k, v in r["params"].items() if k not in ("s_max", "pos")} == rest)
    if len(pts) < 2 or params.get("pos", params["s_max"] - 1) != params["s_max"] - 1:
        return None
    x = params["s_max"]
    i = next((j for j in range(1, len(pts)) if pts[j][0] >= x), len(pts) - 1)
    (x0, a), (x1, b) = pts[i - 1], pts[i]
    w = (x - x0) / (x1 - x0)
    out = {k: a[k] + w * (b[k] - a[k]) for k in ("model_us", "dram_us", "compute_us", "handoff_us", "noc_us",
                                                 "launch_us")}
    near = a if w < 0.5 else b
    out.update(bound=near["bound"], launches=near["launches"], interpolated=[x0, x1],
               dram_bytes=int(a["dram_bytes"] + w * (b["dram_bytes"] - a["dram_bytes"])))
    out["model_us"] = max(out["model_us"], 0.0)
    return out
