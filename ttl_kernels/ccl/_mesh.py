"""Mesh plumbing for the two-device exchange: opening and checking a 1x2 mesh, per-device tensors in and
out of a mesh tensor sharded along dim 0, and the ttnn collective (all_gather) the exchange rides on.

A :class:`MeshTensor` is one tile-layout ttnn tensor distributed over the mesh with
``ShardTensorToMesh(dim=0)``: device ``d`` holds rows ``[d * Rp, (d + 1) * Rp)`` of the host tensor it was
built from (``Rp`` = the per-device rows padded to whole tiles).  On a device ``tt.shape`` is the
per-device shape; on the simulator it is the global ``[2 * Rp, Cp]`` (see :mod:`ttl_kernels.ccl`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .. import runtime
from ..host import TILE, pad_to_tiles, quantize, tiles

MESH_SHAPE = (1, 2)
N_DEVICES = 2
_DEFAULT_MESH: Any = None


def mesh_dims(mesh: Any) -> tuple[int, ...] | None:
    """(rows, cols) of a ttnn / simulator mesh device, or None when ``mesh`` is not one."""
    shape = getattr(mesh, "shape", None)
    if shape is None:
        return None
    if hasattr(shape, "rows") and hasattr(shape, "cols"):  # the simulator's MeshShape
        return int(shape.rows), int(shape.cols)
    try:
        return tuple(int(s) for s in shape)  # ttnn.MeshShape
    except TypeError:
        return None


def check_mesh(mesh: Any, arg: str = "mesh") -> Any:
    """``mesh`` must be a 1x2 mesh device (ValueError naming ``arg`` otherwise)."""
    dims = mesh_dims(mesh)
    if dims is None:
        raise ValueError(f"{arg}: expected a 1x2 mesh device (ttnn.open_mesh_device(ttnn.MeshShape(1, 2))); "
                         f"got {type(mesh).__name__}")
    if dims != MESH_SHAPE:
        shape = "x".join(map(str, dims))
        raise ValueError(f"{arg}: expected a 1x2 mesh (two devices side by side); got a {shape} mesh")
    return mesh


def default_mesh() -> Any:
    """The process's 1x2 mesh, opened on first use."""
    global _DEFAULT_MESH
    if _DEFAULT_MESH is None:
        ttnn = runtime.ttnn
        _DEFAULT_MESH = ttnn.open_mesh_device(ttnn.MeshShape(*MESH_SHAPE))
    return _DEFAULT_MESH


def _ttnn_dtype(dtype: str) -> Any:
    ttnn = runtime.ttnn
    return {"bf16": ttnn.bfloat16, "fp32": ttnn.float32}[dtype]


@dataclass
class MeshTensor:
    """A tensor with one ``shape``-sized 2-D part per device of a 1x2 mesh (see the module docstring)."""

    tt: Any
    mesh: Any
    shape: tuple[int, int]  # per device, logical
    dtype: str

    @property
    def padded_shape(self) -> tuple[int, int]:
        return tiles(self.shape[0]) * TILE, tiles(self.shape[1]) * TILE


def to_mesh(parts: list[torch.Tensor], mesh: Any, dtype: str, pad_value: float = 0.0) -> MeshTensor:
    """One 2-D torch tensor per device (same shape) -> a MeshTensor, each part padded to whole tiles with
    ``pad_value`` and quantised to ``dtype`` on the host (as :func:`ttl_kernels.host.to_device` does)."""
    shape = tuple(int(s) for s in parts[0].shape)
    host = torch.cat([quantize(pad_to_tiles(p, pad_value), dtype) for p in parts], dim=0)
    ttnn = runtime.ttnn
    tt = ttnn.from_torch(host, dtype=_ttnn_dtype(dtype), layout=ttnn.TILE_LAYOUT, device=mesh,
                         mesh_mapper=ttnn.ShardTensorToMesh(mesh, dim=0))
    return MeshTensor(tt, mesh, shape, dtype)  # type: ignore[arg-type]


def mesh_empty(mesh: Any, shape: tuple[int, int], dtype: str) -> MeshTensor:
    return to_mesh([torch.zeros(shape)] * N_DEVICES, mesh, dtype)


