"""ALSpec verify-only on the reference model: exactness limits, verdicts against an independent
recomputation, statistics and bad input.  Random tiny Llama-3 / Qwen3 models (fp32)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from models.alspec.reference import (
    ALSpecAttention,
    check_chunk,
    covering_chunk,
    generate,
    speculative_mask,
    sweep,
    teacher_forced,
    token_agreement,
)
from reference.attention import sdpa_decode, sdpa_decode_speculative
from reference.decoder import Decoder, DecoderConfig, KVCache, greedy_generate

LLAMA3_ROPE = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 128}


def tiny(arch: str, seed: int = 0) -> Decoder:
    cfg = DecoderConfig(arch=arch, vocab_size=97, hidden_size=64, intermediate_size=128, num_layers=3, num_heads=4,
                        num_kv_heads=2, head_dim=16, rope_theta=1e4, qk_norm=arch == "qwen3", tie_word_embeddings=True,
                        rope_scaling=LLAMA3_ROPE if arch == "llama" else None)
    torch.manual_seed(seed)
    m = Decoder(cfg).eval()
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.3)  # peaked attention, so the approximation misses sometimes
    return m


def tokens(B: int, N: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, 97, (B, N), generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module", params=["llama", "qwen3"])
def model(request):
    return tiny(request.param)


def test_lambda_zero_equals_plain_decoding(model):
    prompt = tokens(3, 150)
    plain = greedy_generate(model, prompt, 40)
    out, stats = generate(model, prompt, 40, 0.0, chunk=32)
    assert torch.equal(out, plain)
    assert stats.decisions == 3 * 39 * model.config.num_layers
    nll0, _ = teacher_forced(model, tokens(2, 160), None, chunk=32)
    nll1, st = teacher_forced(model, tokens(2, 160), 0.0, chunk=32)
    assert torch.equal(nll0, nll1)
    # at lambda 0 only bit-identical outputs hit: beyond P > 2S that is (almost) never the case here
    assert st.hit_rate() < 0.7


def test_p_within_two_chunks_hits_everywhere_and_equals_plain(model):
    prompt = tokens(2, 100)
    n_new = 29  # decode steps consume positions 100 .. 127: P <= 128 = 2S
    S = covering_chunk(100 + n_new - 2)
    assert S == 64
    plain = greedy_generate(model, prompt, n_new)
    for lam in (0.0, 0.1):
        out, stats = generate(model, prompt, n_new, lam, chunk=S)
        assert torch.equal(out, plain)
        assert stats.layer_hit_rates() == [1.0] * model.config.num_layers
        assert set(stats.user_hit_rates().values()) == {1.0}
        assert max(max(r) for r in stats.rel) == 0.0


def test_speculation_is_applied(model):
    """With a huge lambda every verdict hits and the output follows the approximation (it differs from plain
    decoding once P > 2S), so the hook really substitutes the speculative output."""
    toks = tokens(2, 200)
    nll_plain, _ = teacher_forced(model, toks, None, chunk=32)
    nll_all, st = teacher_forced(model, toks, 1e6, chunk=32)
    assert st.hit_rate() == 1.0
    assert not torch.equal(nll_plain[:, 100:], nll_all[:, 100:])
    assert torch.equal(nll_plain[:, :62], nll_all[:, :62])  # positions 1..62: P <= 64 = 2S, exact


def _captured_step(model, toks, lam, chunk):
    """Prefill ``toks[:, :-1]`` exactly, then one decode step with the hook, capturing each layer's inputs."""
    calls = {}

    class Capture(ALSpecAttention):
        def __call__(self, layer_idx, q, k, v, key_mask, scaling):
            if q.shape[2] == 1:
                calls[layer_idx] = (q.clone(), k.clone(), v.clone(), key_mask.clone(), scaling)
            return super().__call__(layer_idx, q, k, v, key_mask, scaling)

    hook = Capture(model.config.num_layers, lam, chunk)
    B, N = toks.shape
    cache = KVCache.empty(model.config, B, N, model.dtype)
    with torch.inference_mode():
        model(toks[:, :-1], cache)
        model(toks[:, -1:], cache, attention_fn=hook)
    return hook, calls


