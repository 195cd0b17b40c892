"""Device memory a model needs, and whether it fits one chip's DRAM (n150 12 GB, p150 32 GB).

Counted from the config (so it works for full-size models that are never built here), in tile storage: every
matrix is padded to whole 32 x 32 tiles and a tile of ``dtype`` takes ``TILE_BYTES[dtype]`` bytes (block-float
formats include their shared exponents).  Projections and the LM head are in the weights' dtype; norms and the
embedding table in the activation dtype; the KV cache in its own dtype, ``batch x n_kv x max_seq_len x head_dim``
per layer for K and for V.  A DFlash draft adds its layers, its fc and its own context cache (it shares the
target's embedding and LM head).

Mixture of experts (Qwen3-MoE): a sparse layer (:meth:`DecoderConfig.is_sparse_layer`) holds the router
``[H, E]`` and ``E`` experts of gate / up ``[H, I]`` and down ``[I, H]`` (``I = moe_intermediate_size``, padded to
whole tiles as ``KernelOps`` stores them) in the weights' dtype instead of the dense MLP; dense layers keep
``intermediate_size``.  :func:`min_devices` is the fewest chips whose DRAM holds the total (a lower bound: it
ignores how evenly layers or experts split over the chips and the runtime's own DRAM).  Qwen3-Coder-30B-A3B
(30.5B parameters, 29.0B of them in the 6,144 experts), 4096-token bf16 KV cache, one user (norms and the
embedding table in bf16, the LM head in the weights' dtype):

    weights   total      n150 (12 GB)   p150 (32 GB)
    bf16      61.5 GB    6              2
    bfp8_b    33.1 GB    3              2
    bfp4_b    18.0 GB    2              1

so it does not fit one n150 in any of them (nor one p150 in bf16 or bfp8_b).
"""

from __future__ import annotations

from reference.config import DecoderConfig
from ttl_kernels.host import TILE, TILE_BYTES

GB = 1e9


def _matrix(rows: int, cols: int, dtype: str) -> int:
    return -(-rows // TILE) * -(-cols // TILE) * TILE_BYTES[dtype]


def _mlp(c: DecoderConfig, layer: int, wdt: str) -> int:
    """The MLP of one layer: the dense SwiGLU, or (a sparse layer) the router and every expert."""
    h = c.hidden_size
    if getattr(c, "num_experts", 0) and c.is_sparse_layer(layer):
        i = c.moe_intermediate_size
        return _matrix(h, c.num_experts, wdt) + c.num_experts * (2 * _matrix(h, i, wdt) + _matrix(i, h, wdt))
    return 2 * _matrix(h, c.intermediate_size, wdt) + _matrix(c.intermediate_size, h, wdt)


def _layers(c: DecoderConfig, n_layers: int, wdt: str, adt: str) -> int:
    h, q, kv = c.hidden_size, c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim
    per = (_matrix(h, q, wdt) + 2 * _matrix(h, kv, wdt) + _matrix(q, h, wdt)
           + 2 * _matrix(1, h, adt) + (2 * _matrix(1, c.head_dim, adt) if c.qk_norm else 0))
    return n_layers * per + sum(_mlp(c, i, wdt) for i in range(n_layers))


def _kv(c: DecoderConfig, n_layers: int, max_seq_len: int, batch: int, kvdt: str) -> int:
    return n_layers * 2 * _matrix(batch * c.num_kv_heads * max_seq_len, c.head_dim, kvdt)


def footprint(c: DecoderConfig, *, weights_dtype: str = "bf16", act_dtype: str = "bf16", kv_dtype: str = "bf16",
              max_seq_len: int = 4096, batch: int = 1, draft=None) -> dict:
    """Bytes by part: ``layers``, ``embedding``, ``lm_head``, ``kv``, (``draft_layers``, ``draft_kv``), ``total``."""
    out = {"layers": _layers(c, c.num_layers, weights_dtype, act_dtype),
           "embedding": _matrix(c.vocab_size, c.hidden_size, act_dtype),
           "lm_head": 0 if c.tie_word_embeddings else _matrix(c.hidden_size, c.vocab_size, weights_dtype),
           "final_norm": _matrix(1, c.hidden_size, act_dtype),
           "kv": _kv(c, c.num_layers, max_seq_len, batch, kv_dtype)}
    if c.tie_word_embeddings:  # the device keeps the head as its own [H, V] matrix in the weights' dtype
        out["lm_head"] = _matrix(c.hidden_size, c.vocab_size, weights_dtype)
    if draft is not None:
        dc = draft.layer_config()
        out["draft_layers"] = (_layers(dc, dc.num_layers, weights_dtype, act_dtype)
                               + _matrix(len(draft.target_layer_ids) * dc.hidden_size, dc.hidden_size, weights_dtype))
        out["draft_kv"] = _kv(dc, dc.num_layers, max_seq_len, batch, kv_dtype)
    out["total"] = sum(out.values())
    return out


def fits(total_bytes: int, chip: str) -> bool:
    """Whether ``total_bytes`` fit one chip's DRAM (:mod:`ttl_kernels.perf.hardware`)."""
    from ttl_kernels.perf.hardware import figures

    return total_bytes <= figures(chip)["dram_gb"].value * GB


def min_devices(total_bytes: int, chip: str) -> int:
    """The fewest ``chip`` s whose DRAM together holds ``total_bytes`` (a lower bound: module docstring)."""
    from ttl_kernels.perf.hardware import figures

    return max(1, -(-int(total_bytes) // int(figures(chip)["dram_gb"].value * GB)))


def fit_report(c: DecoderConfig, **kw) -> dict:
    """The footprint in GB, whether it fits each chip, and the fewest chips that hold it."""
    fp = footprint(c, **kw)
    return {"bytes": fp, "gb": round(fp["total"] / GB, 3),
            "fits": {chip: fits(fp["total"], chip) for chip in ("n150", "p150")},
            "min_devices": {chip: min_devices(fp["total"], chip) for chip in ("n150", "p150")}}
