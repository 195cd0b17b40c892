"""Property tests: RoPE of Q and K on the simulator vs :func:`reference.rope.rope_rows` (HF's
``apply_rotary_pos_emb`` per head, checked against transformers in tests/test_reference_hf_norm_rope.py).

Tables: Llama-3 frequencies (theta 500000, llama3 scaling) for head_dim 128 and Qwen3's (theta 1e6) for
head_dim 64, built once for max_seq_len 131072 in bf16 and fp32; the reference uses the tables' stored
(quantised) values, as HF casts cos/sin to the activations' dtype.

Tolerances:
* fp32: |y - ref| <= 1e-6 |ref| + 1e-6 (the lookup is a one-hot matmul, exact; the rotation is the
  reference's own arithmetic) and PCC >= 0.99999.
* bf16, simulator in fp32-promotion mode: within 1 bf16 ULP of the fp32 reference rounded to bf16;
  PCC >= 0.99999.
* bf16, simulator in bf16 mode (products and sums rounded to bf16): PCC >= 0.9997 (tt-metal's RoPE
  criterion) and |y - ref| <= 2^-5 (|ref| + 1).  Measured: PCC 0.999997, worst 0.013.
Padding: q, k padded with the sentinel -42; padding rows of a user tile row select nothing.
"""

from __future__ import annotations

import pytest
import torch
from _kernel_helpers import assert_rejected, check_tolerance
from conftest import examples
from hypothesis import given
from hypothesis import strategies as st

from reference import BF16
from reference import rope as ref
from ttl_kernels import host, runtime
from ttl_kernels.host import TILE_BYTES, tiles
from ttl_kernels.rope import LLAMA3_SCALING, RopeTables, plan_rope, rope, rope_prefill
from ttl_kernels.rope.rope import make_rope
from ttl_kernels.trace import trace_traffic

MAX_LEN = 131072
_TABLES: dict = {}


def tables(head_dim: int, dtype: str, max_seq_len: int = MAX_LEN) -> RopeTables:
    """Cached per simulator precision mode too: device tensors made in one mode do not mix with the other's."""
    key = (head_dim, dtype, max_seq_len, runtime.sim_precision())
    if key not in _TABLES:
        theta, scaling = (500000.0, LLAMA3_SCALING) if head_dim == 128 else (1e6, None)
        _TABLES[key] = RopeTables.from_config(head_dim, theta, scaling, max_seq_len, dtype)
    return _TABLES[key]



def expected(q, k, tab: RopeTables, positions):
    """Reference on the stored table values (float32 q/k of the kernel's dtype)."""
    cos, sin = host.quantize(tab.host_cos, tab.dtype), host.quantize(tab.host_sin, tab.dtype)
    return ref.rope_rows(q, k, cos, sin, positions)


def check(name, y, expect, dtype, mode="fp32"):
    """The documented tolerance for ``dtype`` ("bf16"/"fp32") under simulator ``mode``."""
    check_tolerance(name, y, expect, dtype, mode, fp32_tol=1e-6, bf16_mode_pcc=0.9997)


