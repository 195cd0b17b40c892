"""Layer dimensions of the models the kernels serve, for compile checks and benchmarks.

``tiny-qwen3`` / ``tiny-llama`` are the project's own small trained models (4 layers, hidden 256, see
training/README.md; check their config.json if that changes);
the others are the public checkpoints' published configs.  ``decode_rows`` is the number of rows an
activation has in a decode step for one tile of users (up to 32 users share one tile row).
"""

from __future__ import annotations

LLAMA3_SCALING = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 8192}

MODEL_SHAPES: dict[str, dict] = {
    "llama-3.1-8b": dict(arch="llama", hidden=4096, intermediate=14336, n_q=32, n_kv=8, head_dim=128, layers=32,
                         vocab=128256, rope_theta=500000.0, rope_scaling=LLAMA3_SCALING, eps=1e-5),
    "qwen3-8b": dict(arch="qwen3", hidden=4096, intermediate=12288, n_q=32, n_kv=8, head_dim=128, layers=36,
                     vocab=151936, rope_theta=1e6, rope_scaling=None, eps=1e-6),
    "qwen3-0.6b": dict(arch="qwen3", hidden=1024, intermediate=3072, n_q=16, n_kv=8, head_dim=128, layers=28,
                       vocab=151936, rope_theta=1e6, rope_scaling=None, eps=1e-6),
    # the project's trained checkpoints (training/README.md): 4 layers, hidden 256, SwiGLU 512
    "tiny-qwen3": dict(arch="qwen3", hidden=256, intermediate=512, n_q=4, n_kv=2, head_dim=64, layers=4,
                       vocab=4096, rope_theta=1e4, rope_scaling=None, eps=1e-6),
    "tiny-llama": dict(arch="llama", hidden=256, intermediate=512, n_q=4, n_kv=2, head_dim=64, layers=4,
                       vocab=4096, rope_theta=1e4, eps=1e-6,
                       rope_scaling={"rope_type": "llama3", "factor": 2.0, "low_freq_factor": 1.0,
                                     "high_freq_factor": 4.0, "original_max_position_embeddings": 512}),
}

DECODE_ROWS = 32
