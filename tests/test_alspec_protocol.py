"""ALSpec on the TT-Lang kernel-built models (simulator): the two-device protocol, the kernel-level
verify-only mode, the new decision kernels (group_select, speculation_priority, mesh_winner) and bad input.

Models: ``tests/test_kernel_model.tiny`` (2 layers, hidden 128, 4 q / 2 kv heads of 64), fp32 weights and
activations (simulator fp32 arithmetic; the KV cache and the attention kernels are bf16).

Exactness (why ``torch.equal`` is the right comparison):
* the protocol, the verify-only mode and the "exact" mode run the same kernels on the same values, and the
  selects multiply by exactly 0 / 1, so at B = 1 the protocol equals verify-only bit for bit, and with
  ``lambda = 0`` or ``P <= 2 S`` (speculative output == exact output bit for bit) both equal the exact mode
  (every layer through the same one-pass kernel's exact output);
* plain decoding (:class:`KernelTarget`, split-KV ``flash_decode``) blocks the keys differently once a
  user's context spans more than one S-token chunk, so against it: identical greedy tokens and logits
  PCC >= 0.999 (fp32 weights, as tests/test_kernel_model.py); when every position is below S (a single
  chunk in both kernels) it is bit-identical as well;
* the speculative / exact outputs against ``reference.attention``: the attention kernels' tolerance
  (tests/test_kernel_parity_attention.py: PCC >= 0.999, |O - ref| <= 2^-7 |ref| + 2^-7).
"""

from __future__ import annotations

import json

import pytest
import torch
from conftest import examples
from hypothesis import given
from hypothesis import strategies as st
from test_kernel_model import tiny
from test_kernel_parity_attention import check_close

from models.alspec.protocol import ALSpecKernelTarget, ALSpecProtocol, KernelALSpecAttention
from models.kernel_model import KernelOps, KernelTarget, run_in_chunks
from reference import attention as ref
from reference.decoder import KVCache
from ttl_kernels import host, runtime
from ttl_kernels.attention import decode_o_from_tiles, kv_cache_to_tiles, per_user
from ttl_kernels.ccl import (
    default_mesh,
    exchange_priority,
    from_mesh,
    group_select,
    mesh_from_parts,
    mesh_keep_winner,
    mesh_parts,
    mesh_winner,
    priority_tiles,
    reference,
    speculation_priority,
    to_mesh,
)
from ttl_kernels.compile import compile_cases, format_case
from ttl_kernels.layout import groups_to_heads, heads_to_groups
from ttl_kernels.registry import get_kernel
from ttl_kernels.testing import pcc
from ttl_kernels.trace import trace_traffic

PROMPT = list(range(20, 100))  # 80 tokens: decode positions 80.. have P = 96 > 2 S for S = 32
LAMBDA_MIXED = {"llama": 0.8, "qwen3": 0.6}  # this model's relative distances straddle these (both verdicts occur)


def prefill(m, prompts: list[list[int]], s_max: int) -> tuple[KVCache, list[int]]:
    """Reference prefill of each user's prompt into one cache; returns it and each user's greedy next token."""
    cache = KVCache.empty(m.config, len(prompts), s_max)
    nxt = []
    for b, p in enumerate(prompts):
        one = KVCache.empty(m.config, 1, s_max)
        out = m(torch.tensor([p]), one)
        for i in range(m.config.num_layers):
            cache.k[i][b], cache.v[i][b] = one.k[i][0], one.v[i][0]
        cache.lengths[b] = len(p)
        nxt.append(int(out.logits[0, -1].argmax()))
    return cache, nxt


