"""Layer dimensions of the models the kernels serve, for compile checks and benchmarks.

Every entry comes from a checkpoint config through the one registry, :mod:`reference.registry` (the shipped
tiny checkpoints' ``config.json`` and the public models' published configs), flattened here to the few
fields the kernel families need.  ``DECODE_ROWS`` is the number of rows an activation has in a decode step
for one tile of users (up to 32 users share one tile row).

The mixture-of-experts configs (:data:`reference.registry.PUBLISHED_MOE`, Qwen3-Coder-30B-A3B) are included:
every family that iterates these shapes compiles its instances at their dimensions lint-clean for n150 and p150
(hidden 2048, 32 q / 4 kv heads of 128, intermediate 5472, checked when they were added), and
``models.kernel_model:compile_step`` lowers their whole step.  Their extra fields (0 for a dense model):
``experts``, ``experts_per_tok``, ``moe_intermediate``, ``norm_topk_prob`` (:mod:`ttl_kernels.moe` reads them);
``intermediate`` stays the config's dense width (unused by Qwen3-Coder-30B-A3B, whose 48 layers are all routed).
"""

from __future__ import annotations

from reference import registry


def _shape(name: str) -> dict:
    c = registry.config(name)
    return dict(arch=c.arch, hidden=c.hidden_size, intermediate=c.intermediate_size, n_q=c.num_heads,
                n_kv=c.num_kv_heads, head_dim=c.head_dim, layers=c.num_layers, vocab=c.vocab_size,
                rope_theta=c.rope_theta, rope_scaling=c.rope_scaling, eps=c.rms_norm_eps,
                experts=c.num_experts, experts_per_tok=c.num_experts_per_tok,
                moe_intermediate=c.moe_intermediate_size, norm_topk_prob=c.norm_topk_prob)


MODEL_SHAPES: dict[str, dict] = {name: _shape(name) for name in registry.names(include_moe=True)}

DECODE_ROWS = 32
