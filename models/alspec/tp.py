"""Tensor parallelism on the simulator's 1xN mesh: the decode step of :func:`models.decoder_step.decode_step` with the
weights sharded over N devices, the TT-Lang kernels run per device on its shard, and ttnn's mesh collectives
between them.  The op sequence the 8-device timeline (:mod:`models.alspec.tp_timeline`) times, at tiny shapes.

Sharding (Megatron-style, what tt_transformers does on a T3000)::

    embedding, input / post-attention norms, residual adds      replicated (every device holds the whole stream)
    q, k, v projections                                          column-parallel: device d's heads [d n/N, (d+1) n/N)
    q/k head norms, RoPE, KV-cache update, flash decode          per device on its n_q / N query, n_kv / N KV heads
    o projection                                                 row-parallel (its heads' rows) -> all-reduce
    gate, up projections / SiLU*mul                              column-parallel: intermediate columns / N
    down projection                                              row-parallel -> all-reduce
    LM head                                                      vocab-parallel: V / N columns -> all-gather (dim 1)

The weights are distributed with ``ttnn.from_torch(..., mesh_mapper=ttnn.ShardTensorToMesh(mesh, dim))`` (the
column / row / vocab dimension); each device's shard is then a device tensor of its own on which that device's
kernels run.  The collectives are ``ttnn.all_reduce`` and ``ttnn.all_gather`` on mesh tensors whose device ``d``
shard is device ``d``'s tensor (:func:`mesh_stack`), read back per device with the ``ConcatMeshToTensor`` layout.

What the simulator shows and what it does not (as for the 1x2 mesh, :mod:`ttl_kernels.ccl`): the values each device
holds, bit for bit as its kernels compute them, and the collectives' results; not the fabric (``all_reduce`` /
``all_gather`` are host sums / concatenations in the simulator), not concurrency (the N devices run one after the
other), not per-device memory.  The sum of ``all_reduce`` is rounded once to the tensor's dtype (a device's ring
reduction rounds after each of its N - 1 additions; both are within the dtype's rounding of the exact sum).

Equality with one device (:class:`models.kernel_model.KernelOps`, the same kernels on the whole model): with fp32
activations the only difference is the order of the sums the row-parallel projections split (partial products per
device, then the all-reduce), so logits agree to rounding (PCC >= 0.999) and greedy tokens are identical
(``tests/test_alspec_tp.py``); attention, norms and RoPE are per head or per row and split exactly.

    python -m models.alspec.tp [--tp 8,4] [--steps 4] [--dtype fp32,bf16] [--json bench/results/alspec_tp8_sim.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from reference.decoder import Decoder, KVCache
from ttl_kernels import host, runtime
from ttl_kernels.attention._layout import kv_cache_to_tiles
from ttl_kernels.host import TileTensor, quantize

from ..decoder_step import LayerWeights, decode_step, shared_block
from ..kernel_model import KernelOps
from ..protocols import CacheCopies

TILE = 32
_MESHES: dict[int, Any] = {}


class Shards(tuple):
    """One value per device of the mesh."""


# ------------------------------------------------------------------------------------------ mesh plumbing


def open_mesh(n: int) -> Any:
    """The process's 1 x ``n`` mesh device (simulator), opened on first use."""
    if n not in _MESHES:
        ttnn = runtime.ttnn
        _MESHES[n] = ttnn.open_mesh_device(ttnn.MeshShape(1, n))
    return _MESHES[n]


def mesh_size(mesh: Any) -> int:
    shape = mesh.shape
    rows, cols = (shape.rows, shape.cols) if hasattr(shape, "rows") else tuple(shape)
    if rows != 1:
        raise ValueError(f"mesh: expected a 1xN mesh; got {rows}x{cols}")
    return int(cols)