def run_protocol(m, lam, chunk, prompts, steps, *, trace=True, feed=None, **kw):
    """Greedy decode (or teacher-forced ``feed[step]`` tokens) through the protocol; returns the protocol, its
    state, the logits per step, the tokens fed and the per-step layer traces."""
    p = ALSpecProtocol(m, lam, chunk, max_seq_len=kw.pop("max_seq_len", 160), dtype=kw.pop("dtype", "fp32"), **kw)
    state = p.new_state(len(prompts))
    if len(prompts) == 1:  # one user: prefill on the kernels, as the targets do (so their logits compare bit for bit)
        outs = [run_in_chunks(p.ops, c, prompts[0]) for c in state.caches]
        ids = [int(outs[0][0][-1].argmax())]
    else:  # several users at different lengths: the reference prefill of each, handed to both devices
        ref_cache, ids = prefill(m, prompts, p.ops.max_seq_len)
        p.load_cache(state, ref_cache)
    logits, fed, traces = [], [], []
    for s in range(steps):
        ids = feed[s] if feed is not None else ids
        tr = [] if trace else None
        lg, _ = p.decode(state, ids, trace=tr)
        logits.append(lg)
        fed.append(list(ids))
        traces.append(tr)
        ids = [int(t) for t in lg.argmax(-1)]
    return p, state, logits, fed, traces


def run_target(target, prompt, feed):
    """One sequence through a target interface: prefill, then one decode step per fed token."""
    cache = target.new_cache(target.ops.max_seq_len)
    target.forward(prompt, cache)
    return [target.forward([ids[0]], cache)[0][0] for ids in feed]


def check_invariants(traces, batch: int) -> dict:
    """Every layer of every step: both devices hold identical residuals afterwards; the receiver's result is
    kept exactly when the sender's verdicts are all hits; roles and priorities follow the protocol; the
    receiver continued from the sender's speculative output, the sender from its own exact output."""
    seen = {"hit": 0, "miss": 0, "hit_distinct": 0, "miss_distinct": 0}
    flat = [e for step in traces for e in step]
    for i, e in enumerate(flat):
        s = e["sender"]
        r = 1 - s
        assert e["role"] == [1.0 if d == s else 0.0 for d in range(2)], (i, e["role"])
        assert torch.equal(e["h"][0], e["h"][1]) and torch.equal(e["x"][0], e["x"][1]), (
            f"layer entry {i}: residuals differ"
        )
        hit = bool((e["verdict"][s] == 1.0).all())
        assert e["prio"][r] == 1.0 and e["prio"][s] == (0.0 if hit else 2.0), (i, e["prio"], e["verdict"][s])
        keep = r if hit else s
        assert torch.equal(e["h"][0], e["h_pre"][keep]) and torch.equal(e["x"][0], e["x_pre"][keep]), (i, hit)
        assert torch.equal(e["shipped"][0], e["spec"][s]) and torch.equal(e["shipped"][1], e["spec"][s])
        assert torch.equal(e["attn"][s], e["full"][s]) and torch.equal(e["attn"][r], e["spec"][s])
        assert e["verdict"][s].shape == (batch,)
        if i + 1 < len(flat):  # the winner sends next: roles alternate on hits and stay on misses
            assert flat[i + 1]["sender"] == keep, (i, s, hit, flat[i + 1]["sender"])
        seen["hit" if hit else "miss"] += 1
        # the devices' pre-swap results differ: the swap really chose one of two different residual streams
        seen["hit_distinct" if hit else "miss_distinct"] += int(not torch.equal(e["h_pre"][0], e["h_pre"][1]))
    return seen


# ------------------------------------------------------------------------------------------------ protocol


