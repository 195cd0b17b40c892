"""Two-device exchange for ALSpec on a 1x2 mesh: ``swap`` and ``swap_with_priority``.

What runs where
---------------
TT-Lang 1.1.1 has no inter-device primitive.  An operation given mesh tensors is compiled once and run
SPMD: every device runs the same program on its *own* shard (``tensor.shape`` is the per-device shape in
``ttl.ttl_api``), and pipes/PipeNets address cores of one chip only (``ttl._pipenets``: "NodeCoord is
intra-chip").  A TT-Lang kernel therefore cannot read the peer device's memory, so the transfer itself is
ttnn's collective ``all_gather`` (over the Ethernet fabric on hardware).  What TT-Lang does is the part
that must be decided on the device: :mod:`.mesh_select` picks, from the gathered pair, the part a device
keeps, using a 0/1 selector computed from priority tiles (no host branch, identical op sequence on both
devices).  ``swap(a, b)``: device 0 keeps device 1's part and vice versa; ``swap_with_priority``: both keep
the higher-priority device's part, ties keep device 0's (lower device id wins), so both always agree.

An op over the mesh's global ``[2R, C]`` tensor that copies shard 0's rows into shard 1's slot would run
on the simulator (which executes an op once on the global tensor) but is not a program a device can run:
on hardware each device's instance sees only its ``[R, C]`` shard.  It is deliberately not written.

What the simulator's multi-device model exercises, and what it does not
-----------------------------------------------------------------------
(tt-lang 1.1.1, ``ttl/sim/ttnnsim.py``; the multi-device tutorials are ``ttl/tutorials/matmul/step_5..7``.)

Exercised:

* the ttnn API surface: ``open_mesh_device(MeshShape(1, 2))``, ``ShardTensorToMesh(mesh, dim=0)``,
  ``ConcatMeshToTensor``, ``all_gather(dim=0)``: the same host code runs on the simulator and on a mesh;
* the *values*: after the gather each device view holds both parts, and the TT-Lang select runs once per
  device view, with its per-device selector, through the same kernel body a device runs (the select is
  told how many device views its tensors stack: 2 on the simulator, 1 per device on hardware);
* the select kernel's dataflow (per-core reads/writes, DFB protocol) and its traffic in the copy trace.

Not exercised (the simulator has no model of it):

* **no real devices or fabric**: ``open_mesh_device`` returns a stub holding the shape; ``set_fabric_config``
  is a no-op; there is one address space.  ``ShardTensorToMesh`` only tags the tensor with
  ``MeshShardInfo(dim, num_devices)``; ``ReplicateTensorToMesh`` and ``ConcatMeshToTensor`` do nothing.
* **collectives are host emulations**: ``all_gather`` / ``all_reduce`` are ``torch.cat`` / sums on the host
  copy of the tensor.  No Ethernet transfer, no link bandwidth or latency (n300: ~12.5 GB/s per direction
  usable by kernels), no packetisation, no EDM/fabric routers, no semaphores; they do not appear in the
  traffic trace.  Link time comes from the latency model (``models/alspec_latency.py``) instead.
* **no asynchrony or overlap**: every op runs to completion before the next, one device view after the
  other.  ALSpec's point (the sender's exact attention overlapping the receiver's post-attention work,
  ``swap_tensor_async``) is not simulated; only the values it produces are.
* **no per-device programs**: an op runs once on the global tensor, so a kernel that reads outside its own
  shard (or indexes by a device id it cannot know) would pass here and fail on hardware.  The select never
  does: view ``v`` reads only rows of view ``v``.
* **no per-device failure modes**: ordering between the two devices, deadlock across devices, mismatched
  op sequences on the two devices, and memory limits per device are not checked.
* **compile-only checks cover the select only**: the mock targets are single chips (n150 / p150), so the
  compiled program is one device's select at the per-device shapes; ``all_gather`` is ttnn's own op and is
  neither simulated at the device level nor compiled here.

Layouts and exactness: see :mod:`.mesh_select` (priority tiles are 32 x 32, every element the priority;
the select is exact for finite data).
"""

from __future__ import annotations

import torch

from ..registry import KernelSpec, generator, model_dims, random_or_zeros, torch_dtype
from ..shapes import DECODE_ROWS
from . import _reference as reference
from ._mesh import MeshTensor, check_mesh, default_mesh, from_mesh, mesh_dims, to_mesh
from .mesh_select import mesh_select
from .swap import mesh_swap, mesh_swap_with_priority, priority_tiles, swap, swap_with_priority


def _select_args(rows: int, cols: int, dtype: str = "bf16", seed: int | None = None) -> tuple:
    """``gathered [2 * rows, cols]`` and a priority pair ``[64, 32]`` (random small integers with a seed)."""
    gen = generator(seed)
    g = random_or_zeros((2 * rows, cols), dtype, gen)
    if gen is None:
        return g, random_or_zeros((64, 32), dtype, None)
    return g, torch.randint(0, 3, (64, 32), generator=gen).to(torch_dtype(dtype))


def _select_cases() -> list[dict]:
    return [dict(rows=DECODE_ROWS, cols=h, dtype="bf16") for h in model_dims("hidden")]


KERNEL_SPECS = [
    KernelSpec(
        "mesh_select", mesh_select, reference.mesh_select, _select_args,
        ("sign_tile", "relu_tile", "mul_(binary_tile|tiles)", "add_(binary_tile|tiles)"), _select_cases,
    ),
]

__all__ = [
    "KERNEL_SPECS",
    "MeshTensor",
    "check_mesh",
    "default_mesh",
    "from_mesh",
    "mesh_dims",
    "mesh_select",
    "mesh_swap",
    "mesh_swap_with_priority",
    "priority_tiles",
    "reference",
    "swap",
    "swap_with_priority",
    "to_mesh",
]
