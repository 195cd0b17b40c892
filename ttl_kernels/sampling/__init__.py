"""Token selection on the device: greedy argmax over the vocabulary and the greedy accept rule of a
speculative verify step, so a step returns only the accepted token ids to the host.

* :func:`argmax` (:mod:`.argmax`: two operations, :mod:`._argmax_partial` and :mod:`._argmax_merge`): the
  argmax id of every row of ``[rows, V]`` logits, exact up to 2^24 ids, ties to the lowest id;
* :func:`greedy_accept` (:mod:`.greedy_accept`): ``n`` accepted proposals and the kept ids ``target[0 .. n]``;
* :func:`greedy_accept_ids` (:mod:`.greedy`): both on a verify block's device logits, reading back one small
  tile row (the bytes are counted).

Sampling at T > 0 stays on the host (:mod:`models.sampling`): it needs the ``[k + 1, V]`` probabilities
(bf16: 2 (k + 1) V bytes, 4.9 MB for k = 15 at V = 151,936) to cross, plus the draft's distributions.
References: :mod:`reference.sampling`.
"""

import torch

from reference import sampling as _ref

from ..registry import KernelSpec, generator, model_dims, torch_dtype
from ._plan import id_columns
from .argmax import argmax, argmax_plan
from .greedy import AcceptResult, greedy_accept_ids
from .greedy_accept import greedy_accept


def _argmax_args(rows: int, vocab: int, dtype: str = "bf16", seed: int | None = None) -> tuple:
    gen = generator(seed)
    if gen is None:
        return (torch.zeros(rows, vocab, dtype=torch_dtype(dtype)),)
    return ((torch.randn(rows, vocab, generator=gen) * 4).to(torch_dtype(dtype)),)


def _argmax_cases() -> list[dict]:
    """The models' vocabularies (tiny 4096, Llama-3 128,256, Qwen3 151,936) at 1 row (decode), 16 (a DFlash
    block) and 32 (a tile of users)."""
    return [dict(rows=r, vocab=v, dtype="bf16") for v in model_dims("vocab") for r in (1, 16, 32)]


def _accept_args(k: int, seed: int | None = None) -> tuple:
    """``proposals [k, 3]`` and ``targets [k + 1, 3]`` fp32 id rows (the family's id layout: id, id // 1024,
    id % 1024); with a seed, random ids up to 151,935 agreeing on a random prefix."""
    gen = generator(seed)
    if gen is None:
        return torch.zeros(k, 3), torch.zeros(k + 1, 3)
    t = torch.randint(0, 151936, (k + 1,), generator=gen).float()
    p = t[:k].clone()
    n = int(torch.randint(0, k + 1, (1,), generator=gen))
    p[n:] += 1.0
    return id_columns(p), id_columns(t)


def _accept_cases() -> list[dict]:
    """DFlash blocks of 16 (z-lab's Qwen3-8B-DFlash-b16) and 8 (the project's b8), and a block of 64."""
    return [dict(k=15), dict(k=7), dict(k=63)]


KERNEL_SPECS = [
    KernelSpec("argmax", argmax, _ref.argmax, _argmax_args,
               ("typecast_tile", "sign_tile", "relu_tile", "binary_max_tile", "binary_min_tile", "matmul_block",
                "transpose_wh_tile"), _argmax_cases),
    KernelSpec("greedy_accept", greedy_accept, _ref.greedy_accept, _accept_args,
               ("sign_tile", "abs_tile", "relu_tile", "matmul_block", "transpose_wh_tile", "binary_max_tile"),
               _accept_cases, kwargs=lambda **p: {"k": p["k"]} if "k" in p else {}),
]

__all__ = ["KERNEL_SPECS", "AcceptResult", "argmax", "argmax_plan", "greedy_accept", "greedy_accept_ids"]