@pytest.mark.parametrize("arch", ["llama", "qwen3"])
def test_protocol_invariants_and_equality_with_verify_only(arch):
    """Mixed verdicts (lambda between this model's relative distances, P > 2 S): the per-layer invariants,
    both caches identical, and the logits equal to the kernel-level verify-only mode's bit for bit (B = 1:
    a hit continues from the speculative output, a miss from the exact one, in both)."""
    m = tiny(arch)
    lam = LAMBDA_MIXED[arch]
    p, state, logits, fed, traces = run_protocol(m, lam, 32, [PROMPT], 3)
    seen = check_invariants(traces, 1)
    print(f"{arch}: {seen}, layer hit rates {p.stats.layer_hit_rates()}, senders {p.stats.senders}")
    assert seen["hit"] > 0 and seen["miss"] > 0, f"lambda {lam} no longer gives both verdicts: {seen}"
    assert seen["hit_distinct"] > 0 and seen["miss_distinct"] > 0  # both rules were exercised on different results
    for li in range(m.config.num_layers):
        for kv in ("k", "v"):
            assert torch.equal(
                host.to_torch(getattr(state.caches[0], kv)[li]), host.to_torch(getattr(state.caches[1], kv)[li])
            )
    assert state.lengths.tolist() == [len(PROMPT) + 3]
    verify = run_target(ALSpecKernelTarget(m, lam, 32, "verify", max_seq_len=160, dtype="fp32"), PROMPT, fed)
    for a, b in zip(logits, verify):
        assert torch.equal(a[0], b)
    st = p.stats
    assert st.decisions == 3 * m.config.num_layers and sum(st.layer_decisions) == 3 * m.config.num_layers
    assert sum(st.kept_receiver) == seen["hit"]
    assert len(st.senders) == 3 and all(len(s) == m.config.num_layers for s in st.senders)


def test_protocol_two_users_and_speculative_path_matches_reference():
    """B = 2 at different positions (user 0: P <= 2 S, always a hit; user 1: P > 2 S), bf16 activations: a
    layer keeps the receiver's result only when both users hit; the shipped speculative output and the exact
    output match reference.attention's approximation and exact attention on the device cache."""
    m = tiny("qwen3")
    S = 32
    prompts = [list(range(30, 70)), list(range(50, 140))]  # lengths 40 and 90: P = 64 and 96
    p, state, logits, fed, traces = run_protocol(m, LAMBDA_MIXED["qwen3"], S, prompts, 2, dtype="bf16")
    seen = check_invariants(traces, 2)
    print(f"B=2: {seen}, per-user hit rates {p.stats.user_hit_rates()}")
    c = m.config
    for step, tr in enumerate(traces):
        positions = [len(pp) + step for pp in prompts]
        for li, e in enumerate(tr):
            s = e["sender"]
            assert e["verdict"][s][0] == 1.0  # P <= 2 S: the approximation is exact
            if step == len(traces) - 1:  # the cache after the last step holds every key this step read
                q = decode_o_from_tiles(e["q"][s], 2, c.num_heads, c.num_kv_heads)
                kc = host.to_torch(state.caches[s].k[li]).reshape(2, c.num_kv_heads, -1, c.head_dim)
                vc = host.to_torch(state.caches[s].v[li]).reshape(2, c.num_kv_heads, -1, c.head_dim)
                spec = decode_o_from_tiles(e["shipped"][1 - s], 2, c.num_heads, c.num_kv_heads)
                full = decode_o_from_tiles(e["full"][s], 2, c.num_heads, c.num_kv_heads)
                check_close(spec, ref.sdpa_decode_speculative(q, kc, vc, positions, S), f"speculative layer {li}")
                check_close(full, ref.sdpa_decode(q, kc, vc, positions), f"exact layer {li}")
                assert not torch.equal(spec[1], full[1])  # user 1's approximation really leaves keys out
    assert p.stats.user_hit_rates()[0] == 1.0 and p.stats.user_hit_rates()[1] < 1.0  # user 1's misses decide layers
    # the layer decision is the AND over users: kept_receiver counts layers where both hit
    both = sum(bool(e["verdict"][e["sender"]].all()) for tr in traces for e in tr)
    assert sum(p.stats.kept_receiver) == both


