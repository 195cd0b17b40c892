"""Layer dimensions of the models the kernels serve, for compile checks and benchmarks.

``tiny-qwen3`` / ``tiny-llama`` are the project's own small trained models (4 layers, hidden 256);
the others are the public checkpoints' published configs.  ``decode_rows`` is the number of rows an
activation has in a decode step for one tile of users (up to 32 users share one tile row).
"""

from __future__ import annotations

MODEL_SHAPES: dict[str, dict] = {
    "llama-3.1-8b": dict(hidden=4096, intermediate=14336, n_q=32, n_kv=8, head_dim=128, layers=32),
    "qwen3-8b": dict(hidden=4096, intermediate=12288, n_q=32, n_kv=8, head_dim=128, layers=36),
    "qwen3-0.6b": dict(hidden=1024, intermediate=3072, n_q=16, n_kv=8, head_dim=128, layers=28),
    "tiny-qwen3": dict(hidden=256, intermediate=768, n_q=4, n_kv=2, head_dim=64, layers=4),
    "tiny-llama": dict(hidden=256, intermediate=768, n_q=4, n_kv=2, head_dim=64, layers=4),
}

DECODE_ROWS = 32