@pytest.mark.parametrize("chunk", [32, 64])
def test_verdicts_equal_direct_recomputation(model, chunk):
    """Four users at one decode step (position 229), several lambdas: the hook's verdicts, dist^2 and
    norm^2 against reference.attention's own sdpa_decode / sdpa_decode_speculative.  The random models'
    relative distances lie around 0.1 .. 1.4, so these lambdas give both hits and misses."""
    toks = tokens(4, 230, seed=3)
    outcomes = set()
    for lam in (0.1, 0.3, 0.6, 1.0, 1.2):
        hook, calls = _captured_step(model, toks, lam, chunk)
        assert sorted(calls) == list(range(model.config.num_layers))
        for layer, (q, k, v, key_mask, scaling) in calls.items():
            pos = [int(key_mask[b, 0].nonzero().max()) for b in range(q.shape[0])]
            assert pos == [229] * 4
            qd = q[:, :, 0, :]
            exact = sdpa_decode(qd, k, v, pos, scaling)
            spec = sdpa_decode_speculative(qd, k, v, pos, chunk, scaling)
            dist2 = ((exact.double() - spec.double()) ** 2).flatten(1).sum(1)
            norm2 = (exact.double() ** 2).flatten(1).sum(1)
            torch.testing.assert_close(hook.last_dist2[layer], dist2, rtol=1e-4, atol=1e-9)
            torch.testing.assert_close(hook.last_norm2[layer], norm2, rtol=1e-5, atol=1e-9)
            rel = (dist2 / norm2).sqrt()
            clear = (rel - lam).abs() > 1e-4
            assert torch.equal(hook.last_hit[layer][clear], (rel <= lam)[clear])
            outcomes |= set(hook.last_hit[layer][clear].tolist())
        assert hook.stats.decisions == 4 * model.config.num_layers
    assert outcomes == {True, False}


