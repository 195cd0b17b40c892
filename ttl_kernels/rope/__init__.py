"""Rotary position embedding of Q and K (HF rotate-half) with the cos / sin lookup on the device, for
decode (one position per user) and prefill (a run of positions).  :mod:`.tables` builds the tables from
a model config (Llama-3: theta 500000 + llama3 scaling; Qwen3: theta 1e6); :mod:`.rope` documents the
lookup design and its compile variants.
"""

import torch

from reference import rope as _ref

from ..host import TileTensor, to_device
from ..registry import KernelSpec, generator, torch_dtype
from ..shapes import DECODE_ROWS, MODEL_SHAPES
from .rope import RopePlan, plan_rope, rope, rope_prefill
from .tables import RopeTables

LLAMA3_SCALING = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 8192}


def _rope_params(model: str) -> tuple[float, dict | None]:
    """(rope_theta, rope_scaling) of the model family."""
    return (500000.0, LLAMA3_SCALING) if "llama" in model else (1e6, None)


def _positions(rows: int, seq: int, start: int | None, spread: int = 7) -> list[int]:
    """Prefill: ``start, start+1, ...``; decode (start None): user b at ``(spread * b + 3) % seq``."""
    if start is not None:
        return list(range(start, start + rows))
    return [(spread * b + 3) % seq for b in range(rows)]


def _args(rows: int, n_q: int, n_kv: int, head_dim: int, seq: int = 32, model: str = "qwen3-8b", dtype: str = "bf16",
          start: int | None = None, spread: int = 7, seed: int | None = None) -> tuple:
    """q, k and the first halves of the cos / sin tables for positions [0, seq) of ``model``'s config."""
    gen = generator(seed)
    theta, scaling = _rope_params(model)
    cos, sin = _ref.rope_tables(seq, head_dim, theta, scaling)
    h = head_dim // 2
    tdt = torch_dtype(dtype)
    if gen is None:
        q, k = torch.zeros(rows, n_q * head_dim, dtype=tdt), torch.zeros(rows, n_kv * head_dim, dtype=tdt)
    else:
        q = torch.randn(rows, n_q * head_dim, generator=gen).to(tdt)
        k = torch.randn(rows, n_kv * head_dim, generator=gen).to(tdt)
    return q, k, cos[:, :h].to(tdt), sin[:, :h].to(tdt)


def rope_with_tables(q, k, cos, sin, positions):
    """:func:`rope` with the device tables given as tensors (the first halves, ``(max_seq_len,
    head_dim // 2)``; torch tensors are copied to the device): the registry's entry point, so the bench
    counts the tables among the inputs."""
    dtype = "fp32" if getattr(q, "dtype", None) in (torch.float32, "fp32") else "bf16"
    cos = cos if isinstance(cos, TileTensor) else to_device(cos, dtype)
    sin = sin if isinstance(sin, TileTensor) else to_device(sin, dtype)
    return rope(q, k, RopeTables.from_device(cos, sin), positions)


def _kwargs(rows: int, seq: int = 32, start: int | None = None, spread: int = 7, **_) -> dict:
    return {"positions": _positions(rows, seq, start, spread)}


def _cases() -> list[dict]:
    """Per distinct (n_q, n_kv, head_dim) of the models (the tables' values do not change the kernel, so
    Llama-3.1-8B and Qwen3-8B share theirs, as do the two tiny models): a decode step of 32 users at
    different positions inside one 32-position table tile row (tables of 32 positions: the minimum then
    counts exactly the table rows a call needs), and an aligned prefill of 128 tokens."""
    out, seen = [], set()
    for name, m in sorted(MODEL_SHAPES.items(), key=lambda nm: (nm[1]["head_dim"], nm[1]["n_q"])):  # tiny first
        key = (m["n_q"], m["n_kv"], m["head_dim"])
        if key in seen:
            continue
        seen.add(key)
        base = dict(n_q=m["n_q"], n_kv=m["n_kv"], head_dim=m["head_dim"], model=name, dtype="bf16")
        out.append(dict(rows=DECODE_ROWS, seq=32, **base))
        out.append(dict(rows=128, seq=128, start=0, **base))
    return out


KERNEL_SPECS = [
    # (matmul_block too, except in aligned prefill, which needs no gather: checked per case in the tests)
    KernelSpec("rope", rope_with_tables, _ref.rope_rows, _args, ("mul_(binary_tile|tiles)", "sub_(binary_tile|tiles)",
               "add_(binary_tile|tiles)"), _cases, _kwargs),
]

__all__ = ["KERNEL_SPECS", "LLAMA3_SCALING", "RopePlan", "RopeTables", "plan_rope", "rope", "rope_prefill",
           "rope_with_tables"]
