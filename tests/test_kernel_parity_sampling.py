"""Property tests: token selection on the device (argmax, greedy accept) on the simulator vs the torch references.

Tolerance: none.  Ids are integers and must come out exactly (``torch.equal``, NaN where the reference has
NaN), in both simulator precision modes, for bf16 and fp32 logits:

* argmax equals :func:`reference.sampling.argmax`, which is ``torch.argmax`` (ties to the lowest id) for rows of
  finite values below ``FLT_MAX`` in magnitude; ``+inf`` ties with ``FLT_MAX`` and ``-inf`` with ``-FLT_MAX``; a
  row of all ``-inf`` gives 0; a row holding a NaN gives NaN (the host helper then raises);
* the id tile carries ``(i, i // 1024, i % 1024)`` in columns 0, 1, 2 and 0 in the others;
* padding columns of the last tile never win: inputs are padded with ``+inf``, ``FLT_MAX``, 1e30, 0 and the
  sentinel -42 while every real logit is negative; a NaN in the padding poisons the row (documented);
* greedy_accept equals :func:`reference.sampling.greedy_accept`, and :func:`greedy_accept_ids` equals
  :func:`models.sampling.greedy_verify` with only the result tile read back.

Example counts are small (the simulator runs every core of the grid); `make test-thorough` runs more.
"""

from __future__ import annotations

import math

import pytest
import torch
from conftest import examples
from hypothesis import given
from hypothesis import strategies as st

from models.sampling import greedy_verify
from reference import BF16
from reference import sampling as ref
from ttl_kernels import host, runtime
from ttl_kernels.sampling import argmax, argmax_plan, greedy_accept, greedy_accept_ids
from ttl_kernels.sampling._plan import ID_BASE, MAX_UNIT_TILES, id_columns, plan_argmax
from ttl_kernels.trace import trace_traffic

FLT_MAX = ref.FLT_MAX
DTYPES = {"bf16": BF16, "fp32": torch.float32}
rows_st = st.one_of(st.integers(1, 40), st.sampled_from([16, 32, 33]))
vocab_st = st.one_of(st.integers(1, 2500), st.sampled_from([31, 32, 33, 1000, 2048, 4096, 4100]))


def _logits(rows, vocab, dtype, seed, ties=0):
    """Random logits (values of the dtype), with ``ties`` extra copies of each row's max at random columns."""
    g = torch.Generator().manual_seed(seed)
    x = host.quantize(torch.randn(rows, vocab, generator=g) * 4, dtype)
    if ties and vocab > 1:
        cols = torch.randint(0, vocab, (rows, ties), generator=g)
        x.scatter_(1, cols, x.max(1, keepdim=True).values.expand(rows, ties).contiguous())
    return x


def _ids(t: host.TileTensor) -> torch.Tensor:
    return host.to_torch(t)[:, 0]


def _check_id_tile(t: host.TileTensor, expect: torch.Tensor):
    """Columns 0, 1, 2 of the id tiles are (i, i // 1024, i % 1024), the rest 0 (finite rows)."""
    full = host.to_torch(t, padded=True)[: expect.shape[0]]
    fin = torch.isfinite(expect)
    assert torch.equal(full[fin, :3], id_columns(expect[fin]))
    assert not full[fin, 3:].any()


