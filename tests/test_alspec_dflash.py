"""ALSpec inside DFlash verification (models/alspec/dflash_verify.py): per row of a verification block, the sink +
recent attention on a hit and the exact one on a miss.

* reference model (random tiny Qwen3 + a random DFlash draft, and the shipped trained pair): lambda 0 gives plain
  DFlash's tokens and logits bit for bit; the block hook equals the decode-token ALSpec hook row by row; hits
  really substitute the speculative output;
* kernels (simulator): the block path of the speculative kernel (``shared_kv``) equals the per-user kernel on a
  replicated cache bit for bit, the hook selects per row, and DFlash
  through it at lambda 0 equals DFlash through the same kernel's exact output bit for bit and today's
  flash-decode DFlash token for token.
"""

from __future__ import annotations

import pytest
import torch
from test_dflash_step import make

from models.alspec.dflash_verify import (
    ALSpecTorchTarget,
    BlockALSpecAttention,
    BlockStats,
    kernel_target,
    speculative_block,
)
from models.alspec.reference import ALSpecAttention
from models.dflash_step import StepDFlashRunner
from models.speculative import DFlashRunner, speculative_generate
from models.targets import TorchTarget
from reference.decoder import KVCache, greedy_generate
from ttl_kernels import host, runtime
from ttl_kernels.attention import decode_o_from_tiles, per_user
from ttl_kernels.attention._layout import decode_q_to_tiles, kv_cache_to_tiles
from ttl_kernels.testing import pcc

PROMPT = list(range(20, 100))  # 80 tokens: verification rows at positions >= 80 have P > 2 S for S = 32


def dflash(target, draft, prompt=PROMPT, n=12):
    return speculative_generate(target, DFlashRunner(draft, target), prompt, n)


# ------------------------------------------------------------------------------------------ reference model


@pytest.fixture(scope="module")
def pair():
    return make(block=8)


def test_lambda_zero_is_plain_dflash_bit_for_bit(pair):
    """Tokens, tau and every verify step's logits equal plain DFlash's exactly (torch.equal)."""
    target, draft = pair
    plain, al = TorchTarget(target), ALSpecTorchTarget(target, 0.0, 32)
    logs = {}
    for name, t in (("plain", plain), ("alspec", al)):
        seen = []
        fwd = t.forward

        def spy(ids, cache, taps=(), _fwd=fwd, _seen=seen):
            out = _fwd(ids, cache, taps)
            _seen.append(out[0].clone())
            return out

        t.forward = spy
        logs[name] = (dflash(t, draft), seen)
    (g0, l0), (g1, l1) = logs["plain"], logs["alspec"]
    assert g1.tokens == g0.tokens and g1.verify_steps == g0.verify_steps
    assert len(l0) == len(l1) and all(torch.equal(a, b) for a, b in zip(l0, l1))
    s = al.hook.stats.summary()
    assert s["blocks"] == g0.verify_steps and s["rows"] == g0.verify_steps * 8
    assert s["trivial_row_share"] == 0.0  # every row has P > 2 S: lambda 0 really had misses to make
    assert s["row_hit_rate"] < 1.0


def test_p_within_two_chunks_every_row_hits_and_equals_plain(pair):
    """S large enough that P <= 2 S for every row: the approximation is the exact attention, every row hits at
    any lambda, and the output is plain DFlash's."""
    target, draft = pair
    g0 = dflash(TorchTarget(target), draft)
    al = ALSpecTorchTarget(target, 0.5, 64)  # P <= 128 = 2 S for positions < 128
    g1 = dflash(al, draft)
    assert g1.tokens == g0.tokens
    s = al.hook.stats.summary()
    assert s["row_hit_rate"] == 1.0 and s["block_hit_rate"] == 1.0 and s["trivial_row_share"] == 1.0


@torch.no_grad()
def test_block_rows_equal_decode_token_alspec(pair):
    """A verification block through the block hook gives, row by row, the outputs and verdicts of the
    decode-token ALSpec hook fed the same tokens one at a time (the definition: a row's forward is ALSpec's decode
    forward of its token), to fp32 rounding of the batched vs single-row matmuls."""
    target, _ = pair
    block = [7, 11, 13, 17, 19, 23]
    for lam in (0.05, 0.3):
        c1, c2 = KVCache.empty(target.config, 1, 128), KVCache.empty(target.config, 1, 128)
        target(torch.tensor([PROMPT]), c1)
        target(torch.tensor([PROMPT]), c2)
        bh = BlockALSpecAttention(target.config.num_layers, lam, 32)
        a = target(torch.tensor([block]), c1, attention_fn=bh).logits[0]
        dh = ALSpecAttention(target.config.num_layers, lam, 32)
        rows, hits = [], []
        for tok in block:
            rows.append(target(torch.tensor([[tok]]), c2, attention_fn=dh).logits[0, -1])
            hits.append([bool(dh.last_hit[li][0]) for li in range(target.config.num_layers)])
        b = torch.stack(rows)
        assert (a - b).abs().max() < 1e-4
        assert bh.stats.row_hits == [sum(h[li] for h in hits) for li in range(target.config.num_layers)]


