"""Host helper of a greedy verify step: the target's argmax and the accept rule run on the device, and the
host reads back one small tile row, ``[2, k + 1]`` fp32 (:mod:`.greedy_accept`: 4 KB for ``k <= 31``, 8 KB for
``k <= 63``), instead of the ``[k + 1, V]`` logits (4.9 MB in bf16 for k = 15 at V = 151,936).

Same result as :func:`models.sampling.greedy_verify` (``n`` accepted proposals, next token ``target[n]``) for
logits the argmax rules treat like torch (:mod:`.argmax`: finite rows; ``±inf`` tie with ``±FLT_MAX``).
A NaN among the kept ids (NaN logits in a verify row the rule reaches) raises ``ValueError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .. import runtime
from .._api import as_tile, check_2d, tensor_info
from ..host import TileTensor, to_torch
from .argmax import DTYPES, argmax
from .greedy_accept import greedy_accept


@dataclass(frozen=True)
class AcceptResult:
    """One verify step's outcome: ``n`` accepted proposals, ``ids`` = the ``n`` accepted proposals and the next
    token (``n + 1`` ids), and what crossed between host and device (bytes)."""

    n: int
    ids: list[int]
    readback_bytes: int  # device -> host: the result tile row
    upload_bytes: int = 0  # host -> device: the proposals, when they came from the host

    @property
    def next_token(self) -> int:
        return self.ids[-1]


def greedy_accept_ids(logits, proposals) -> AcceptResult:
    """Greedy verify on the device.

    ``logits``: the verify block's ``[k + 1, V]`` target logits (a bf16 / fp32 TileTensor on the device; a
    torch tensor is uploaded first); ``proposals``: the ``k`` draft ids (the draft's argmax TileTensor, or a
    list / torch tensor, uploaded as one fp32 tile column).  Runs :func:`.argmax` and :func:`.greedy_accept`
    and reads back only the accept result."""
    shape, dtype = tensor_info(logits, "logits", DTYPES)
    rows, vocab = check_2d(shape, "logits")
    k = rows - 1
    n_prop = proposals.shape[0] if isinstance(proposals, TileTensor) else len(proposals)
    if n_prop != k:
        raise ValueError(f"proposals: expected k = {k} ids (logits has k + 1 = {rows} rows); got {n_prop}")
    targets = argmax(as_tile(logits, dtype))
    upload = 0 if isinstance(proposals, TileTensor) else -(-(k + 1) // 32) * 4096
    res = greedy_accept(proposals, targets, k=k)
    if not runtime.executes():
        return AcceptResult(0, [], res.nbytes, upload)
    out = to_torch(res)  # the only read-back: 1 x RT fp32 tiles
    n_val = float(out[1, 0])
    if not math.isfinite(n_val) or n_val != int(n_val) or not 0 <= n_val <= k:
        raise ValueError(f"accept: n = {n_val} is not an integer in [0, {k}] (NaN logits or proposals?)")
    n = int(n_val)
    ids = out[0, : n + 1]
    bad = ~torch.isfinite(ids) | (ids != ids.round()) | (ids < 0) | (ids >= vocab)
    if bool(bad.any()):
        raise ValueError(f"accept: kept ids {ids.tolist()} are not all integers in [0, {vocab}) (NaN logits?)")
    return AcceptResult(n, [int(i) for i in ids.tolist()], res.nbytes, upload)
