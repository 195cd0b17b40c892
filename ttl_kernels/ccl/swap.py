"""Tensor swap between the two devices of a 1x2 mesh, plain and with priorities.

Each is ttnn's ``all_gather`` (the inter-device transfer) followed by the TT-Lang select
(:mod:`.mesh_select`) that every device runs on what it gathered:

``mesh_swap(x)``
    device 0 ends with device 1's part and vice versa.  The select's priority pair is a constant
    per-device tensor that favours the peer (device 0: ``(0, 1)``, device 1: ``(1, 0)``), so both
    devices run the identical op sequence and only the data they hold differs.
``mesh_swap_with_priority(x, prio)``
    the priority tiles are all-gathered too, so both devices see the same ``(P0, P1)`` and both keep the
    part of the device whose priority is strictly higher; on a tie both keep device 0's part (lower
    device id wins), so the two devices always end identical.  No host branch: the choice is made on the
    device from the priority tiles.

``swap`` / ``swap_with_priority`` are the same on torch tensors (one per device), opening the process's
default 1x2 mesh unless one is given.

ALSpec exchanges one priority per layer and uses it several times (the residual stream, the normalised
input of the next layer, the roles): :func:`exchange_priority` all-gathers it once, :func:`mesh_keep_winner`
keeps the winner's part of a tensor for a gathered pair, and :func:`mesh_winner` turns the pair into a
per-device 0 / 1 tile (1 on the device whose priority is higher; ties: device 0), with the same select
kernel and a constant per-device tensor (device 0 holds ``[1; 0]``, device 1 ``[0; 1]``), so each device
learns whether it won without knowing its own id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from .._api import check_2d, same, tensor_info
from ..host import TILE
from ._mesh import MeshTensor, all_gather_rows, check_mesh, default_mesh, from_mesh, mesh_empty, to_mesh
from .mesh_select import DTYPES, run_select

PRIORITY_SHAPE = (TILE, TILE)
_CONST_PAIRS: dict[tuple[int, str, str], tuple[Any, MeshTensor]] = {}


def _check_mesh_tensor(x: Any, arg: str) -> MeshTensor:
    if not isinstance(x, MeshTensor):
        raise ValueError(f"{arg}: expected a MeshTensor (ttl_kernels.ccl.to_mesh); got {type(x).__name__}")
    check_mesh(x.mesh, arg)
    if x.dtype not in DTYPES:
        raise ValueError(f"{arg}: dtype must be one of {DTYPES}; got {x.dtype!r}")
    return x


def _const_pair(mesh: Any, dtype: str, kind: str) -> MeshTensor:
    """A per-device constant ``[64, 32]`` (two uniform tiles) for the select, made once per mesh and dtype.

    ``"peer"``: device 0 holds ``[0; 1]``, device 1 ``[1; 0]``, so the select takes the other device's part.
    ``"id"``: device 0 holds ``[1; 0]`` (keeps 1 unless device 1 wins), device 1 ``[0; 1]`` (1 only when it
    wins), so the select of a gathered priority pair returns 1 on the winning device."""
    hit = _CONST_PAIRS.get((id(mesh), dtype, kind))
    if hit is None or hit[0] is not mesh:
        zero, one = torch.zeros(PRIORITY_SHAPE), torch.ones(PRIORITY_SHAPE)
        dev0, dev1 = ([zero, one], [one, zero]) if kind == "peer" else ([one, zero], [zero, one])
        hit = (mesh, to_mesh([torch.cat(dev0), torch.cat(dev1)], mesh, dtype))
        _CONST_PAIRS[(id(mesh), dtype, kind)] = hit
    return hit[1]


def _select(x: MeshTensor, pair_tt: Any) -> MeshTensor:
    gathered = all_gather_rows(x)
    out = mesh_empty(x.mesh, x.shape, x.dtype)
    run_select(gathered, pair_tt, out.tt, *x.shape)
    return out


def mesh_swap(x: MeshTensor) -> MeshTensor:
    """Exchange the two devices' parts of ``x`` (a MeshTensor on a 1x2 mesh)."""
    _check_mesh_tensor(x, "x")
    return _select(x, _const_pair(x.mesh, x.dtype, "peer").tt)


@dataclass
class GatheredPriority:
    """Both devices' priority tiles on every device (the all_gather of a priority MeshTensor): device 0's
    tile on top of device 1's, ``[64, 32]`` per device."""

    tt: Any
    mesh: Any
    dtype: str


def _check_prio(prio: Any, arg: str = "prio") -> MeshTensor:
    _check_mesh_tensor(prio, arg)
    if tuple(prio.shape) != PRIORITY_SHAPE:
        raise ValueError(f"{arg}: expected one {PRIORITY_SHAPE} tile per device; got {tuple(prio.shape)}")
    return prio


def exchange_priority(prio: MeshTensor) -> GatheredPriority:
    """All-gather the per-device priority tiles once (the link transfer of two tiles)."""
    _check_prio(prio)
    return GatheredPriority(all_gather_rows(prio), prio.mesh, prio.dtype)


