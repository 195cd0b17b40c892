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
        raise ValueError(f"{arg}: expected a 1x2 mesh device (ttnn.open_mesh_device(ttnn.MeshShape(1, 2))); got {type(mesh).__name__}")
    if dims != MESH_SHAPE:
        raise ValueError(f"{arg}: expected a 1x2 mesh (two devices side by side); got a {'x'.join(map(str, dims))} mesh")
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
