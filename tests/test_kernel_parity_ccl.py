"""Property tests: the two-device swap (all_gather + TT-Lang select) on the simulator's 1x2 mesh.

Tolerance: none.  The select multiplies by weights that are exactly 0 and 1 and adds, so for finite data
every result must equal the expected tensor exactly (``torch.equal``; -0.0 == +0.0), in both simulator
precision modes and for bf16 and fp32.
Ties: equal priorities keep device 0's tensor on both devices (lower device id wins).
Padding: single-device select inputs are padded with the sentinel -42; the valid region must match.
"""

from __future__ import annotations

import math
import re

import pytest
import torch
from _kernel_helpers import assert_rejected
from conftest import examples
from hypothesis import given
from hypothesis import strategies as st

from reference import BF16
from ttl_kernels import host, runtime
from ttl_kernels.ccl import (
    MeshTensor,
    default_mesh,
    from_mesh,
    mesh_select,
    mesh_swap,
    mesh_swap_with_priority,
    priority_tiles,
    reference,
    swap,
    swap_with_priority,
    to_mesh,
)
from ttl_kernels.trace import trace_traffic

dims = st.one_of(st.integers(1, 70), st.sampled_from([32, 64, 256, 300]))
prios = st.one_of(st.integers(0, 3), st.sampled_from([0.5, 1.5, -1.0, 7.0]))