def test_speculative_mask_is_sink_plus_recent():
    S, span = 32, 200
    for pos in (0, 31, 63, 64, 95, 96, 150, 199):
        km = torch.zeros(1, 1, span, dtype=torch.bool)
        km[0, 0, : pos + 1] = True
        m, p = speculative_mask(km, S)
        P = -(-(pos + 1) // 32) * 32
        want = {j for j in range(span) if (j < S or P - S <= j < P) and j <= pos}
        assert p == [pos] and set(m[0, 0].nonzero().flatten().tolist()) == want
        if P <= 2 * S:
            assert torch.equal(m, km)


def test_stats_per_layer_and_user(model):
    _, stats = teacher_forced(model, tokens(3, 180, seed=5), 0.15, chunk=32)
    layers = stats.layer_hit_rates()
    users = stats.user_hit_rates()
    assert len(layers) == model.config.num_layers and all(0.0 <= h <= 1.0 for h in layers)
    assert sorted(users) == [0, 1, 2]
    n = stats.decisions
    assert n == 3 * 179 * model.config.num_layers
    assert stats.hit_rate() == pytest.approx(sum(stats.hits.values()) / n)
    s = stats.summary()
    assert s["decisions"] == n and len(s["layer_rel_median"]) == model.config.num_layers


def test_token_agreement():
    a = torch.tensor([[1, 2, 3, 4, 5], [1, 2, 3, 4, 5]])
    b = torch.tensor([[1, 2, 3, 9, 5], [1, 2, 3, 4, 5]])
    r = token_agreement(a, b, prompt_len=2)
    assert r["agreement"] == pytest.approx(5 / 6) and r["common_prefix"] == [1, 3] and r["identical_users"] == 1


def test_sweep_small(model):
    toks = tokens(2, 120, seed=9)
    res = sweep(model, toks, [0.0, 1e6], [32], prompt_len=80, new_tokens=8, ppl_batch=2, log=lambda *_: None)
    r0, rinf = res["runs"]
    assert r0["ppl_delta"] == 0.0 and r0["agreement"] == 1.0
    assert rinf["tf_hit_rate"] == 1.0 and rinf["ppl_delta"] != 0.0
    assert math.isfinite(res["plain_ppl"])


@pytest.mark.parametrize("bad", [-0.1, -1, math.nan, math.inf, True, "0.1", None])
def test_bad_lambda(bad):
    with pytest.raises(ValueError, match=r"^lambda_: expected a finite number >= 0"):
        ALSpecAttention(2, bad, 32)


@pytest.mark.parametrize("bad", [48, 0, -32, 16, 32.0, True, "64"])
def test_bad_chunk(bad):
    with pytest.raises(ValueError, match=r"^chunk: expected a positive multiple of 32"):
        ALSpecAttention(2, 0.1, bad)
    with pytest.raises(ValueError, match=r"^chunk:"):
        check_chunk(bad)


def test_bad_input_reaches_entry_points(model):
    with pytest.raises(ValueError, match="^lambda_:"):
        generate(model, tokens(1, 10), 2, -0.5)
    with pytest.raises(ValueError, match="^chunk:"):
        teacher_forced(model, tokens(1, 10), 0.1, chunk=40)
    with pytest.raises(ValueError, match="^lambda_:"):
        sweep(model, tokens(1, 10), [0.1, -0.1], [32], log=lambda *_: None)


def test_entry_point_smoke(tmp_path, capsys):
    """models/llama_alspec.py end to end on a tiny setting: tables printed, JSON and both plots written."""
    from models import llama_alspec

    args = ["--target", str(tmp_path / "absent"), "--windows", "2", "--window-tokens", "72", "--prefill", "64",
            "--prompt-len", "64", "--new-tokens", "3", "--lambdas", "0,0.5", "--chunks", "32", "--out", str(tmp_path),
            "--name", "smoke"]
    with pytest.raises(SystemExit):  # an explicit --target that does not exist is an error
        llama_alspec.main(args)
    args = args[2:]
    assert llama_alspec.main(args, default_target=tmp_path / "absent-default") == 0
    out = json.loads((tmp_path / "smoke.json").read_text())
    text = capsys.readouterr().out
    assert "note: no trained checkpoint" in text and "128K" in text
    runs = out["sweep"]["runs"]
    assert [(r["chunk"], r["lambda"]) for r in runs] == [(32, 0.0), (32, 0.5)]
    assert runs[0]["ppl_delta"] == 0.0 and runs[0]["agreement"] == 1.0
    assert (tmp_path / "smoke.json").is_file()
    assert (tmp_path / "smoke_hit_rate.png").stat().st_size > 0 and (tmp_path / "smoke_latency.png").stat().st_size > 0


@pytest.mark.parametrize("argv, match", [
    (["--lambdas", "0.1,-0.2"], "--lambdas: expected a number >= 0; got -0.2"),
    (["--chunks", "48"], "--chunks: chunk"),
    (["--prefill", "0"], "--prefill: expected an integer >= 1"),
    (["--prefill", "400", "--window-tokens", "300"], "--prefill: expected 1 <= prefill < --window-tokens"),
])
def test_entry_point_bad_input(argv, match, capsys):
    from models import llama_alspec

    with pytest.raises(SystemExit):
        llama_alspec.main(argv)
    assert match in capsys.readouterr().err


def test_entry_point_reusable_for_qwen3(tmp_path, capsys):
    """What the Qwen3 entry's --alspec calls: the same main with its own default target and a Qwen3 fallback."""
    from models import llama_alspec

    rc = llama_alspec.main(
        [
            "--windows",
            "1",
            "--window-tokens",
            "40",
            "--prefill",
            "36",
            "--prompt-len",
            "36",
            "--new-tokens",
            "2",
            "--lambdas",
            "0.1",
            "--chunks",
            "32",
            "--out",
            str(tmp_path),
            "--no-plots",
        ],
        default_target=tmp_path / "no-qwen",
        fallback_arch="qwen3",
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "random tiny Qwen3" in out and "(qwen3, 4 layers" in out
    assert (tmp_path / "alspec_random-tiny-qwen3.json").is_file()