def mesh_keep_winner(x: MeshTensor, pair: GatheredPriority) -> MeshTensor:
    """Both devices end with the part of ``x`` of the device whose priority in ``pair`` is higher (tie:
    device 0).  ``pair`` must be on ``x``'s mesh and in ``x``'s dtype."""
    _check_mesh_tensor(x, "x")
    if not isinstance(pair, GatheredPriority):
        raise ValueError(f"pair: expected a GatheredPriority (exchange_priority); got {type(pair).__name__}")
    if pair.mesh is not x.mesh:
        raise ValueError("pair: expected priorities gathered on the same mesh as x")
    if pair.dtype != x.dtype:
        raise ValueError(f"pair: dtype {pair.dtype} does not match x's {x.dtype} (gather priorities in x's dtype)")
    return _select(x, pair.tt)


def mesh_winner(pair: GatheredPriority) -> MeshTensor:
    """Per device one uniform ``[32, 32]`` tile in ``pair``'s dtype: 1 on the device whose priority is
    strictly higher (on a tie, device 0), 0 on the other.  Exactly one device holds 1."""
    if not isinstance(pair, GatheredPriority):
        raise ValueError(f"pair: expected a GatheredPriority (exchange_priority); got {type(pair).__name__}")
    out = mesh_empty(pair.mesh, PRIORITY_SHAPE, pair.dtype)
    run_select(_const_pair(pair.mesh, pair.dtype, "id").tt, pair.tt, out.tt, *PRIORITY_SHAPE)
    return out


def mesh_swap_with_priority(x: MeshTensor, prio: MeshTensor) -> MeshTensor:
    """Both devices end with the part of ``x`` of the device whose ``prio`` tile is higher (tie: device 0).

    ``prio``: a MeshTensor of one 32 x 32 tile per device on the same mesh and in the same dtype as ``x``,
    every element holding that device's priority (:func:`priority_tiles`; the verdict kernels write
    per-user scalars as such uniform tiles)."""
    _check_mesh_tensor(x, "x")
    _check_mesh_tensor(prio, "prio")
    if prio.mesh is not x.mesh:
        raise ValueError("prio: expected a MeshTensor on the same mesh as x")
    if prio.dtype != x.dtype:
        raise ValueError(f"prio: dtype {prio.dtype} does not match x's {x.dtype} "
                         "(build it with priority_tiles(..., dtype=x.dtype))")
    return mesh_keep_winner(x, exchange_priority(prio))


def _priority_value(p: Any, arg: str) -> float:
    if isinstance(p, torch.Tensor):
        if p.numel() != 1:
            raise ValueError(f"{arg}: expected a number or a one-element tensor; got shape {tuple(p.shape)}")
        p = p.item()
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise ValueError(f"{arg}: expected a finite number; got {type(p).__name__}")
    if not math.isfinite(float(p)):
        raise ValueError(f"{arg}: expected a finite number; got {p}")
    return float(p)


def priority_tiles(prio_0: Any, prio_1: Any, mesh: Any, dtype: str = "bf16") -> MeshTensor:
    """The priority MeshTensor for device 0's ``prio_0`` and device 1's ``prio_1`` (uniform tiles)."""
    p0, p1 = _priority_value(prio_0, "prio_0"), _priority_value(prio_1, "prio_1")
    check_mesh(mesh)
    if dtype not in DTYPES:
        raise ValueError(f"dtype: must be one of {DTYPES}; got {dtype!r}")
    return to_mesh([torch.full(PRIORITY_SHAPE, p0), torch.full(PRIORITY_SHAPE, p1)], mesh, dtype)


def _check_pair(a, b) -> str:
    sa, da = tensor_info(a, "a", DTYPES)
    sb, db = tensor_info(b, "b", DTYPES)
    check_2d(sa, "a")
    check_2d(sb, "b")
    same({"a": sa, "b": sb}, "shape")
    same({"a": da, "b": db}, "dtype")
    return da


def _back(parts: list[torch.Tensor], like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return tuple(p.to(like.dtype) for p in parts)  # type: ignore[return-value]


def swap(a: torch.Tensor, b: torch.Tensor, *, mesh: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Device 0 holds ``a`` and device 1 holds ``b`` (2-D, same shape and dtype, bf16 or fp32); returns
    what each holds after the swap: ``(b, a)``, exactly."""
    dtype = _check_pair(a, b)
    mesh = default_mesh() if mesh is None else check_mesh(mesh)
    out = mesh_swap(to_mesh([a, b], mesh, dtype))
    return _back(from_mesh(out), a)


def swap_with_priority(a: torch.Tensor, prio_a: Any, b: torch.Tensor, prio_b: Any, *,
                       mesh: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Device 0 holds ``a`` with priority ``prio_a``, device 1 holds ``b`` with ``prio_b`` (finite numbers
    or one-element tensors); returns what each holds afterwards: the higher-priority device's tensor on
    both, ``a`` on both when the priorities are equal."""
    dtype = _check_pair(a, b)
    pa, pb = _priority_value(prio_a, "prio_a"), _priority_value(prio_b, "prio_b")
    mesh = default_mesh() if mesh is None else check_mesh(mesh)
    out = mesh_swap_with_priority(to_mesh([a, b], mesh, dtype), priority_tiles(pa, pb, mesh, dtype))
    return _back(from_mesh(out), a)