def _pair(rows, cols, dtype, seed, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    a = (torch.randn(rows, cols, generator=g) * scale).to(dtype)
    b = (torch.randn(rows, cols, generator=g) * scale).to(dtype)
    return a, b


@examples(8)
@given(rows=dims, cols=dims, dtype=st.sampled_from([BF16, torch.float32]), seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_ccl_swap(rows, cols, dtype, seed):
    """Device 0 ends with b, device 1 with a, bit for bit."""
    a, b = _pair(rows, cols, dtype, seed)
    x, y = swap(a, b)
    ra, rb = reference.swap(a, b)
    assert x.dtype == dtype and y.dtype == dtype and x.shape == a.shape
    assert torch.equal(x.float(), ra) and torch.equal(y.float(), rb)


@examples(10)
@given(rows=dims, cols=dims, dtype=st.sampled_from([BF16, torch.float32]), prio_a=prios, prio_b=prios,
       seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_ccl_swap_with_priority(rows, cols, dtype, prio_a, prio_b, seed):
    """Both devices end with the higher-priority device's tensor; a tie keeps a (device 0) on both."""
    a, b = _pair(rows, cols, dtype, seed)
    x, y = swap_with_priority(a, prio_a, b, prio_b)
    ex, ey = reference.swap_with_priority(a, prio_a, b, prio_b)
    assert torch.equal(x.float(), ex) and torch.equal(y.float(), ey)
    assert torch.equal(x, y)
    assert torch.equal(x, b if prio_b > prio_a else a)


@pytest.mark.parametrize("prio_a, prio_b, winner", [(0, 1, "b"), (2, 1, "a"), (1, 0, "a"), (1, 2, "b"), (1, 1, "a"),
                                                    (torch.tensor(2.0), torch.tensor([1.0]), "a")])
def test_kernel_parity_ccl_alspec_priorities(prio_a, prio_b, winner):
    """ALSpec's values: sender 0 (hit) / 2 (miss), receiver 1; and the tie rule."""
    a, b = _pair(32, 256, BF16, 7)
    x, y = swap_with_priority(a, prio_a, b, prio_b)
    w = a if winner == "a" else b
    assert torch.equal(x, w) and torch.equal(y, w)


@examples(8)
@given(rows_t=st.integers(1, 3), cols=dims, dtype=st.sampled_from(["bf16", "fp32"]), seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_ccl_mesh_select_sentinel_padding(rows_t, cols, dtype, seed, sim_mode):
    """One device's select against the reference, with non-uniform priority tiles (element-wise choice
    inside each tile, ties included) and -42 in the padding; both simulator precision modes."""
    rows = 32 * rows_t
    g = torch.Generator().manual_seed(seed)
    gathered = torch.randn(2 * rows, cols, generator=g) * 5
    pair = torch.randint(0, 3, (64, 32), generator=g).float()
    tg = host.to_device(gathered, dtype, pad_value=host.SENTINEL)
    tp = host.to_device(pair, dtype)
    out = mesh_select(tg, tp)
    assert isinstance(out, host.TileTensor) and out.shape == (rows, cols) and out.dtype == dtype
    expect = reference.mesh_select(host.quantize(gathered, dtype), pair)
    assert torch.equal(host.to_torch(out), expect)


def test_kernel_parity_ccl_mesh_api_device_resident():
    """MeshTensor in, MeshTensor out: swap twice is the identity; a priority swap after a plain one keeps
    the winner's (swapped) part; nothing is read back to the host inside the calls."""
    mesh = default_mesh()
    a, b = _pair(40, 300, torch.float32, 3)
    x = to_mesh([a, b], mesh, "bf16")
    once = mesh_swap(x)
    twice = mesh_swap(once)
    qa, qb = host.quantize(a, "bf16"), host.quantize(b, "bf16")
    assert all(torch.equal(p, q) for p, q in zip(from_mesh(once), [qb, qa]))
    assert all(torch.equal(p, q) for p, q in zip(from_mesh(twice), [qa, qb]))
    # device 1 (now holding a) has the higher priority: both end with qa
    won = mesh_swap_with_priority(once, priority_tiles(0, 2, mesh, "bf16"))
    assert all(torch.equal(p, qa) for p in from_mesh(won))


def test_ccl_decisions_need_no_host_readback(monkeypatch):
    """Static graph, device-side decision: with the host read-back path disabled, the priority swap still
    runs (the winner is chosen from the priority tiles on the device, not by a host branch)."""
    mesh = default_mesh()
    a, b = _pair(32, 64, BF16, 5)
    x = to_mesh([a, b], mesh, "bf16")
    prio = priority_tiles(2, 1, mesh, "bf16")

    def no_readback(*args, **kwargs):
        raise AssertionError("host read-back inside the exchange")

    monkeypatch.setattr(runtime.backend().ttnn, "to_torch", no_readback)
    out = mesh_swap_with_priority(x, prio)
    monkeypatch.undo()
    assert all(torch.equal(p, host.quantize(a.float(), "bf16")) for p in from_mesh(out))


def test_ccl_simulator_multidevice_model():
    """Pins what the select relies on in the simulator's model (ttl/sim/ttnnsim.py): a mesh tensor is the
    global tensor tagged with its partition, all_gather stacks one full copy per device (global rows 4 Rp),
    and an op runs once over both device views."""
    ttnn = runtime.ttnn
    mesh = default_mesh()
    x = to_mesh([torch.zeros(32, 32), torch.ones(32, 32)], mesh, "bf16")
    assert tuple(x.tt.shape) == (64, 32)
    gathered = ttnn.all_gather(x.tt, dim=0)
    assert tuple(gathered.shape) == (128, 32)
    with trace_traffic() as t:
        mesh_swap(x)
    # per device view: 2 data tiles read, 2 priority tiles read, 1 tile written; two views in one op run;
    # every tile a bf16 tile (2 KiB): the gathered tensor keeps its declared dtype
    assert t.read_tiles == 2 * (2 + 2) and t.write_tiles == 2 * 1
    assert t.total_bytes == (2 * (2 + 2) + 2 * 1) * 2048


@pytest.mark.parametrize("rows, cols", [(32, 32), (32, 256), (32, 4096), (96, 1000), (256, 1024)])
def test_ccl_select_traffic(rows, cols):
    """Each gathered data tile is read once, each output tile written once, plus the two priority tiles
    per busy core; cores get >= 4 output tiles each, up to the whole grid."""
    g = torch.randn(2 * rows, cols)
    tg, tp = host.to_device(g), host.to_device(torch.zeros(64, 32))
    n_out = host.tiles(rows) * host.tiles(cols)
    gx, gy = runtime.grid()
    busy = min(-(-n_out // 4), gx * gy)
    with trace_traffic() as t:
        out = mesh_select(tg, tp)
    assert t.write_bytes == out.nbytes
    assert t.read_tiles == 2 * n_out + 2 * busy
    assert t.cores == busy
    assert t.read_bytes == t.read_tiles * host.TILE_BYTES["fp32"]
    assert t.total_bytes <= 1.17 * (tg.nbytes + tp.nbytes + out.nbytes)  # pair overhead: 2 tiles per >= 12 moved


# ---------------------------------------------------------------------------------------------- bad input


def _mesh(rows, cols):
    ttnn = runtime.ttnn
    return ttnn.open_mesh_device(ttnn.MeshShape(rows, cols))


@pytest.mark.parametrize("shape", [(2, 1), (1, 4), (1, 1), (2, 2)])
def test_bad_input_ccl_mesh_not_1x2(shape):
    a, b = _pair(32, 32, BF16, 0)
    m = _mesh(*shape)
    for call in (lambda: swap(a, b, mesh=m), lambda: swap_with_priority(a, 0, b, 1, mesh=m)):
        err = assert_rejected(call, "mesh")
        assert re.search(rf"^mesh: expected a 1x2 mesh.*got a {shape[0]}x{shape[1]} mesh", str(err))
    with pytest.raises(ValueError, match="^mesh: expected a 1x2 mesh device"):
        swap(a, b, mesh=object())


@pytest.mark.parametrize(
    "make, arg, match",
    [
        (lambda: (torch.randn(4, 5), torch.randn(4, 6)), "b", "shape"),
        (lambda: (torch.randn(4, 5), torch.randn(4, 5).to(BF16)), "b", "dtype"),
        (lambda: (torch.randn(4, 5).double(), torch.randn(4, 5).double()), "a", "dtype"),
        (lambda: (torch.randn(4), torch.randn(4)), "a", "2-D"),
        (lambda: (torch.randn(0, 5), torch.randn(0, 5)), "a", "empty"),
        (lambda: ([[1.0]], torch.randn(1, 1)), "a", "torch.Tensor"),
    ],
)
def test_bad_input_ccl_tensors(make, arg, match):
    a, b = make()
    for call in (lambda: swap(a, b), lambda: swap_with_priority(a, 0, b, 1)):
        with trace_traffic() as t, pytest.raises(ValueError, match=match) as e:
            call()
        assert str(e.value).split(":")[0] == arg
        assert t.copies == 0


@pytest.mark.parametrize("bad", [math.nan, math.inf, "high", True, None, torch.tensor([1.0, 2.0])])
def test_bad_input_ccl_priority(bad):
    a, b = _pair(8, 8, BF16, 0)
    with pytest.raises(ValueError, match="^prio_a: expected"):
        swap_with_priority(a, bad, b, 1)
    with pytest.raises(ValueError, match="^prio_b: expected"):
        swap_with_priority(a, 1, b, bad)


def test_bad_input_ccl_mesh_level():
    mesh = default_mesh()
    a, b = _pair(32, 64, BF16, 0)
    x = to_mesh([a, b], mesh, "bf16")
    with pytest.raises(ValueError, match="^x: expected a MeshTensor"):
        mesh_swap(host.to_device(a))
    with pytest.raises(ValueError, match="^prio: expected a MeshTensor"):
        mesh_swap_with_priority(x, 1.0)
    with pytest.raises(ValueError, match=r"^prio: expected one \(32, 32\) tile"):
        mesh_swap_with_priority(x, to_mesh([torch.zeros(32, 64)] * 2, mesh, "bf16"))
    with pytest.raises(ValueError, match="^prio: dtype fp32 does not match"):
        mesh_swap_with_priority(x, priority_tiles(0, 1, mesh, "fp32"))
    with pytest.raises(ValueError, match="^prio: expected a MeshTensor on the same mesh"):
        other = _mesh(1, 2)
        mesh_swap_with_priority(x, priority_tiles(0, 1, other, "bf16"))
    with pytest.raises(ValueError, match="^x: expected a 1x2 mesh"):
        mesh_swap(MeshTensor(x.tt, _mesh(2, 1), x.shape, x.dtype))


@pytest.mark.parametrize(
    "g, p, arg",
    [
        (torch.randn(48, 32), torch.zeros(64, 32), "gathered"),  # halves are not whole tile rows
        (torch.randn(64, 32), torch.zeros(32, 32), "pair"),
        (torch.randn(64, 32), torch.zeros(64, 32).to(BF16), "pair"),  # dtype differs
        (torch.randn(64, 32).double(), torch.zeros(64, 32), "gathered"),
    ],
)
def test_bad_input_ccl_mesh_select(g, p, arg):
    assert_rejected(lambda: mesh_select(g, p), arg)