def _qk(rows, n_q, n_kv, d, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(rows, n_q * d, generator=g), torch.randn(rows, n_kv * d, generator=g)


@st.composite
def decode_positions(draw, rows):
    """Per-user positions: uniform over the table, clustered (users in lockstep), or at the edges."""
    kind = draw(st.sampled_from(["uniform", "cluster", "edges"]))
    if kind == "uniform":
        return draw(st.lists(st.integers(0, MAX_LEN - 1), min_size=rows, max_size=rows))
    if kind == "cluster":
        base = draw(st.integers(0, MAX_LEN - 64))
        return draw(st.lists(st.integers(base, base + 63), min_size=rows, max_size=rows))
    edges = [0, 1, 31, 32, 33, MAX_LEN - 33, MAX_LEN - 32, MAX_LEN - 1]
    return draw(st.lists(st.sampled_from(edges), min_size=rows, max_size=rows))


heads_st = st.tuples(st.integers(1, 8), st.sampled_from([1, 2, 4]))  # (n_kv, n_q / n_kv)


@examples(12)
@given(data=st.data(), rows=st.integers(1, 64), heads=heads_st, d=st.sampled_from([64, 128]),
       dtype=st.sampled_from([BF16, torch.float32]), seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_rope_decode(data, rows, heads, d, dtype, seed):
    """torch in -> torch out; one position per user, anywhere in [0, 131072)."""
    n_kv, grp = heads
    positions = data.draw(decode_positions(rows))
    tab = tables(d, "fp32" if dtype == torch.float32 else "bf16")
    q, k = (t.to(dtype) for t in _qk(rows, n_kv * grp, n_kv, d, seed))
    yq, yk = rope(q, k, tab, positions, n_q_heads=n_kv * grp, n_kv_heads=n_kv)
    assert yq.dtype == dtype and yk.dtype == dtype
    eq, ek = expected(q.float(), k.float(), tab, positions)
    check("q", yq, eq, tab.dtype)
    check("k", yk, ek, tab.dtype)


@examples(5)
@given(rows=st.integers(1, 96), heads=heads_st, d=st.sampled_from([64, 128]), dtype=st.sampled_from(["bf16", "fp32"]),
       start=st.one_of(st.integers(0, MAX_LEN - 96), st.sampled_from([0, 32, 4096, MAX_LEN - 96]),
                       st.just(MAX_LEN - 1)),
       seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_rope_prefill_sentinel_padding(rows, heads, d, dtype, start, seed, sim_mode):
    """A run of positions ``start ..`` (aligned and not, up to the table's end); TileTensors padded with
    -42; both simulator precision modes."""
    n_kv, grp = heads
    # bf16 simulator mode needs its own device tables; keep those to 8192 positions (memory)
    max_len = MAX_LEN if sim_mode == "fp32" else 8192
    start = min(start % max_len, max_len - rows)
    tab = tables(d, dtype, max_len)
    q, k = _qk(rows, n_kv * grp, n_kv, d, seed)
    tq, tk = host.to_device(q, dtype, pad_value=host.SENTINEL), host.to_device(k, dtype, pad_value=host.SENTINEL)
    yq, yk = rope_prefill(tq, tk, tab, start)
    assert isinstance(yq, host.TileTensor) and yq.shape == tq.shape and yk.shape == tk.shape
    positions = list(range(start, start + rows))
    eq, ek = expected(host.quantize(q, dtype), host.quantize(k, dtype), tab, positions)
    check("q", host.to_torch(yq), eq, dtype, sim_mode)
    check("k", host.to_torch(yk), ek, dtype, sim_mode)


@pytest.mark.parametrize("rows, start, clamp", [(40 * 32 + 5, 1000 * 32 + 7, 0),
                                                (17 * 32 + 5, MAX_LEN - (17 * 32 + 5), 1)])
def test_kernel_parity_rope_long_prefill_uses_the_formula_plan(rows, start, clamp):
    """More tile rows than the 32 slots: the prefill plan (address formula, shared shift selectors) for an
    unaligned start, one launch; ending at the table's last position, the last tile row's second slot is
    clamped back into the table (its rows past the end select nothing real)."""
    tab = tables(64, "fp32")
    launches = plan_rope(list(range(start, start + rows)), 2, 2, 1, tab.rows_t, runtime.grid())
    assert len(launches) == 1
    plan = launches[0][0]
    assert plan.selstep == 0 and plan.k == 2 and plan.clamp == clamp
    q, k = _qk(rows, 2, 1, 64, 1)
    yq, yk = rope_prefill(q, k, tab, start)
    eq, ek = expected(q, k, tab, range(start, start + rows))
    check("q", yq, eq, "fp32")
    check("k", yk, ek, "fp32")


def test_kernel_parity_rope_many_users_split_launches():
    """64 users at scattered positions need 64 table tile rows: two launches of 32 slots."""
    g = torch.Generator().manual_seed(7)
    tile_rows = torch.randperm(MAX_LEN // 32, generator=g)[:64]
    positions = (tile_rows * 32 + torch.randint(0, 32, (64,), generator=g)).tolist()
    tab = tables(128, "bf16")
    launches = plan_rope(positions, 4, 8, 8, tab.rows_t, runtime.grid())
    assert [p.tile_rows for p, _ in launches] == [1, 1] and all(p.k == 32 for p, _ in launches)
    q, k = (t.to(BF16) for t in _qk(64, 8, 8, 128, 2))
    yq, yk = rope(q, k, tab, positions)
    eq, ek = expected(q.float(), k.float(), tab, positions)
    check("q", yq, eq, "bf16")
    check("k", yk, ek, "bf16")


# ------------------------------------------------------------------------------- compile variants


def test_rope_compile_variants_follow_table_tile_rows():
    """The kernel is cached per tuple of table tile rows: positions moving inside their 32-position tile
    rows reuse it (only the runtime selector changes); crossing into another tile row compiles anew."""
    tab = tables(64, "fp32")
    q, k = _qk(32, 2, 1, 64, 3)
    make_rope.cache_clear()
    base = [100 * 32 + (b % 16) for b in range(32)]
    rope(q, k, tab, base)
    rope(q, k, tab, [p + 16 for p in base])  # same tile row 100
    info = make_rope.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    y = rope(q, k, tab, [p + 32 for p in base])  # tile row 101: a new variant
    assert make_rope.cache_info().misses == 2
    eq, _ = expected(q, k, tab, [p + 32 for p in base])
    check("q", y[0], eq, "fp32")


# ------------------------------------------------------------------------------------------ bad input


def _ok():
    return torch.randn(4, 2 * 64), torch.randn(4, 64)


@pytest.mark.parametrize("call, arg", [
    (lambda t: rope(*_ok(), t, [0, 1, 2, 131072]), "positions"),
    (lambda t: rope(*_ok(), t, [0, 1, 2, -1]), "positions"),
    (lambda t: rope(*_ok(), t, [0, 1, 2]), "positions"),
    (lambda t: rope(*_ok(), t, torch.tensor([0.0, 1.0, 2.0, 3.0])), "positions"),
    (lambda t: rope(*_ok(), t, "0123"), "positions"),
    (lambda t: rope(torch.randn(4, 100), torch.randn(4, 64), t, [0, 1, 2, 3]), "q"),
    (lambda t: rope(torch.randn(4, 128), torch.randn(4, 96), t, [0, 1, 2, 3]), "k"),
    (lambda t: rope(torch.randn(4, 128), torch.randn(5, 64), t, [0, 1, 2, 3]), "k"),
    (lambda t: rope(torch.randn(4, 128), torch.randn(4, 64).to(BF16), t, [0, 1, 2, 3]), "k"),
    (lambda t: rope(torch.randn(4, 3 * 64), torch.randn(4, 2 * 64), t, [0, 1, 2, 3]), "n_kv_heads"),
    (lambda t: rope(*_ok(), t, [0, 1, 2, 3], n_q_heads=4), "n_q_heads"),
    (lambda t: rope(*_ok(), t, [0, 1, 2, 3], n_kv_heads=2), "n_kv_heads"),
    (lambda t: rope(torch.randn(4, 128).to(BF16), torch.randn(4, 64).to(BF16), t, [0, 1, 2, 3]), "tables"),
    (lambda t: rope(*_ok(), None, [0, 1, 2, 3]), "tables"),
    (lambda t: rope_prefill(*_ok(), t, -3), "start"),
    (lambda t: rope_prefill(*_ok(), t, MAX_LEN - 2), "positions"),
])
def test_bad_input_rope(call, arg):
    tab = tables(64, "fp32")
    assert_rejected(lambda: call(tab), arg)


@pytest.mark.parametrize("kw, arg", [
    (dict(head_dim=63, rope_theta=1e4), "head_dim"),
    (dict(head_dim=96, rope_theta=1e4), "head_dim"),  # halves of 48: not whole tiles
    (dict(head_dim=0, rope_theta=1e4), "head_dim"),
    (dict(head_dim=64, rope_theta=1e4, max_seq_len=0), "max_seq_len"),
    (dict(head_dim=64, rope_theta=0.5), "rope_theta"),
    (dict(head_dim=64, rope_theta=1e4, dtype="bfp8_b"), "dtype"),
    (dict(head_dim=64, rope_theta=1e4, rope_scaling={"rope_type": "yarn", "factor": 2.0}), "rope_scaling"),
])
def test_bad_input_rope_tables(kw, arg):
    with pytest.raises(ValueError) as e:
        RopeTables.from_config(**kw)
    assert str(e.value).split(":")[0] == arg


# --------------------------------------------------------------------------------------------- traffic


@pytest.mark.parametrize("case", ["lockstep", "staggered", "prefill_aligned", "prefill_unaligned"])
def test_rope_traffic(case):
    """q, k read once and written once; per item (tile row x head group) the K table tile rows it needs
    (cos + sin, DH tiles each) and, except in aligned prefill, K selector tiles.  The head groups minimise the
    modelled time (``rope.head_groups_by_time``), not the lookup traffic."""
    d, n_q, n_kv, dtype = 128, 32, 8, "bf16"
    tab = tables(d, dtype, 8192)
    rows = 128 if case.startswith("prefill") else 32
    positions = {
        "lockstep": [5000 + (b % 7) for b in range(32)],
        "staggered": [b * 257 % 8192 for b in range(32)],
        "prefill_aligned": list(range(4096, 4096 + rows)),
        "prefill_unaligned": list(range(4100, 4100 + rows)),
    }[case]
    q, k = _qk(rows, n_q, n_kv, d, 0)
    tq, tk = host.to_device(q, dtype), host.to_device(k, dtype)
    launches = plan_rope(positions, d // 32, n_q, n_kv, tab.rows_t, runtime.grid())
    with trace_traffic() as t:
        yq, yk = rope(tq, tk, tab, positions)
    pt = t.per_tensor
    assert pt["q"]["read_bytes"] == tq.nbytes and pt["k"]["read_bytes"] == tk.nbytes
    assert pt["q_out"]["write_bytes"] == yq.nbytes and pt["k_out"]["write_bytes"] == yk.nbytes
    lookup = sum(p.n_items * p.lookup_tiles for p, _ in launches) * TILE_BYTES[dtype]
    assert t.read_bytes - tq.nbytes - tk.nbytes == lookup
    plan = launches[0][0]
    k_expected = {"lockstep": 1, "staggered": 32, "prefill_aligned": 1, "prefill_unaligned": 2}[case]
    assert plan.k == k_expected and plan.ident == (case == "prefill_aligned")
    if case == "lockstep":  # decode: one head per core (a head's rotation outweighs its core's 5 lookup tiles)
        assert plan.groups == n_q + n_kv and plan.heads_per_group == 1
    assert t.cores == sum(p.n_items for p, _ in launches) == tiles(rows) * plan.groups