def test_hits_substitute_the_speculative_output(pair):
    """lambda = inf-like (1e9): every row takes the sink + recent output; the logits then differ from plain
    verification's, and select=False (verdicts recorded, exact used) gives plain's exactly."""
    target, _ = pair
    block = [5, 6, 7, 8]

    def run(hook):
        c = KVCache.empty(target.config, 1, 128)
        target(torch.tensor([PROMPT]), c)
        return target(torch.tensor([block]), c, attention_fn=hook).logits[0]

    plain = run(None)
    static = BlockALSpecAttention(target.config.num_layers, 1e9, 32)
    assert static.stats.summary()["row_hit_rate"] is None
    assert not torch.allclose(run(static), plain, atol=1e-4)
    assert static.stats.summary()["row_hit_rate"] == 1.0
    assert torch.equal(run(BlockALSpecAttention(target.config.num_layers, 1e9, 32, select=False)), plain)


def test_block_stats_bookkeeping():
    s = BlockStats(2, 32)
    s.record(0, [100, 101, 102], [True, False, True], [0.01, 0.5, 0.02])
    s.record(1, [100, 101, 102], [True, True, True], [0.0, 0.0, 0.0])
    s.record(0, [40, 41], [True, True], [0.0, 0.0])
    out = s.summary()
    assert out["layer_row_hit_rates"] == [4 / 5, 1.0] and out["layer_block_hit_rates"] == [0.5, 1.0]
    assert out["row_index_hit_rates"] == [1.0, 2 / 3, 1.0] and out["trivial_row_share"] == 2 / 8


def test_bad_input(pair):
    target, _ = pair
    with pytest.raises(ValueError, match="lambda_"):
        BlockALSpecAttention(2, -0.1, 32)
    with pytest.raises(ValueError, match="chunk"):
        BlockALSpecAttention(2, 0.1, 48)
    hook = BlockALSpecAttention(target.config.num_layers, 0.1, 32)
    with pytest.raises(ValueError, match="one sequence"):
        target(torch.tensor([[1, 2], [3, 4]]), KVCache.empty(target.config, 2, 8), attention_fn=hook)


def test_shipped_checkpoints_lambda_zero_bit_identical():
    """The trained pair (tiny-qwen3-coder + its DFlash b16 draft) on a 300-token held-out prompt: lambda 0 gives
    plain DFlash's tokens; plain DFlash is lossless against plain greedy decoding."""
    from models.alspec.dflash_runs import load_pair, prompts_for

    target, draft, tok = load_pair()
    prompt = prompts_for(tok, 1, 300)[0]
    g0 = dflash(TorchTarget(target), draft, prompt, 24)
    g1 = dflash(ALSpecTorchTarget(target, 0.0, 32), draft, prompt, 24)
    greedy = greedy_generate(target, torch.tensor([prompt]), 24)[0, len(prompt):].tolist()
    assert g1.tokens == g0.tokens == greedy


# ------------------------------------------------------------------------------------------ kernels (simulator)


def _kv(n_kv, s_max, d, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(1, n_kv, s_max, d, generator=g), torch.randn(1, n_kv, s_max, d, generator=g))


@pytest.mark.parametrize("start,rows", [(90, 6), (60, 5)])
def test_kernel_block_equals_per_user_on_replicated_cache(start, rows):
    """The block path (rows of one sequence reading its one cache, ``shared_kv``) equals the per-user kernel given
    that cache once per row, bit for bit, for every output; rows straddle a 32-boundary of P (two plans) and, in
    the second case, the 2 S = 64 boundary (rows exact by construction next to speculated ones)."""
    n_q, n_kv, d, s_max, S = 4, 2, 64, 128, 32
    k, v = _kv(n_kv, s_max, d, 0)
    q = torch.randn(rows, n_q, d, generator=torch.Generator().manual_seed(1))
    pos = list(range(start, start + rows))
    qt = host.to_device(decode_q_to_tiles(q, n_kv), "bf16")
    one = [host.to_device(kv_cache_to_tiles(t), "bf16") for t in (k, v)]
    rep = [host.to_device(kv_cache_to_tiles(t.expand(rows, -1, -1, -1).contiguous()), "bf16") for t in (k, v)]
    a = speculative_block(qt, *one, pos, lambda_=0.2, chunk=S, n_q=n_q, kv_dtype="bf16", shared=True)
    b = speculative_block(qt, *rep, pos, lambda_=0.2, chunk=S, n_q=n_q, kv_dtype="bf16", shared=False)
    for x, y in zip(a, b):
        assert torch.equal(host.to_torch(x), host.to_torch(y))
    # and against the torch reference of each row: the kernel's attention tolerance
    from reference import attention as ref

    exact, spec, *_ = ref.speculative_sdpa_decode(q, k.expand(rows, -1, -1, -1), v.expand(rows, -1, -1, -1), pos,
                                                  0.2, S)
    got = decode_o_from_tiles(host.to_torch(a.full_output), rows, n_q, n_kv)
    gs = decode_o_from_tiles(host.to_torch(a.speculative_output), rows, n_q, n_kv)
    assert pcc(got, exact) > 0.999 and pcc(gs, spec) > 0.999
    assert per_user(a.verdict).shape == (rows,)