@examples(8)
@given(rows=rows_st, vocab=vocab_st, dtype=st.sampled_from(["bf16", "fp32"]), ties=st.sampled_from([0, 0, 1, 5]),
       seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_sampling_argmax(rows, vocab, dtype, ties, seed):
    """torch in -> torch out; equals the reference and torch.argmax (finite logits), ties to the lowest id."""
    x = _logits(rows, vocab, dtype, seed, ties)
    y = argmax(x.to(DTYPES[dtype]))
    assert y.dtype == torch.float32 and y.shape == (rows, 1)
    assert torch.equal(y, ref.argmax(x))
    assert torch.equal(y[:, 0], x.argmax(-1).float())


@examples(6)
@given(rows=st.integers(1, 35), vocab=vocab_st, dtype=st.sampled_from(["bf16", "fp32"]),
       pad=st.sampled_from([math.inf, FLT_MAX, 1e30, 0.0, host.SENTINEL]), seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_sampling_argmax_padding_never_wins(rows, vocab, dtype, pad, seed, sim_mode):
    """Device-resident logits, every real value negative, padding (last tile's columns and rows) filled with
    values above them all: the padding never wins; the id tile layout holds; both simulator modes."""
    x = host.quantize(-_logits(rows, vocab, dtype, seed).abs() - 1.0, dtype)
    t = argmax(host.to_device(x, dtype, pad_value=pad))
    assert isinstance(t, host.TileTensor) and t.shape == (rows, 1) and t.dtype == "fp32"
    expect = ref.argmax(x)[:, 0]
    assert torch.equal(_ids(t), expect)
    _check_id_tile(t, expect)


@pytest.mark.parametrize("dtype", ["bf16", "fp32"])
def test_kernel_parity_sampling_argmax_special_values(dtype):
    """-inf rows, +inf (first one wins, ties with FLT_MAX), ties spanning units and tiles, NaN rows (NaN id,
    other rows unaffected), NaN in the padding (poisons the row)."""
    v = 2100  # 66 tiles: two units on the 8 x 8 grid (a tie across them is a tie across units)
    x = torch.randn(12, v) * 3
    x[0] = -math.inf  # all -inf -> 0
    x[1, :] = -math.inf
    x[1, 1500] = -1e30  # the only finite value
    x[2, 40] = math.inf
    x[2, 7] = math.inf  # first +inf
    x[3, 2099] = math.inf
    x[3, 5] = FLT_MAX  # FLT_MAX ties with +inf: the lower id (5); torch says 2099 in fp32 (bf16: FLT_MAX is inf)
    x[4, [2098, 33, 2050]] = 50.0  # tie across units: 33
    x[5, [31, 32]] = 50.0  # tie across a tile boundary: 31
    x[6, 2099] = 50.0  # the last valid column
    x[7, 0] = 50.0  # the first column
    x[8, 1234] = math.nan  # NaN row -> NaN
    x[9, :] = -FLT_MAX
    x[9, 700] = -math.inf  # -FLT_MAX everywhere else: ties at -FLT_MAX -> 0
    x[10, 64] = 50.0
    x[10, 65] = 50.0  # adjacent tie: 64
    x[11] = -x[11].abs()  # all negative, the padding (0.0) must not win
    x = host.quantize(x, dtype)
    y = _ids(argmax(host.to_device(x, dtype, pad_value=0.0)))
    expect = ref.argmax(x)[:, 0]
    assert torch.equal(y.nan_to_num(-7.0), expect.nan_to_num(-7.0))
    assert y[:8].tolist() == [0, 1500, 7, 5, 33, 31, 2099, 0]
    assert math.isnan(y[8]) and y[9] == 0 and y[10] == 64
    # NaN in the padding of the last tile: that row's id is NaN (documented; there is no NaN-proof select)
    y = _ids(argmax(host.to_device(x[10:12], dtype, pad_value=math.nan)))
    assert y.isnan().all()


@pytest.mark.parametrize("vocab, cols", [(70000, [69999, 65537, 0, 256, 257, 2047, 2048, 32767, 65536]),
                                          (151936, [151935, 131073, 99999, 1025])])
def test_kernel_parity_sampling_argmax_large_ids(vocab, cols):
    """Ids above 65,536 (and around 2^8, 2^11, 2^15, 2^16) come out exactly: one row per position of the max,
    bf16 logits (where zoecarver's argmax rounds the index through bf16)."""
    x = host.quantize(torch.randn(len(cols), vocab) * 2, "bf16")
    for r, c in enumerate(cols):
        x[r, c] = 30.0
    t = argmax(host.to_device(x, "bf16"))
    assert _ids(t).tolist() == [float(c) for c in cols]
    _check_id_tile(t, torch.tensor(cols, dtype=torch.float32))


def test_sampling_argmax_plan():
    """Units cover every tile once, at most 64 tiles each, balanced over the n150 and p150 grids."""
    for rows, vocab in [(1, 4096), (16, 128256), (32, 151936), (1, 151936), (512, 151936), (3, 1000), (1, 20)]:
        for grid in [(8, 8), (13, 10)]:
            p, m = plan_argmax(rows, vocab, "bf16", grid)
            assert p.w <= MAX_UNIT_TILES and 1 <= p.wl <= p.w and p.vocab == vocab
            covered = [t for cu in range(p.nuc) for t in range(*p.unit_tiles(cu))]
            assert covered == list(range(p.cols_t))
            for u in range(p.n_items):  # the threads' index lines agree with unit_tiles
                rt, cu, last, n, c0 = p.unit_lines(u)
                assert (rt, cu, last) == (u // p.nuc, u % p.nuc, int(cu == p.nuc - 1))
                assert (c0, c0 + n) == p.unit_tiles(cu)
            assert p.gx * p.gy <= grid[0] * grid[1] and m.n_items == p.rows_t
            if p.n_items >= p.n_cores:
                assert p.load_balance() <= 1.1, (rows, vocab, grid, p)


def test_sampling_argmax_traffic_qwen3():
    """DRAM traffic at Qwen3's vocabulary, 32 rows, bf16: the logits once plus partials and constants, within
    10% of the minimum (logits read once, ids written once)."""
    x = host.to_device(torch.randn(32, 151936), "bf16")
    with trace_traffic() as t:
        y = argmax(x)
    minimum = x.nbytes + y.nbytes
    p, _ = argmax_plan(32, 151936)
    print(f"argmax 32 x 151936 bf16: {t.total_bytes} B moved, minimum {minimum} B, "
          f"ratio {t.total_bytes / minimum:.4f}, {p.nuc} units of {p.w} tiles on {t.cores} cores")
    assert t.per_tensor  # the trace saw the copies
    assert t.total_bytes <= 1.10 * minimum
    assert t.read_bytes >= x.nbytes


# ------------------------------------------------------------------------------------------- accept rule


def _verify_block(k, n, seed, vocab=151936):
    """Targets ``[k + 1]`` and proposals ``[k]`` agreeing on exactly the first ``n``."""
    g = torch.Generator().manual_seed(seed)
    t = torch.randint(0, vocab, (k + 1,), generator=g).float()
    p = t[:k].clone()
    if n < k:
        p[n] = (p[n] + 1 + torch.randint(0, vocab - 1, (1,), generator=g).float()) % vocab
    return p, t


@examples(10)
@given(k=st.one_of(st.integers(1, 70), st.sampled_from([15, 31, 32, 63, 64, 127])), data=st.data(),
       seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_sampling_greedy_accept(k, data, seed):
    """Random ids up to 151,935, a chosen accepted length n (0..k): equals the reference; garbage (NaN, inf,
    huge) in the target rows past k is ignored."""
    n = data.draw(st.integers(0, k))
    p, t = _verify_block(k, n, seed)
    rt = -(-(k + 1) // 32)
    cols = id_columns(torch.full((rt * 32,), math.nan))
    cols[: k + 1] = id_columns(t)
    cols[k + 1:] = torch.tensor([math.inf, 3e38, math.nan])[torch.arange(rt * 32 - k - 1) % 3, None]
    tt = host.to_device(cols, "fp32")
    out = host.to_torch(greedy_accept(p, tt, k=k))
    assert torch.equal(out, ref.greedy_accept(p, t))
    assert out[1, 0] == n and out[0, : n + 1].tolist() == t[: n + 1].tolist()


@examples(4)
@given(k=st.sampled_from([1, 3, 7, 15, 31, 63]), dtype=st.sampled_from(["bf16", "fp32"]), data=st.data(),
       seed=st.integers(0, 2**31 - 1))
def test_kernel_parity_sampling_greedy_accept_ids(k, dtype, data, seed):
    """End to end on a verify block's logits: equals models.sampling.greedy_verify; the proposals come from the
    device (a draft's argmax output) or the host; only the result tile row is read back (4 KB, 8 KB for k = 63)."""
    vocab = data.draw(st.sampled_from([1000, 4096, 5003]))
    g = torch.Generator().manual_seed(seed)
    logits = host.quantize(torch.randn(k + 1, vocab, generator=g) * 4, dtype)
    target = logits.argmax(-1)
    n = data.draw(st.integers(0, k))
    proposal = target[:k].clone()
    proposal[n:] = (proposal[n:] + 1) % vocab
    expect_n, expect_next = greedy_verify(proposal.tolist(), logits)
    assert expect_n == n
    on_device = data.draw(st.booleans())
    if on_device:  # the draft's argmax of logits that put their max at the proposals
        draft = torch.zeros(k, vocab)
        draft[torch.arange(k), proposal] = 1.0
        props = argmax(host.to_device(draft, "bf16"))
    else:
        props = proposal.tolist()
    tl = host.to_device(logits, dtype)
    calls = []
    ttnn = runtime.backend().ttnn
    real = ttnn.to_torch

    def counting(*a, **kw):
        calls.append(1)
        return real(*a, **kw)

    ttnn.to_torch = counting
    try:
        res = greedy_accept_ids(tl, props)
    finally:
        ttnn.to_torch = real
    assert (res.n, res.next_token) == (expect_n, expect_next)
    assert res.ids == proposal[:n].tolist() + [expect_next]
    assert len(calls) == 1  # the result tile row, nothing else
    assert res.readback_bytes == (4096 if k < 32 else 8192)
    assert res.upload_bytes == (0 if on_device else res.readback_bytes)


def test_sampling_greedy_accept_ids_rejects_nan():
    """NaN logits in a verify row the rule reaches: the host helper raises instead of returning a token."""
    k = 4
    logits = torch.randn(k + 1, 300)
    target = logits.argmax(-1)
    logits[2, 17] = math.nan
    with pytest.raises(ValueError, match="NaN"):
        greedy_accept_ids(host.to_device(logits, "bf16"), target[:k].tolist())
    # a NaN after the accepted prefix is never looked at (greedy_verify ignores it too)
    props = target[:k].clone()
    props[0] = (props[0] + 1) % 300
    res = greedy_accept_ids(host.to_device(logits, "bf16"), props.tolist())
    assert (res.n, res.next_token) == (0, int(target[0]))


def test_sampling_greedy_accept_argument_errors():
    with pytest.raises(ValueError, match="k"):
        greedy_accept([1.0] * 128, torch.zeros(129, 1))
    with pytest.raises(ValueError, match="targets"):
        greedy_accept([1.0, 2.0], torch.zeros(2, 1))
    with pytest.raises(ValueError, match="proposals"):
        greedy_accept_ids(torch.zeros(4, 64), [1, 2])
    with pytest.raises(ValueError, match="logits"):
        argmax(torch.zeros(3, 4, dtype=torch.int32))
    assert ID_BASE == 1024
