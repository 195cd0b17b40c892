"""Two-device exchange for ALSpec on a 1x2 mesh: ``swap`` and ``swap_with_priority``, and ALSpec's decision kernels.

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

ALSpec's on-device decisions (used by :mod:`models.alspec`)
-----------------------------------------------------------
* :mod:`.speculation_priority` (TT-Lang): a device's priority for a layer from its role tile and the
  speculative kernel's verdict tiles, ``P = 1 + R - 2 R prod_b verdict_b`` (sender 0 hit / 2 miss, receiver
  1), written in bf16 and fp32;
* :func:`exchange_priority` (all_gather, once per layer), :func:`mesh_keep_winner` (the priority select of a
  tensor for an exchanged pair) and :func:`mesh_winner` (1 on the device that won: the next layer's
  sender; the select kernel on a constant per-device tensor);
* :mod:`.group_select` (TT-Lang): inside one device, ``b`` where a condition tile is > 0 else ``a``, one
  condition tile per group of tile rows (verify-only: per user from the verdict; protocol: the sender's own
  exact output vs the shipped speculative one, from the role tile);
* :func:`mesh_from_parts` / :func:`mesh_parts`: per-device tensors stacked into a mesh tensor and split
  back (simulator only: on a mesh device the per-device tensors are the shards, nothing moves).
"""

from __future__ import annotations

import torch

from ..registry import KernelSpec, generator, model_dims, random_or_zeros, torch_dtype
from ..shapes import DECODE_ROWS
from . import _reference as reference
from ._mesh import MeshTensor, check_mesh, default_mesh, from_mesh, mesh_dims, mesh_from_parts, mesh_parts, to_mesh
from .group_select import group_select
from .mesh_select import mesh_select
from .speculation_priority import speculation_priority
from .swap import (
    GatheredPriority,
    exchange_priority,
    mesh_keep_winner,
    mesh_swap,
    mesh_swap_with_priority,
    mesh_winner,
    priority_tiles,
    swap,
    swap_with_priority,
)


def _select_args(rows: int, cols: int, dtype: str = "bf16", seed: int | None = None) -> tuple:
    """``gathered [2 * rows, cols]`` and a priority pair ``[64, 32]`` (random small integers with a seed)."""
    gen = generator(seed)
    g = random_or_zeros((2 * rows, cols), dtype, gen)
    if gen is None:
        return g, random_or_zeros((64, 32), dtype, None)
    return g, torch.randint(0, 3, (64, 32), generator=gen).to(torch_dtype(dtype))


def _select_cases() -> list[dict]:
    return [dict(rows=DECODE_ROWS, cols=h, dtype="bf16") for h in model_dims("hidden")]


def _group_select_args(n_groups: int, group: int, cols: int, dtype: str = "bf16", seed: int | None = None) -> tuple:
    """``cond [n_groups * 32, 32]`` (uniform 0 / 1 tiles with a seed) and ``a, b [n_groups * group * 32, cols]``."""
    gen = generator(seed)
    rows = n_groups * group * 32
    a, b = random_or_zeros((rows, cols), dtype, gen), random_or_zeros((rows, cols), dtype, gen)
    if gen is None:
        return random_or_zeros((n_groups * 32, 32), dtype, None), a, b
    bits = torch.randint(0, 2, (n_groups, 1, 1), generator=gen).float().expand(n_groups, 32, 32)
    return bits.reshape(n_groups * 32, 32).to(torch_dtype(dtype)), a, b


def _group_select_cases() -> list[dict]:
    """The decode attention output of each model (verify-only ALSpec: one verdict per user, n_kv tile rows
    each) at batch 1 and 4 (at batch 1 also the protocol's role select: one tile for all rows), and the role
    select of Llama-3.1-8B at batch 4."""
    from ..shapes import MODEL_SHAPES

    out = []
    for m in MODEL_SHAPES.values():
        for b in (1, 4):
            case = dict(n_groups=b, group=m["n_kv"], cols=m["head_dim"], dtype="bf16")
            if case not in out:
                out.append(case)
    return out + [dict(n_groups=1, group=4 * 8, cols=128, dtype="bf16")]  # the protocol's role select, 8B at batch 4


def _priority_args(batch: int, seed: int | None = None) -> tuple:
    gen = generator(seed)
    if gen is None:
        return torch.zeros(batch * 32, 32, dtype=torch_dtype("bf16")), torch.zeros(32, 32, dtype=torch_dtype("bf16"))
    v = torch.randint(0, 2, (batch, 1, 1), generator=gen).float().expand(batch, 32, 32).reshape(batch * 32, 32)
    r = torch.full((32, 32), float(torch.randint(0, 2, (1,), generator=gen)))
    return v.to(torch_dtype("bf16")), r.to(torch_dtype("bf16"))


def _priority_cases() -> list[dict]:
    return [dict(batch=b) for b in (1, 2, 4, 32)]


KERNEL_SPECS = [
    KernelSpec(
        "mesh_select", mesh_select, reference.mesh_select, _select_args,
        ("sign_tile", "relu_tile", "mul_(binary_tile|tiles)", "add_(binary_tile|tiles)"), _select_cases,
    ),
    KernelSpec(
        "group_select", group_select, reference.group_select, _group_select_args,
        ("sign_tile", "relu_tile", "mul_(binary_tile|tiles)", "add_(binary_tile|tiles)"), _group_select_cases,
        kwargs=lambda **p: {"group": p["group"]} if "group" in p else {},
    ),
    KernelSpec(
        "speculation_priority", speculation_priority, reference.speculation_priority, _priority_args,
        ("mul_(binary_tile|tiles)", "add_(binary_tile|tiles)", "sub_(binary_tile|tiles)", "typecast_tile"),
        _priority_cases,
    ),
]

__all__ = [
    "KERNEL_SPECS",
    "GatheredPriority",
    "MeshTensor",
    "check_mesh",
    "default_mesh",
    "exchange_priority",
    "from_mesh",
    "group_select",
    "mesh_dims",
    "mesh_from_parts",
    "mesh_keep_winner",
    "mesh_parts",
    "mesh_select",
    "mesh_swap",
    "mesh_swap_with_priority",
    "mesh_winner",
    "priority_tiles",
    "reference",
    "speculation_priority",
    "swap",
    "swap_with_priority",
    "to_mesh",
]