@pytest.fixture(scope="module")
def small_pair():
    """A 2-layer tiny Qwen3 target (hidden 128, 4 q / 2 kv heads of 64) and a 1-layer random DFlash draft (block 4)
    tapping both layers: the smallest pair the kernels run."""
    from test_kernel_model import tiny

    from models.dflash import DFlashConfig, DFlashDraft

    target = tiny("qwen3")
    c = target.config
    cfg = DFlashConfig(hidden_size=c.hidden_size, intermediate_size=c.intermediate_size, num_layers=1,
                       num_heads=c.num_heads, num_kv_heads=c.num_kv_heads, head_dim=c.head_dim, block_size=4,
                       mask_token_id=1, target_layer_ids=[0, 1], num_target_layers=c.num_layers,
                       vocab_size=c.vocab_size, rms_norm_eps=c.rms_norm_eps, rope_theta=c.rope_theta)
    torch.manual_seed(5)
    draft = DFlashDraft(cfg).eval()
    with torch.no_grad():
        for p in draft.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.08)
    return target, draft


SHORT = list(range(20, 92))  # 72 tokens: every verification row has P > 64 = 2 S for S = 32


def test_kernel_dflash_lambda_zero(small_pair):
    """DFlash on the kernels (simulator; fp32 activations, S = 32, block 4, 4 tokens after a 72-token prompt):
    lambda 0 equals verification through the speculative kernel's exact output (select=False) bit for bit, logits of
    every verify step included, and today's flash-decode verification token for token (logits PCC >= 0.999)."""
    target, draft = small_pair
    if not runtime.executes():
        pytest.skip("compile-only backend: kernels are lowered, not run (test_compile_* cover that)")

    def run(lam, select=True):
        t = kernel_target(target, lam, 32, max_seq_len=128, dtype="fp32", select=select,
                          mask_token_id=draft.config.mask_token_id)
        seen = []
        fwd = t.forward

        def spy(ids, cache, taps=()):
            out = fwd(ids, cache, taps)
            seen.append(out[0].to_host() if hasattr(out[0], "to_host") else out[0].clone())
            return out

        t.forward = spy
        return speculative_generate(t, StepDFlashRunner(draft, t), SHORT, 4), seen, t

    g_plain, l_plain, _ = run(None)
    g_exact, l_exact, _ = run(0.0, select=False)
    g0, l0, t0 = run(0.0)
    assert g0.tokens == g_exact.tokens == g_plain.tokens
    assert len(l0) == len(l_exact) and all(torch.equal(a, b) for a, b in zip(l0, l_exact))
    assert min(pcc(a, b) for a, b in zip(l0, l_plain)) > 0.999
    s = t0.hook.stats.summary()
    assert s["trivial_row_share"] == 0.0 and s["blocks"] == g0.verify_steps


def test_kernel_hook_selects_per_row(small_pair):
    """One verification block on the kernels: with lambda 1e9 every row takes the speculative output (the
    block's logits then differ from the exact ones); the per-row verdicts equal the reference block hook's."""
    from models.alspec.dflash_verify import KernelBlockALSpecAttention
    from models.kernel_model import KernelOps, run_in_chunks

    target, _ = small_pair
    if not runtime.executes():
        pytest.skip("compile-only backend: kernels are lowered, not run (test_compile_* cover that)")
    ops = KernelOps(target, 128, "fp32", chunk_size=32)
    block = [3, 9, 27, 81, 30]
    out = {}
    for name, lam, select in (("exact", 1e9, False), ("static", 1e9, True), ("mid", 0.45, True)):
        cache = ops.new_cache(1)
        run_in_chunks(ops, cache, SHORT)
        hook = KernelBlockALSpecAttention(ops, lam, 32, select=select)
        out[name] = (host.to_torch(ops.step(cache, block, attention=hook)[0]), hook)
    assert out["static"][1].stats.summary()["row_hit_rate"] == 1.0
    assert not torch.allclose(out["static"][0], out["exact"][0], atol=1e-3)
    ref = BlockALSpecAttention(target.config.num_layers, 0.45, 32)
    c = KVCache.empty(target.config, 1, 128)
    with torch.no_grad():
        target(torch.tensor([SHORT]), c)
        target(torch.tensor([block]), c, attention_fn=ref)
    mid = out["mid"][1].stats
    print("kernel rows hit per layer", mid.row_hits, "reference", ref.stats.row_hits)
    assert 0 < sum(mid.row_hits) < sum(mid.rows)  # both verdicts occur
    assert abs(sum(mid.row_hits) - sum(ref.stats.row_hits)) <= 1  # bf16 kernels vs fp32 reference: at most one flip
