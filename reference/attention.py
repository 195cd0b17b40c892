"""References for decode attention: exact SDPA decode with GQA and per-user positions, ALSpec's sink + recent
approximation, and the speculation verdict.  Everything is computed in float32 from the values given.

Conventions (shared with :mod:`ttl_kernels.attention`):

* ``q`` is ``[B, n_q, D]`` (one new token per user), ``k_cache`` / ``v_cache`` are ``[B, n_kv, S_max, D]``.
* ``positions[b]`` is the index of user ``b``'s current token.  Its K/V are already in the cache at that
  index, so the visible keys are ``0 .. pos`` inclusive (``pos + 1`` of them).
* GQA: query head ``i`` attends with KV head ``i // (n_q // n_kv)`` (HF ``repeat_kv`` order).
* ``scale`` defaults to ``1 / sqrt(D)``.
* ALSpec approximation with chunk size ``S``: ``P = round_up(pos + 1, 32)``; the speculative keys are the
  sink ``[0, S)`` and the recent chunk ``[P - S, P)``, each clipped to ``[0, pos]`` (a key in both counts
  once).  When ``P <= 2 S`` the two chunks cover ``[0, pos]`` and the approximation is exact.
* Verdict per user, over all query heads together: ``dist2 = ||O - O_spec||^2``, ``norm2 = ||O||^2``,
  hit when ``dist2 <= lambda^2 * norm2``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

TILE = 32


def _positions(positions, batch: int) -> list[int]:
    pos = [int(p) for p in (positions.tolist() if isinstance(positions, torch.Tensor) else positions)]
    if len(pos) != batch:
        raise ValueError(f"positions: expected {batch} entries (one per user); got {len(pos)}")
    return pos


def round_up(x: int, m: int = TILE) -> int:
    return -(-x // m) * m


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, keys: torch.Tensor, scale: float) -> torch.Tensor:
    """Attention of ``q [n_q, D]`` over the keys ``keys`` (bool ``[S_max]``) of ``k, v [n_kv, S_max, D]``."""
    n_q, n_kv = q.shape[0], k.shape[0]
    g = n_q // n_kv
    kk = k[:, keys].float().repeat_interleave(g, dim=0)  # [n_q, L, D]
    vv = v[:, keys].float().repeat_interleave(g, dim=0)
    s = torch.einsum("hd,hld->hl", q.float(), kk) * scale
    return torch.einsum("hl,hld->hd", torch.softmax(s, dim=-1), vv)


def _check(q, k_cache, v_cache):
    if q.dim() != 3 or k_cache.dim() != 4 or v_cache.shape != k_cache.shape:
        raise ValueError(
            f"expected q [B, n_q, D] and k/v [B, n_kv, S_max, D]; got {tuple(q.shape)}, {tuple(k_cache.shape)}, "
            f"{tuple(v_cache.shape)}"
        )
    if q.shape[0] != k_cache.shape[0] or q.shape[2] != k_cache.shape[3] or q.shape[1] % k_cache.shape[1]:
        raise ValueError(f"q {tuple(q.shape)} does not fit k/v {tuple(k_cache.shape)}")


def _per_user(q, k_cache, v_cache, positions, scale, keys_of) -> torch.Tensor:
    """``[B, n_q, D]`` float32: user ``b`` attends to the keys ``keys_of(positions[b], S_max)`` selects."""
    _check(q, k_cache, v_cache)
    B, _, D = q.shape
    scale = 1.0 / math.sqrt(D) if scale is None else float(scale)
    return torch.stack([_attend(q[b], k_cache[b], v_cache[b], keys_of(p, k_cache.shape[2]), scale)
                        for b, p in enumerate(_positions(positions, B))])


def sdpa_decode(
    q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor, positions: Sequence[int], scale: float | None = None
) -> torch.Tensor:
    """Exact decode attention: ``[B, n_q, D]`` float32; user ``b`` attends to keys ``0 .. positions[b]``."""
    return _per_user(q, k_cache, v_cache, positions, scale, lambda p, s_max: torch.arange(s_max) <= p)


def speculative_keys(pos: int, chunk_size: int, s_max: int) -> torch.Tensor:
    """Bool mask ``[s_max]`` of the keys ALSpec's approximation attends to: ``([0, S) u [P - S, P)) n [0, pos]``."""
    p_end = round_up(pos + 1)
    keys = torch.zeros(s_max, dtype=torch.bool)
    keys[: min(chunk_size, s_max)] = True
    keys[max(p_end - chunk_size, 0): p_end] = True
    keys[pos + 1:] = False
    return keys


def sdpa_decode_speculative(
    q: torch.Tensor,
    k_cache: torch.Tensor,
    v_cache: torch.Tensor,
    positions: Sequence[int],
    chunk_size: int = 128,
    scale: float | None = None,
) -> torch.Tensor:
    """ALSpec's approximation: attention over the sink and recent chunks only (``[B, n_q, D]`` float32)."""
    return _per_user(q, k_cache, v_cache, positions, scale, lambda p, s_max: speculative_keys(p, chunk_size, s_max))


def speculation_verdict(
    exact: torch.Tensor, speculative: torch.Tensor, lambda_: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(dist2, norm2, hit)`` per user from two ``[B, n_q, D]`` outputs: ``dist2 = ||O - O_spec||^2`` and
    ``norm2 = ||O||^2`` summed over all query heads x head_dim (float64 sums), ``hit = dist2 <= lambda^2 norm2``
    (float 1.0 / 0.0)."""
    e, s = exact.double(), speculative.double()
    dist2 = ((e - s) ** 2).flatten(1).sum(1)
    norm2 = (e ** 2).flatten(1).sum(1)
    hit = (dist2 <= float(lambda_) ** 2 * norm2).double()
    return dist2, norm2, hit


def speculative_sdpa_decode(
    q, k_cache, v_cache, positions, lambda_: float = 0.2, chunk_size: int = 128, scale: float | None = None
):
    """Reference for the whole speculative op: ``(exact, speculative, dist2, norm2, hit)``."""
    exact = sdpa_decode(q, k_cache, v_cache, positions, scale)
    spec = sdpa_decode_speculative(q, k_cache, v_cache, positions, chunk_size, scale)
    return (exact, spec, *speculation_verdict(exact, spec, lambda_))


__all__ = [
    "round_up",
    "sdpa_decode",
    "sdpa_decode_speculative",
    "speculation_verdict",
    "speculative_keys",
    "speculative_sdpa_decode",
]