def test_lambda_zero_equals_plain_decoding():
    """lambda = 0 with P > 2 S (Llama-3): every verdict misses unless the outputs are identical, and the output
    equals decoding through the kernel's exact output bit for bit; against plain kernel decoding
    (flash_decode) the greedy tokens are identical and the logits PCC >= 0.999; PCC vs the reference reported."""
    m = tiny("llama")
    steps = 4
    p, state, logits, fed, traces = run_protocol(m, 0.0, 32, [PROMPT], steps, trace=False)
    exact = run_target(ALSpecKernelTarget(m, 0.0, 32, "exact", max_seq_len=160, dtype="fp32"), PROMPT, fed)
    plain = run_target(KernelTarget(m, max_seq_len=160, dtype="fp32", chunk_size=32), PROMPT, fed)
    ref_cache, _ = prefill(m, [PROMPT], 160)
    refl = [m(torch.tensor([ids]), ref_cache).logits[0, -1].float() for ids in fed]
    worst_plain = min(pcc(a[0], b) for a, b in zip(logits, plain))
    worst_ref = min(pcc(a[0], b) for a, b in zip(logits, refl))
    print(
        f"lambda=0: hit rate {p.stats.hit_rate()}, worst logits PCC vs plain kernel decoding {worst_plain:.7f}, "
        f"vs reference {worst_ref:.7f}"
    )
    for a, b in zip(logits, exact):
        assert torch.equal(a[0], b)
    assert [int(a[0].argmax()) for a in logits] == [int(b.argmax()) for b in plain] == [int(b.argmax()) for b in refl]
    assert worst_plain >= 0.999 and worst_ref >= 0.999
    assert p.stats.hit_rate() == 0.0  # nothing is bit-identical at these positions
    assert p.stats.senders == [[0, 0]] * steps  # every layer missed: device 0 stayed the sender


def test_short_context_every_layer_hits_and_equals_plain_decoding():
    """P <= 2 S (S = 64, positions 40..43, Qwen3): every layer hits even at lambda = 0, the roles alternate
    every layer, and the output equals plain kernel decoding bit for bit (every position below S: one chunk
    in both kernels) as well as the exact path."""
    m = tiny("qwen3")
    prompt = list(range(30, 70))
    steps = 4
    p, state, logits, fed, traces = run_protocol(m, 0.0, 64, [prompt], steps, max_seq_len=128, trace=True)
    check_invariants(traces, 1)
    assert p.stats.layer_hit_rates() == [1.0, 1.0] and p.stats.layer_accept_rates() == [1.0, 1.0]
    seq = [s for step in p.stats.senders for s in step]
    assert seq == [i % 2 for i in range(len(seq))]  # alternating: every hit hands the next layer over
    exact = run_target(ALSpecKernelTarget(m, 0.0, 64, "exact", max_seq_len=128, dtype="fp32"), prompt, fed)
    plain = run_target(KernelTarget(m, max_seq_len=128, dtype="fp32", chunk_size=64), prompt, fed)
    for a, b, c in zip(logits, exact, plain):
        assert torch.equal(a[0], b) and torch.equal(a[0], c)


def test_op_sequence_does_not_depend_on_the_verdicts():
    """Static graph: the ops both devices run (names and shapes) are the same whether every layer hits
    (lambda huge) or misses (lambda 0); nothing about the decision reaches the host between ops."""
    m = tiny("llama")
    logs = {}
    for lam in (0.0, 1.0e6):
        p = ALSpecProtocol(m, lam, 32, max_seq_len=128, dtype="fp32")
        p.log_ops = True
        state = p.new_state(1)
        ref_cache, ids = prefill(m, [PROMPT], p.ops.max_seq_len)
        p.load_cache(state, ref_cache)
        p.decode(state, ids, record=False)
        logs[lam] = list(p.op_log)
        p.log_ops = False
        p.decode(state, ids)  # statistics of a second step (the first step was not recorded)
        assert p.stats.hit_rate() == (1.0 if lam else 0.0)
    assert logs[0.0] == logs[1.0e6]
    names = [n for n, _ in logs[0.0]]
    assert (
        names.count("speculative_decode") == 2
        and names.count("keep_winner(h)") == 2
        and names.count("winner(role)") == 2
    )


