"""Device memory a model needs, and whether it fits one chip's DRAM (n150 12 GB, p150 32 GB).

Counted from the config (so it works for full-size models that are never built here), in tile storage: every
matrix is padded to whole 32 x 32 tiles and a tile of ``dtype`` takes ``TILE_BYTES[dtype]`` bytes (block-float
formats include their shared exponents).  Projections and the LM head are in the weights' dtype; norms and the
embedding table in the activation dtype; the KV cache in its own dtype, ``batch x n_kv x max_seq_len x head_dim``
per layer for K and for V.  A DFlash draft adds its layers, its fc and its own context cache (it shares the
target's embedding and LM head).
"""

from __future__ import annotations

from reference.config import DecoderConfig
from ttl_kernels.host import TILE, TILE_BYTES

GB = 1e9


def _matrix(rows: int, cols: int, dtype: str) -> int:
    return -(-rows // TILE) * -(-cols // TILE) * TILE_BYTES[dtype]


def _layers(c: DecoderConfig, n_layers: int, wdt: str, adt: str) -> int:
    h, q, kv = c.hidden_size, c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim
    per = (_matrix(h, q, wdt) + 2 * _matrix(h, kv, wdt) + _matrix(q, h, wdt)
           + 2 * _matrix(h, c.intermediate_size, wdt) + _matrix(c.intermediate_size, h, wdt)
           + 2 * _matrix(1, h, adt) + (2 * _matrix(1, c.head_dim, adt) if c.qk_norm else 0))
    return n_layers * per


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


def fit_report(c: DecoderConfig, **kw) -> dict:
    """The footprint in GB and whether it fits each chip."""
    fp = footprint(c, **kw)
    return {"bytes": fp, "gb": round(fp["total"] / GB, 3),
            "fits": {chip: fits(fp["total"], chip) for chip in ("n150", "p150")}}