def _require_sim() -> None:
    if not runtime.is_sim():
        raise RuntimeError("models.alspec.tp runs on the simulator's mesh (on a mesh device the per-device tensors "
                           "are the mesh tensor's shards: ttnn.get_device_tensors / combine_device_tensors); backend "
                           f"is {runtime.backend_name()!r}")


def shard_to_devices(t: torch.Tensor, dim: int, mesh: Any, dtype: str) -> list[TileTensor]:
    """A host matrix distributed over the mesh along ``dim`` (``ShardTensorToMesh``): one device tensor per device,
    ``t.shape[dim] / N`` wide (a whole number of tiles)."""
    _require_sim()
    n = mesh_size(mesh)
    if t.shape[dim] % (n * TILE):
        raise ValueError(f"t: dimension {dim} ({t.shape[dim]}) must split into {n} whole tiles")
    ttnn = runtime.ttnn
    q = quantize(t.float(), dtype)
    mt = ttnn.from_torch(q, dtype=host._ttnn_dtype(dtype), layout=ttnn.TILE_LAYOUT, device=mesh,
                         mesh_mapper=ttnn.ShardTensorToMesh(mesh, dim=dim))
    info = mt.mesh_shard_info
    assert info is not None and info.num_devices == n and info.dim == dim, info
    g = mt.to_torch()  # the simulator's mesh tensor is the global tensor; device d holds slice d along dim
    w = t.shape[dim] // n
    parts = [g.narrow(dim, d * w, w).contiguous() for d in range(n)]
    return [TileTensor(ttnn.from_torch(p, dtype=mt.dtype, layout=ttnn.TILE_LAYOUT), tuple(p.shape), dtype)
            for p in parts]


def mesh_stack(parts: list[TileTensor], mesh: Any) -> Any:
    """The mesh tensor whose device ``d`` shard is ``parts[d]`` (simulator: their storages stacked along dim 0;
    nothing is rounded or moved)."""
    _require_sim()
    if len(parts) != mesh_size(mesh) or len({(p.shape, p.dtype) for p in parts}) != 1:
        raise ValueError(f"parts: expected {mesh_size(mesh)} device tensors of one shape and dtype; got "
                         f"{[(p.shape, p.dtype) for p in parts]}")
    ttnn = runtime.ttnn
    g = torch.cat([p.tt.to_torch() for p in parts], dim=0)
    return ttnn.from_torch(g, dtype=parts[0].tt.dtype, layout=ttnn.TILE_LAYOUT, device=mesh,
                           mesh_mapper=ttnn.ShardTensorToMesh(mesh, dim=0))


def _unstack(mt: Any, mesh: Any, like: TileTensor, cols: int) -> Shards:
    """Device ``d``'s part of a collective's result (ConcatMeshToTensor along dim 0), stored in ``like``'s dtype."""
    ttnn = runtime.ttnn
    n = mesh_size(mesh)
    g = ttnn.to_torch(mt, mesh_composer=ttnn.ConcatMeshToTensor(mesh, dim=0)).float()
    rp = g.shape[0] // n
    out = []
    for d in range(n):
        part = quantize(g[d * rp:(d + 1) * rp], like.dtype)
        out.append(TileTensor(ttnn.from_torch(part, dtype=like.tt.dtype, layout=ttnn.TILE_LAYOUT),
                              (like.shape[0], cols), like.dtype))
    return Shards(out)


def all_reduce(parts: list[TileTensor], mesh: Any) -> Shards:
    """``ttnn.all_reduce``: every device ends with the sum of the devices' tensors (rounded to their dtype)."""
    mt = runtime.ttnn.all_reduce(mesh_stack(list(parts), mesh))
    return _unstack(mt, mesh, parts[0], parts[0].shape[1])