# --------------------------------------------------------------------------------------------- verify-only


def test_verify_only_picks_the_speculative_output_exactly_on_hits():
    """The hook's output, per user, is groups_to_heads of the speculative output on a hit and of the exact
    output on a miss, bit for bit; lambda chosen between the two users' relative distances so one hits."""
    m = tiny("llama")
    ops = KernelOps(m, 256, "fp32", "bf16", 32)
    c = m.config
    B, positions = 2, [150, 200]
    g = torch.Generator().manual_seed(3)
    kc = torch.randn(B, c.num_kv_heads, ops.max_seq_len, c.head_dim, generator=g)
    vc = torch.randn(B, c.num_kv_heads, ops.max_seq_len, c.head_dim, generator=g)
    kc[1, :, 64:200] *= 2.0  # user 1 attends more to the middle: a larger relative distance
    cache = ops.new_cache(B)
    cache.k[0], cache.v[0] = (
        host.to_device(kv_cache_to_tiles(kc), "bf16"),
        host.to_device(kv_cache_to_tiles(vc), "bf16"),
    )
    q = host.to_device(torch.randn(B, c.num_heads * c.head_dim, generator=g), "fp32")
    probe = KernelALSpecAttention(ops, 0.0, 32)
    probe(0, q, cache, positions)
    d2, n2 = per_user(probe.last[0].l2_dist_sq), per_user(probe.last[0].l2_norm_sq)
    rel = (d2 / n2).sqrt()
    lam = float(rel.min() + rel.max()) / 2
    hook = KernelALSpecAttention(ops, lam, 32)
    out = host.to_torch(hook(0, q, cache, positions))
    r = hook.last[0]
    hit = per_user(r.verdict)
    assert sorted(hit.tolist()) == [0.0, 1.0], (rel, lam, hit)
    full = host.to_torch(groups_to_heads(r.full_output, B, c.num_heads, c.num_kv_heads, out_dtype="fp32"))
    spec = host.to_torch(groups_to_heads(r.speculative_output, B, c.num_heads, c.num_kv_heads, out_dtype="fp32"))
    assert not torch.equal(full, spec)
    for b in range(B):
        assert torch.equal(out[b], spec[b] if hit[b] == 1.0 else full[b]), b
    assert hook.stats.decisions == 2 and hook.stats.hit_rate() == 0.5
    exact = host.to_torch(KernelALSpecAttention(ops, lam, 32, select=False)(0, q, cache, positions))
    assert torch.equal(exact, full)
    # the kernel's speculative output is the reference approximation on the same (bf16) cache
    so = decode_o_from_tiles(host.to_torch(r.speculative_output), B, c.num_heads, c.num_kv_heads)
    qg = host.to_torch(heads_to_groups(q, c.num_kv_heads, c.head_dim, out_dtype="bf16"))
    qh = decode_o_from_tiles(qg, B, c.num_heads, c.num_kv_heads)
    kq, vq = host.quantize(kc, "bf16"), host.quantize(vc, "bf16")
    check_close(so, ref.sdpa_decode_speculative(qh, kq, vq, positions, 32), "speculative vs reference")


# -------------------------------------------------------------------------------------- decision kernels