def from_mesh(x: MeshTensor) -> list[torch.Tensor]:
    """The per-device parts of ``x`` as float32 values of its dtype, cropped to the logical shape."""
    ttnn = runtime.ttnn
    full = ttnn.to_torch(x.tt, mesh_composer=ttnn.ConcatMeshToTensor(x.mesh, dim=0)).float()
    rp, cp = x.padded_shape
    full = quantize(full.reshape(N_DEVICES * rp, cp), x.dtype)
    return [full[d * rp:d * rp + x.shape[0], : x.shape[1]].contiguous() for d in range(N_DEVICES)]


def all_gather_rows(x: MeshTensor) -> Any:
    """ttnn's all_gather along dim 0: every device then holds ``[2 * Rp, Cp]``, device 0's part on top.

    On hardware this is the fabric collective (the only inter-device transfer TT-Lang 1.1.1 can use);
    on the simulator it is a host emulation that stacks two identical copies (global ``[4 Rp, Cp]``).

    The 1.1.1 simulator's all_gather returns a tensor declared with its float32 *backing* dtype; the
    declared dtype of the input is put back (values are unchanged: they were bf16 values already), so the
    select sees the dtype a device would and the traffic trace counts bf16 tiles as 2 KiB."""
    out = runtime.ttnn.all_gather(x.tt, dim=0)
    if getattr(out, "dtype", None) != getattr(x.tt, "dtype", None) and hasattr(out, "_dtype"):
        out._dtype = x.tt.dtype  # simulator Tensor only (see the docstring)
    return out


# ------------------------------------------------------------------------------ per-device tensors <-> mesh


def _sim_storage(tt: Any) -> torch.Tensor:
    """A simulator tensor's backing storage (its 'device memory'; not the host read-back ``ttnn.to_torch``)."""
    return tt.to_torch()


def _require_sim(arg: str) -> None:
    if not runtime.is_sim():
        raise RuntimeError(f"{arg}: assembling a mesh tensor from per-device tensors is implemented for the "
                           f"simulator's 1x2 mesh only (on a mesh device they are its shards already: "
                           f"ttnn.combine_device_tensors / "
                           f"get_device_tensors); backend is {runtime.backend_name()!r}")


def mesh_from_parts(parts: list, mesh: Any) -> MeshTensor:
    """The MeshTensor whose device ``d`` shard is ``parts[d]`` (TileTensors of one shape and dtype).

    On a mesh device a mesh tensor *is* its per-device buffers, so this moves nothing.  The simulator keeps a
    mesh tensor as one global tensor (the shards stacked along dim 0), so here the two devices' storages are
    stacked as they are: no value changes, no rounding, no host read-back, no device-to-device transfer
    (the only transfer in the exchange is ttnn's all_gather)."""
    from ..host import TileTensor

    _require_sim("parts")
    check_mesh(mesh)
    if len(parts) != N_DEVICES or not all(isinstance(p, TileTensor) for p in parts):
        got = [type(p).__name__ for p in parts]
        raise ValueError(f"parts: expected {N_DEVICES} TileTensors (one per device); got {got}")
    if len({(p.shape, p.dtype) for p in parts}) != 1:
        got = [(p.shape, p.dtype) for p in parts]
        raise ValueError(f"parts: every device's tensor must have one shape and dtype; got {got}")
    ttnn = runtime.ttnn
    g = torch.cat([_sim_storage(p.tt) for p in parts], dim=0)
    tt = ttnn.from_torch(g, dtype=parts[0].tt.dtype, layout=ttnn.TILE_LAYOUT, device=mesh,
                         mesh_mapper=ttnn.ShardTensorToMesh(mesh, dim=0))
    return MeshTensor(tt, mesh, parts[0].shape, parts[0].dtype)


def mesh_parts(x: MeshTensor) -> list:
    """The per-device shards of ``x`` as TileTensors (the inverse of :func:`mesh_from_parts`; copies of the
    simulator's storage, so kernels writing into one never alias the mesh tensor)."""
    from ..host import TileTensor

    _require_sim("x")
    ttnn = runtime.ttnn
    rp, _ = x.padded_shape
    g = _sim_storage(x.tt)
    if g.shape[0] != N_DEVICES * rp:
        raise ValueError(f"x: expected {N_DEVICES} x {rp} rows of storage; got {g.shape[0]}")
    return [TileTensor(ttnn.from_torch(g[d * rp:(d + 1) * rp].clone(), dtype=x.tt.dtype, layout=ttnn.TILE_LAYOUT),
                       x.shape, x.dtype)
            for d in range(N_DEVICES)]