def all_gather_cols(parts: list[TileTensor], mesh: Any) -> Shards:
    """``ttnn.all_gather(dim=1)``: every device ends with the devices' ``[R, C]`` tensors side by side ``[R, N C]``
    (each part a whole number of tiles wide)."""
    if parts[0].shape[1] % TILE:
        raise ValueError(f"parts: the gathered width {parts[0].shape[1]} must be whole tiles")
    mt = runtime.ttnn.all_gather(mesh_stack(list(parts), mesh), dim=1)
    return _unstack(mt, mesh, parts[0], parts[0].shape[1] * len(parts))


# ------------------------------------------------------------------------------------------ sharded weights


@dataclass
class Column:
    """A column-parallel projection: device d multiplies by ``parts[d]`` (its output columns)."""

    parts: list


@dataclass
class Row:
    """A row-parallel projection: device d multiplies its input shard by ``parts[d]``; the partial products are
    summed by an all-reduce."""

    parts: list


@dataclass
class Vocab:
    """The vocab-parallel LM head: column-parallel, then an all-gather of the logit columns."""

    parts: list


@dataclass
class TPCache(CacheCopies):
    """Each device's KV cache of its KV heads (:class:`KernelCache`); the speculative loop's cache interface."""

    caches: Shards


def shard_config(config, tp: int):
    """The per-device config of ``tp``-way tensor parallelism (ValueError when heads, intermediate or vocabulary do
    not split into whole heads and tiles)."""
    c = config
    bad = [name for name, v, unit in (("num_heads", c.num_heads, 1), ("num_kv_heads", c.num_kv_heads, 1),
                                      ("intermediate_size", c.intermediate_size, TILE),
                                      ("vocab_size", c.vocab_size, TILE)) if v % (tp * unit)]
    if bad:
        raise ValueError(f"tp: {bad} of the model do not split {tp} ways (heads whole, columns whole tiles)")
    return dataclasses.replace(c, num_heads=c.num_heads // tp, num_kv_heads=c.num_kv_heads // tp,
                               intermediate_size=c.intermediate_size // tp, vocab_size=c.vocab_size // tp)


class TPModel:
    """A :class:`reference.decoder.Decoder` sharded over a 1 x ``tp`` mesh (module docstring).

    ``step(cache, ids)`` is :meth:`models.kernel_model.KernelOps.step` on the mesh: one token per user, or a block of
    one sequence (prefill chunks, verification blocks).  ``op_log``: (op, kind) per mesh-wide op of the last step."""

    def __init__(self, model: Decoder, tp: int = 8, *, max_seq_len: int = 128, dtype: str = "fp32",
                 kv_dtype: str = "bf16", chunk_size: int = 128, mesh: Any = None):
        _require_sim()
        self.tp = int(tp)
        self.mesh = mesh if mesh is not None else open_mesh(self.tp)
        if mesh_size(self.mesh) != self.tp:
            raise ValueError(f"mesh: expected 1x{self.tp}; got 1x{mesh_size(self.mesh)}")
        self.model, self.config = model, model.config
        self.shard = shard_config(model.config, self.tp)
        self.base = KernelOps(model, max_seq_len, dtype, kv_dtype, chunk_size)  # the embedding table, dtypes, chunk
        self.devices = Shards(self._device_ops() for _ in range(self.tp))
        self.dtype, self.kv_dtype = self.base.dtype, self.base.kv_dtype
        self.op_log: list[tuple[str, str]] = []
        self._weights = self._shard_weights()

    def _device_ops(self) -> KernelOps:
        b = self.base
        ops = KernelOps.__new__(KernelOps)
        ops._setup(self.shard, b.max_seq_len, b.dtype, b.kv_dtype, b.chunk, b.weights_dtype)
        ops._table = b._table
        return ops

    def _shard_weights(self):
        m, c = self.model, self.config
        wdt, vec = self.base.weights_dtype, self.base.vec

        def cols(t):  # torch Linear [out, in] -> [in, out] split along out
            return Column(shard_to_devices(t.detach().float().T.contiguous(), 1, self.mesh, wdt))

        def rows(t):  # torch Linear [out, in] -> [in, out] split along in
            return Row(shard_to_devices(t.detach().float().T.contiguous(), 0, self.mesh, wdt))

        ws = []
        for layer in m.layers:
            a, mlp = layer.self_attn, layer.mlp
            ws.append(LayerWeights(
                ln1=vec(layer.input_layernorm.weight), wq=cols(a.q_proj.weight), wk=cols(a.k_proj.weight),
                wv=cols(a.v_proj.weight), wo=rows(a.o_proj.weight), ln2=vec(layer.post_attention_layernorm.weight),
                wg=cols(mlp.gate_proj.weight), wu=cols(mlp.up_proj.weight), wd=rows(mlp.down_proj.weight),
                qn=vec(a.q_norm.weight) if c.qk_norm else None, kn=vec(a.k_norm.weight) if c.qk_norm else None))
        lm = Vocab(shard_to_devices(m.lm_head.weight.detach().float().T.contiguous(), 1, self.mesh, wdt))
        return ws, vec(m.norm.weight), lm

    # -- caches ------------------------------------------------------------------------------------------

    def new_cache(self, batch: int = 1) -> TPCache:
        return TPCache(Shards(d.new_cache(batch) for d in self.devices))

    def load_cache(self, cache: TPCache, ref: KVCache) -> None:
        """Hand a reference (host) KV cache to the devices: device d receives its KV heads."""
        g = self.shard.num_kv_heads
        for d, (dev, dc) in enumerate(zip(self.devices, cache.caches)):
            for i in range(self.config.num_layers):
                for dst, src in ((dc.k, ref.k[i]), (dc.v, ref.v[i])):
                    full = torch.zeros(src.shape[0], g, dev.max_seq_len, src.shape[3])
                    full[:, :, :src.shape[2]] = src[:, d * g:(d + 1) * g].float()
                    dst[i] = host.to_device(kv_cache_to_tiles(full), dev.kv_dtype)
            dc.lengths.copy_(ref.lengths)

    # -- one step -----------------------------------------------------------------------------------------

    def step(self, cache: TPCache, ids: list[int], attention=None) -> TileTensor:
        """One step on every device; returns device 0's logits ``[rows, V]`` (every device holds the same)."""
        c0 = cache.caches[0]
        one_seq = shared_block(int(c0.lengths.shape[0]), len(ids))
        positions = ([int(c0.lengths[0]) + i for i in range(len(ids))] if one_seq
                     else [int(p) for p in c0.lengths.tolist()])
        if any(p >= c0.max_seq_len for p in positions):
            raise ValueError(f"cache: full (max_seq_len {c0.max_seq_len}); positions {positions}")
        self.op_log = []
        ws, fn, lm = self._weights
        logits, _ = decode_step(TPOps(self), ws, fn, lm, cache, list(ids), positions, attention=attention)
        for dc in cache.caches:
            dc.lengths += len(ids) if one_seq else 1
        return logits[0]

    def decode(self, cache: TPCache, ids: list[int]) -> torch.Tensor:
        return host.to_torch(self.step(cache, ids))


class TPOps:
    """The decode step's ops on the mesh: every op once per device on that device's tensors (:class:`Shards`),
    replicated tensors (norm weights) shared; projections by their parallel style."""

    def __init__(self, tp: TPModel):
        self.tp, self.config, self.devices = tp, tp.config, tp.devices

    def _each(self, name: str, fn, *args) -> Shards:
        self.tp.op_log.append((name, "per-device"))
        n = len(self.devices)
        return Shards(fn(d, *(a[d] if isinstance(a, Shards) else a for a in args)) for d in range(n))

    def _pair(self, name: str, fn, *args) -> tuple[Shards, Shards]:
        out = self._each(name, fn, *args)
        return Shards(o[0] for o in out), Shards(o[1] for o in out)

    def embed(self, ids):
        return self._each("embed", lambda d, i: self.devices[d].embed(i), list(ids))

    def rmsnorm(self, x, w):
        return self._each("rmsnorm", lambda d, a, b: self.devices[d].rmsnorm(a, b), x, w)

    def add_rmsnorm(self, x, r, w):
        return self._pair("add_rmsnorm", lambda d, a, b, c: self.devices[d].add_rmsnorm(a, b, c), x, r, w)

    def head_rmsnorm(self, x, w, n_heads):
        return self._each("head_rmsnorm", lambda d, a, b: self.devices[d].head_rmsnorm(a, b, n_heads), x, w)

    def rope(self, q, k, positions):
        return self._pair("rope", lambda d, a, b: self.devices[d].rope(a, b, positions), q, k)

    def kv_update(self, cache: TPCache, layer, k, v, positions):
        self._each("kv_update", lambda d, c, a, b: self.devices[d].kv_update(c, layer, a, b, positions),
                   cache.caches, k, v)

    def attention(self, layer, q, cache: TPCache, positions):
        return self._each("attention", lambda d, a, c: self.devices[d].attention(layer, a, c, positions), q,
                          cache.caches)

    def silu_mul(self, g, u):
        return self._each("silu_mul", lambda d, a, b: self.devices[d].silu_mul(a, b), g, u)

    def matmul(self, x, w):
        parts = Shards(w.parts)
        out = self._each("matmul", lambda d, a, b: self.devices[d].matmul(a, b), x, parts)
        if isinstance(w, Row):
            self.tp.op_log.append(("all_reduce", "collective"))
            return all_reduce(list(out), self.tp.mesh)
        if isinstance(w, Vocab):
            self.tp.op_log.append(("all_gather", "collective"))
            return all_gather_cols(list(out), self.tp.mesh)
        if not isinstance(w, Column):
            raise ValueError(f"w: expected a Column, Row or Vocab projection; got {type(w).__name__}")
        return out


# ------------------------------------------------------------------------------------------ the comparison


def tiny_model(arch: str = "qwen3", heads: int = 8, kv_heads: int = 8, layers: int = 2, seed: int = 0) -> Decoder:
    """A random tiny decoder whose heads split 8 ways (hidden 256, head_dim 64, intermediate 512, vocab 512)."""
    from reference.config import DecoderConfig

    llama3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
              "original_max_position_embeddings": 64}
    cfg = DecoderConfig(arch=arch, vocab_size=512, hidden_size=256, intermediate_size=512, num_layers=layers,
                        num_heads=heads, num_kv_heads=kv_heads, head_dim=64, qk_norm=arch == "qwen3",
                        tie_word_embeddings=False, rope_theta=1e6 if arch == "qwen3" else 5e5,
                        rope_scaling=llama3 if arch == "llama" else None)
    torch.manual_seed(seed)
    m = Decoder(cfg).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 0.15 if p.dim() > 1 else 0.5).add_(1.0 if p.dim() == 1 else 0.0)
    return m


