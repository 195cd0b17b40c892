"""References for the token-selection kernels (:mod:`ttl_kernels.sampling`), in float32 from the values the
kernel was given.

``argmax``: ``torch.argmax`` of each row (ties to the lowest id) after clamping to ``[-FLT_MAX, FLT_MAX]`` (so
``+inf`` ties with ``FLT_MAX`` and ``-inf`` with ``-FLT_MAX``); a row holding a NaN gives NaN.  For rows of
finite values below ``FLT_MAX`` in magnitude this is exactly ``torch.argmax``.

``greedy_accept``: the greedy speculative rule (:func:`models.sampling.greedy_verify`): ``n`` = the length of
the longest prefix where ``proposals[i] == targets[i]``, the kept ids are ``targets[0 .. n]`` (the ``n``
accepted proposals, then the next token ``targets[n]``).  Result ``[2, k + 1]``: row 0 = the kept ids in
columns ``0 .. n``, -1 after; row 1 = ``n`` in every column.
"""

from __future__ import annotations

import torch

FLT_MAX = float(torch.finfo(torch.float32).max)


def argmax(logits: torch.Tensor) -> torch.Tensor:
    """``[rows, V]`` -> float32 ``[rows, 1]`` ids (rules in the module docstring)."""
    x = logits.float()
    ids = x.clamp(-FLT_MAX, FLT_MAX).argmax(-1).float()
    ids[torch.isnan(x).any(-1)] = float("nan")
    return ids[:, None]


def greedy_accept(proposals, targets, k: int | None = None) -> torch.Tensor:
    """``proposals`` (ids in column 0 of ``[k', *]``, a 1-D tensor or a list; the first ``k`` are the proposals,
    ``k`` defaults to all of them), ``targets`` (the ``k + 1`` target ids, likewise) -> float32 ``[2, k + 1]``
    (layout in the module docstring)."""
    p = torch.as_tensor(proposals).float()
    t = torch.as_tensor(targets).float()
    p = p.reshape(p.shape[0], -1)[:, 0]
    t = t.reshape(t.shape[0], -1)[:, 0]
    k = p.shape[0] if k is None else k
    p = p[:k]
    if t.shape[0] < k + 1:
        raise ValueError(f"targets: expected k + 1 = {k + 1} ids; got {t.shape[0]}")
    t = t[: k + 1]
    n = 0
    while n < k and bool(p[n] == t[n]):
        n += 1
    out = torch.full((2, k + 1), -1.0)
    out[0, : n + 1] = t[: n + 1]
    out[1, :] = float(n)
    return out
