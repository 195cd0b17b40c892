"""Layout kernels the decoder needs between its named ops: head regrouping for decode attention and the
in-place KV-cache update."""

import torch

from .. import host
from ..host import TILE
from ..registry import KernelSpec, generator, random_or_zeros
from ..shapes import MODEL_SHAPES
from .kv_update import kv_update
from .regroup import groups_to_heads, heads_to_groups


def _h2g(x, n_kv: int, head_dim: int):
    return heads_to_groups(host.to_device(x) if isinstance(x, torch.Tensor) else x, n_kv, head_dim)


def _g2h(o, batch: int, n_heads: int, n_kv: int):
    return groups_to_heads(host.to_device(o) if isinstance(o, torch.Tensor) else o, batch, n_heads, n_kv)


def _kv(k_cache, v_cache, k_new, v_new, positions, n_kv: int):
    t = [host.to_device(a) if isinstance(a, torch.Tensor) else a for a in (k_cache, v_cache, k_new, v_new)]
    kv_update(*t, positions, n_kv)
    return t[0], t[1]


def _ref_h2g(x, n_kv, head_dim):
    from ..attention._layout import decode_q_to_tiles

    b = x.shape[0]
    return decode_q_to_tiles(x.float().reshape(b, -1, head_dim), n_kv)


def _ref_g2h(o, batch, n_heads, n_kv):
    from ..attention._layout import decode_o_from_tiles

    return decode_o_from_tiles(o.float(), batch, n_heads, n_kv).reshape(batch, -1)


def _ref_kv(k_cache, v_cache, k_new, v_new, positions, n_kv):
    kc, vc = k_cache.float().clone(), v_cache.float().clone()
    d = kc.shape[1]
    s_max = kc.shape[0] // (k_new.shape[0] * n_kv)
    for b, p in enumerate(positions):
        for h in range(n_kv):
            kc[(b * n_kv + h) * s_max + p] = k_new[b, h * d:(h + 1) * d].float()
            vc[(b * n_kv + h) * s_max + p] = v_new[b, h * d:(h + 1) * d].float()
    return kc, vc


def _shapes():
    return sorted({(m["n_q"], m["n_kv"], m["head_dim"]) for m in MODEL_SHAPES.values()})


def _h2g_args(batch, n_q, n_kv, head_dim, dtype="bf16", seed=None):
    return (random_or_zeros((batch, n_q * head_dim), dtype, generator(seed)),)


def _g2h_args(batch, n_q, n_kv, head_dim, dtype="bf16", seed=None):
    return (random_or_zeros((batch * n_kv * TILE, head_dim), dtype, generator(seed)),)


def _kv_args(batch, n_kv, head_dim, s_max=256, pos=37, dtype="bf16", seed=None):
    g = generator(seed)
    cache = lambda: random_or_zeros((batch * n_kv * s_max, head_dim), dtype, g)  # noqa: E731
    new = lambda: random_or_zeros((batch, n_kv * head_dim), dtype, g)  # noqa: E731
    return cache(), cache(), new(), new()


KERNEL_SPECS = [
    KernelSpec("heads_to_groups", _h2g, _ref_h2g, _h2g_args, ("matmul_block",),
               lambda: [dict(batch=1, n_q=q, n_kv=k, head_dim=d) for q, k, d in _shapes()],
               kwargs=lambda batch, n_q, n_kv, head_dim, **_: dict(n_kv=n_kv, head_dim=head_dim)),
    KernelSpec("groups_to_heads", _g2h, _ref_g2h, _g2h_args, ("matmul_block",),
               lambda: [dict(batch=1, n_q=q, n_kv=k, head_dim=d) for q, k, d in _shapes()],
               kwargs=lambda batch, n_q, n_kv, head_dim, **_: dict(batch=batch, n_heads=n_q, n_kv=n_kv)),
    KernelSpec("kv_update", _kv, _ref_kv, _kv_args,
               ("matmul_block", "mul_(binary_tile|tiles)", "add_(binary_tile|tiles)"),
               lambda: [dict(batch=1, n_kv=k, head_dim=d) for k, d in sorted({(k, d) for _, k, d in _shapes()})],
               kwargs=lambda batch, n_kv, pos=37, **_: dict(positions=[pos + 29 * b for b in range(batch)], n_kv=n_kv)),
]

__all__ = ["KERNEL_SPECS", "groups_to_heads", "heads_to_groups", "kv_update"]