def pcc(a: torch.Tensor, b: torch.Tensor) -> float:
    from ttl_kernels.testing import pcc as _pcc

    return _pcc(a, b)


@torch.inference_mode()
def compare(model: Decoder, tp: int, prompt: list[int], steps: int, *, dtype: str = "fp32",
            max_seq_len: int = 128) -> dict:
    """Prefill ``prompt`` as one block and decode ``steps`` greedy tokens on the 1 x ``tp`` mesh and on one device
    (:class:`KernelOps`, the same kernels on the whole model); per step: both argmaxes and the logits' PCC and
    max difference."""
    one = KernelOps(model, max_seq_len, dtype)
    tpm = TPModel(model, tp, max_seq_len=max_seq_len, dtype=dtype)
    c1, ct = one.new_cache(1), tpm.new_cache(1)
    t0 = time.perf_counter()
    a = host.to_torch(one.step(c1, prompt)[0])
    t1 = time.perf_counter()
    b = tpm.decode(ct, prompt)
    t2 = time.perf_counter()
    rows = [_row("prefill", a[-1], b[-1], a, b)]
    sec = {"single": t1 - t0, "mesh": t2 - t1}
    tok1, tokt = [int(a[-1].argmax())], [int(b[-1].argmax())]
    for s in range(steps):
        t0 = time.perf_counter()
        a = host.to_torch(one.step(c1, [tok1[-1]])[0])
        t1 = time.perf_counter()
        b = tpm.decode(ct, [tokt[-1]])
        t2 = time.perf_counter()
        sec["single"] += t1 - t0
        sec["mesh"] += t2 - t1
        rows.append(_row(f"decode {s + 1}", a[-1], b[-1], a, b))
        tok1.append(int(a[-1].argmax()))
        tokt.append(int(b[-1].argmax()))
    collectives = sum(1 for _, kind in tpm.op_log if kind == "collective")
    per_device = sum(1 for _, kind in tpm.op_log if kind == "per-device")
    c = model.config
    return {"mesh": f"1x{tp}", "tp": tp, "arch": c.arch, "dtype": dtype, "layers": c.num_layers,
            "heads": [c.num_heads, c.num_kv_heads], "per_device_heads": [c.num_heads // tp, c.num_kv_heads // tp],
            "hidden": c.hidden_size, "intermediate": c.intermediate_size, "vocab": c.vocab_size,
            "prompt_tokens": len(prompt), "steps": rows, "tokens_single": tok1, "tokens_mesh": tokt,
            "tokens_equal": tok1 == tokt, "min_pcc": min(r["pcc"] for r in rows),
            "ops_per_decode_step": {"per_device": per_device, "collectives": collectives},
            "seconds": sec}


def _row(name: str, la: torch.Tensor, lb: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> dict:
    return {"step": name, "argmax_single": int(la.argmax()), "argmax_mesh": int(lb.argmax()), "pcc": pcc(a, b),
            "max_abs_diff": float((a - b).abs().max()), "bit_identical": bool(torch.equal(a, b))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tp", default="8,4", help="mesh widths to run (comma-separated)")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--dtype", default="fp32,bf16", help="activation dtypes to run (comma-separated: fp32, bf16)")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    runtime.use_backend("sim")
    out = []
    prompt = list(range(40, 64))
    dtypes = a.dtype.split(",")
    if any(d not in ("fp32", "bf16") for d in dtypes):
        ap.error(f"--dtype: expected fp32 and / or bf16; got {a.dtype!r}")
    for tp, dtype in ((int(t), d) for d in dtypes for t in a.tp.split(",")):
        # 1x8: 8 q / 8 kv heads (Qwen3, QK-norm); 1x4: Llama-3 with 8 q / 4 kv heads (GQA, llama3 RoPE scaling)
        model = tiny_model("qwen3", 8, 8) if tp == 8 else tiny_model("llama", 8, 4)
        r = compare(model, tp, prompt, a.steps, dtype=dtype)
        out.append(r)
        print(f"1x{tp} mesh ({r['arch']}, {r['heads'][0]} q / {r['heads'][1]} kv heads, {r['dtype']}): tokens "
              f"{'identical' if r['tokens_equal'] else 'DIFFER'} {r['tokens_mesh']}; min logits PCC "
              f"{r['min_pcc']:.6f}; max |diff| {max(s['max_abs_diff'] for s in r['steps']):.2e}; "
              f"{r['seconds']['mesh']:.0f} s on the mesh vs {r['seconds']['single']:.0f} s on one device")
    if a.json:
        Path(a.json).write_text(json.dumps({"runs": out}, indent=1) + "\n")
    return 0 if all(r["tokens_equal"] and r["min_pcc"] >= (0.999 if r["dtype"] == "fp32" else 0.99) for r in out) \
        else 1


if __name__ == "__main__":
    sys.exit(main())
