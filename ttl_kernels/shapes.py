"""Layer dimensions of the models the kernels serve, for compile checks and benchmarks.

Every entry comes from a checkpoint config through the one registry, :mod:`reference.registry` (the shipped
tiny checkpoints' ``config.json`` and the public models' published configs), flattened here to the few
fields the kernel families need.  ``DECODE_ROWS`` is the number of rows an activation has in a decode step
for one tile of users (up to 32 users share one tile row).
"""

from __future__ import annotations

from reference import registry


def _shape(name: str) -> dict:
    c = registry.config(name)
    return dict(arch=c.arch, hidden=c.hidden_size, intermediate=c.intermediate_size, n_q=c.num_heads,
                n_kv=c.num_kv_heads, head_dim=c.head_dim, layers=c.num_layers, vocab=c.vocab_size,
                rope_theta=c.rope_theta, rope_scaling=c.rope_scaling, eps=c.rms_norm_eps)


MODEL_SHAPES: dict[str, dict] = {name: _shape(name) for name in registry.names()}

DECODE_ROWS = 32