@examples(8)
@given(
    n_groups=st.integers(1, 4),
    group=st.integers(1, 3),
    cols=st.one_of(st.integers(1, 80), st.sampled_from([64, 128, 300])),
    dtype=st.sampled_from(["bf16", "fp32"]),
    uniform=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_kernel_parity_group_select(n_groups, group, cols, dtype, uniform, seed, sim_mode):
    """Against the reference, bit for bit: uniform 0/1 condition tiles (how verdicts and roles are written)
    and element-wise ones (negative, zero and positive values), sentinel padding in the data; both
    simulator precision modes."""
    g = torch.Generator().manual_seed(seed)
    rows = n_groups * group * 32
    if uniform:
        cond = (
            torch.randint(0, 2, (n_groups, 1, 1), generator=g)
            .float()
            .expand(n_groups, 32, 32)
            .reshape(n_groups * 32, 32)
        )
    else:
        cond = torch.randint(-2, 3, (n_groups * 32, 32), generator=g).float()
    a, b = torch.randn(rows, cols, generator=g) * 4, torch.randn(rows, cols, generator=g) * 4
    tc = host.to_device(cond, dtype)
    ta, tb = host.to_device(a, dtype, pad_value=host.SENTINEL), host.to_device(b, dtype, pad_value=host.SENTINEL)
    with trace_traffic() as t:
        out = group_select(tc, ta, tb, group=group)
    assert out.shape == (rows, cols) and out.dtype == dtype
    expect = reference.group_select(host.quantize(cond, dtype), host.quantize(a, dtype), host.quantize(b, dtype), group)
    assert torch.equal(host.to_torch(out), expect)
    n_tiles = rows // 32 * host.tiles(cols)
    assert t.write_bytes == out.nbytes and t.read_tiles >= 2 * n_tiles + n_groups
    assert (
        t.read_tiles <= 2 * n_tiles + n_tiles
    )  # at most one condition tile per output tile (>= 1 per unit of >= 1 tile)


def test_kernel_parity_group_select_torch_io_and_default_group():
    cond = torch.cat([torch.ones(32, 32), torch.zeros(32, 32)])
    a, b = torch.randn(128, 64), torch.randn(128, 64)
    out = group_select(cond, a, b)  # 2 groups of 2 tile rows
    assert torch.equal(out, torch.cat([b[:64], a[64:]]))


@examples(6)
@given(
    batch=st.integers(1, 5), role=st.sampled_from([0.0, 1.0]), misses=st.integers(0, 2), seed=st.integers(0, 2**31 - 1)
)
def test_kernel_parity_speculation_priority(batch, role, misses, seed):
    """P = 1 + R - 2 R prod(verdicts): sender 0 when every user hit, 2 otherwise; receiver always 1."""
    g = torch.Generator().manual_seed(seed)
    bits = torch.ones(batch)
    bits[torch.randperm(batch, generator=g)[: min(misses, batch)]] = 0.0
    v = bits[:, None, None].expand(batch, 32, 32).reshape(batch * 32, 32)
    r = torch.full((32, 32), role)
    p16, p32 = speculation_priority(host.to_device(v, "bf16"), host.to_device(r, "bf16"))
    assert p16.dtype == "bf16" and p32.dtype == "fp32"
    e16, e32 = reference.speculation_priority(v, r)
    assert torch.equal(host.to_torch(p16), e16) and torch.equal(host.to_torch(p32), e32)
    want = 1.0 if role == 0.0 else (0.0 if bool(bits.all()) else 2.0)
    assert float(e16[0, 0]) == want
    # only the first `batch` users count when the verdict tensor holds more tile rows
    extra = torch.cat([v, torch.zeros(32, 32)])
    q16, _ = speculation_priority(host.to_device(extra, "bf16"), host.to_device(r, "bf16"), batch=batch)
    assert torch.equal(host.to_torch(q16), e16)


@pytest.mark.parametrize("p0, p1, winner", [(0, 1, 1), (2, 1, 0), (1, 0, 0), (1, 2, 1), (1, 1, 0)])
def test_kernel_parity_ccl_mesh_winner_and_keep(p0, p1, winner):
    """The role update: 1 on the device with the higher priority (tie: device 0), 0 on the other; one gathered
    pair serves several keeps; per-device tensors stack into a mesh tensor and split back unchanged."""
    mesh = default_mesh()
    a, b = host.to_device(torch.randn(3, 70), "fp32"), host.to_device(torch.randn(3, 70), "fp32")
    m = mesh_from_parts([a, b], mesh)
    assert all(torch.equal(host.to_torch(x), host.to_torch(y)) for x, y in zip(mesh_parts(m), (a, b)))
    pair16 = exchange_priority(priority_tiles(p0, p1, mesh, "bf16"))
    roles = [x[0, 0].item() for x in from_mesh(mesh_winner(pair16))]
    assert roles == [1.0 if d == winner else 0.0 for d in range(2)]
    kept = mesh_parts(mesh_keep_winner(m, exchange_priority(priority_tiles(p0, p1, mesh, "fp32"))))
    w = (a, b)[winner]
    assert all(torch.equal(host.to_torch(k), host.to_torch(w)) for k in kept)


def test_ccl_mesh_winner_needs_no_host_readback(monkeypatch):
    """The exchange and the role update read nothing back to the host."""
    mesh = default_mesh()
    x = to_mesh([torch.zeros(32, 64), torch.ones(32, 64)], mesh, "bf16")
    prio = priority_tiles(1, 2, mesh, "bf16")

    def no_readback(*args, **kwargs):
        raise AssertionError("host read-back inside the exchange")

    monkeypatch.setattr(runtime.backend().ttnn, "to_torch", no_readback)
    pair = exchange_priority(prio)
    kept, role = mesh_keep_winner(x, pair), mesh_winner(pair)
    monkeypatch.undo()
    assert all(torch.equal(t, torch.ones(32, 64)) for t in from_mesh(kept))
    assert [t[0, 0].item() for t in from_mesh(role)] == [0.0, 1.0]


@pytest.mark.compile
@pytest.mark.parametrize("arch", ["n150", "p150"])
def test_compile_alspec_decision_kernels(arch):
    """group_select (every model's decode O shape at batch 1 and 4, the protocol's one-tile role select, fp32)
    and speculation_priority compile for the target, lint-clean, with the ops they are meant to use."""
    cases = [format_case("group_select", p) for p in get_kernel("group_select").model_cases()]
    cases += [format_case("group_select", dict(n_groups=3, group=2, cols=100, dtype="fp32"))]
    cases += [format_case("speculation_priority", p) for p in get_kernel("speculation_priority").model_cases()]
    cases = list(dict.fromkeys(cases))
    results = compile_cases(cases, arch)
    for r in results:
        print(r.line())
    bad = [r.line() for r in results if not r.clean]
    assert not bad, "\n".join(bad)
    assert len(results) == len(cases) and all(len(r.files) == 3 for r in results)


# ----------------------------------------------------------------------------------------------- bad input


def _mesh(rows, cols):
    ttnn = runtime.ttnn
    return ttnn.open_mesh_device(ttnn.MeshShape(rows, cols))


@pytest.mark.parametrize("kw, arg", [
    (dict(lambda_=-0.1), "lambda_"),
    (dict(lambda_=float("nan")), "lambda_"),
    (dict(chunk=48), "chunk"),
    (dict(chunk=0), "chunk"),
    (dict(chunk=256), "chunk"),
    (dict(mesh="mesh-2x1"), "mesh"),
    (dict(mesh="mesh-1x4"), "mesh"),
    (dict(mesh="mesh-1x1"), "mesh"),
    (dict(mesh="object"), "mesh"),
])
def test_bad_input(kw, arg):
    """ValueError naming the argument, raised before anything is uploaded or compiled."""
    m = tiny("llama", layers=1)
    kw = dict(kw)
    if "mesh" in kw:
        kw["mesh"] = object() if kw["mesh"] == "object" else _mesh(*(int(s) for s in kw["mesh"][5:].split("x")))
    args = dict(lambda_=0.1, chunk=32)
    args.update(kw)
    calls = [lambda: ALSpecProtocol(m, args["lambda_"], args["chunk"], mesh=args.get("mesh")),
             lambda: ALSpecKernelTarget(m, args["lambda_"], args["chunk"], "protocol", mesh=args.get("mesh"))]
    if "mesh" not in kw:
        calls += [lambda: ALSpecKernelTarget(m, args["lambda_"], args["chunk"], "verify"),
                  lambda: KernelALSpecAttention(KernelOps(m, 128, "fp32", "bf16", 32), args["lambda_"], args["chunk"])]
    for call in calls:
        with trace_traffic() as t, pytest.raises(ValueError) as e:
            call()
        assert str(e.value).split(":")[0] == arg, str(e.value)
        assert t.copies == 0


def test_bad_input_other():
    m = tiny("llama", layers=1)
    with pytest.raises(ValueError, match="^mode:"):
        ALSpecKernelTarget(m, 0.1, 32, "overlap")
    with pytest.raises(ValueError, match="^chunk: 64 differs"):
        KernelALSpecAttention(KernelOps(m, 128, "fp32", "bf16", 32), 0.1, 64)
    t = ALSpecKernelTarget(m, 0.1, 32, "protocol", max_seq_len=64, dtype="fp32")
    cache = t.new_cache(64)
    t.forward(list(range(10)), cache)
    with pytest.raises(ValueError, match="^ids: ALSpec decodes one token per step"):
        t.forward([1, 2], cache)
    with pytest.raises(ValueError, match="^ids: expected one token per user"):
        t.protocol.decode(cache, [1, 2])
    with pytest.raises(ValueError, match="^max_len:"):
        t.new_cache(1000)
    with pytest.raises(ValueError, match="^cond:"):
        group_select(torch.ones(32, 64), torch.zeros(64, 32), torch.zeros(64, 32))
    with pytest.raises(ValueError, match="^group:"):
        group_select(torch.ones(64, 32), torch.zeros(96, 32), torch.zeros(96, 32))
    with pytest.raises(ValueError, match="^b: shape"):
        group_select(torch.ones(32, 32), torch.zeros(64, 32), torch.zeros(64, 64))
    with pytest.raises(ValueError, match="^a: dtype"):
        group_select(torch.ones(32, 32), torch.zeros(64, 32).bfloat16(), torch.zeros(64, 32).bfloat16())
    with pytest.raises(ValueError, match="^verdict: dtype"):
        speculation_priority(torch.ones(32, 32), torch.ones(32, 32).bfloat16())
    with pytest.raises(ValueError, match="^role: expected one"):
        speculation_priority(torch.ones(32, 32).bfloat16(), torch.ones(64, 32).bfloat16())
    with pytest.raises(ValueError, match="^batch:"):
        speculation_priority(torch.ones(32, 32).bfloat16(), torch.ones(32, 32).bfloat16(), batch=2)


# ------------------------------------------------------------------------------------------- entry point


def test_entry_point_sim_backend(tmp_path, capsys):
    """``models/llama_alspec.py --backend sim`` on a random tiny Llama-3: the protocol's tokens against plain
    kernel decoding and the verify-only mode, hit rates, JSON written."""
    from models import llama_alspec

    args = ["--backend", "sim", "--windows", "1", "--window-tokens", "72", "--prompt-len", "72", "--new-tokens", "2",
            "--lambdas", "0", "--chunks", "32", "--out", str(tmp_path), "--name", "sim"]
    assert llama_alspec.main(args, default_target=tmp_path / "absent-default") == 0
    out = json.loads((tmp_path / "sim.json").read_text())
    text = capsys.readouterr().out
    assert "two-device protocol" in text and "wall" in text
    runs = out["sim"]["runs"]
    assert [(r["chunk"], r["lambda"]) for r in runs] == [(32, 0.0)]
    r = runs[0]
    assert r["agreement_plain"] == 1.0 and r["equal_verify_only"] is True
    assert r["decisions"] == 1 * out["sim"]["layers"]  # one decode step (the first token comes from the prefill)
    assert r["hit_rate"] == 0.0
    assert (tmp_path / "sim.json").is_file()
