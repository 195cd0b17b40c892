"""ALSpec under lm-eval: the scoring engine against the reference model (loglikelihood = summed log-probs,
rolling = teacher-forced NLL, greedy generation with stop strings, lambda 0 = ALSpec off, hit rates), the
``ttl-alspec`` model through the harness (registry, local task YAMLs via TaskManager's include_path,
simple_evaluate with a limit), the task generator and the CLI's argument checks.  A random tiny model with the
shipped tokenizer; the tests that need lm-eval skip only when it is not installed."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from models.alspec import tasks as local
from models.alspec.reference import teacher_forced
from models.alspec.scoring import ALSpecScorer, GenRequest, PrefillCache
from reference import registry
from reference.decoder import Decoder, DecoderConfig, greedy_generate

ROOT = Path(__file__).resolve().parent.parent
TOKENIZER = registry.checkpoint("tiny-llama3")


@pytest.fixture(scope="module", autouse=True)
def keep_global_rng():
    """lm_eval.simple_evaluate seeds random, numpy and torch globally: restore them for the rest of the suite."""
    import random

    import numpy as np

    states = random.getstate(), np.random.get_state(), torch.random.get_rng_state()
    yield
    random.setstate(states[0])
    np.random.set_state(states[1])
    torch.random.set_rng_state(states[2])


@pytest.fixture(scope="module")
def tokenizer():
    from reference.hf import load_tokenizer

    return load_tokenizer(TOKENIZER)


@pytest.fixture(scope="module")
def model():
    cfg = DecoderConfig(arch="llama", vocab_size=4096, hidden_size=64, intermediate_size=128, num_layers=2,
                        num_heads=4, num_kv_heads=2, head_dim=16, rope_theta=1e4, tie_word_embeddings=True,
                        max_position_embeddings=512)
    torch.manual_seed(0)
    m = Decoder(cfg).eval()
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.3)  # peaked attention: the approximation misses sometimes
    return m


@pytest.fixture(scope="module")
def texts():
    from models.corpus import load_split

    docs = [t for _, t in sorted(load_split("heldout")) if len(t) > 2000]
    assert len(docs) >= 4, "the held-out stdlib split has fewer than 4 files over 2000 characters"
    return [d[:1500] for d in docs[:4]]


def scorer(model, tokenizer, lam=None, **kw):
    kw.setdefault("chunk", 32)
    return ALSpecScorer(model, tokenizer, lambda_=lam, **kw)


def reference_logprobs(model, ids: list[int]) -> torch.Tensor:
    """log p(ids[t] | ids[:t]) for t >= 1 from one full forward (no cache, no decode steps)."""
    with torch.inference_mode():
        logits = model(torch.tensor([ids])).logits[0].float()
    return torch.log_softmax(logits[:-1], -1).gather(1, torch.tensor(ids[1:])[:, None])[:, 0]


# ------------------------------------------------------------------------------------------- the engine


def test_loglikelihood_equals_reference_summed_logprobs(model, tokenizer, texts):
    reqs = [(t[:300 + 40 * i], t[300 + 40 * i:380 + 50 * i]) for i, t in enumerate(texts)]
    reqs += [(texts[0][:200] + "\n", "    return x\n"), ("", texts[1][:60])]
    s = scorer(model, tokenizer, batch_size=3)
    got = s.loglikelihood(reqs)
    for (ctx, cont), (lp, greedy) in zip(reqs, got):
        c, x = s.encode_pair(ctx, cont)
        ref = reference_logprobs(model, c + x)[len(c) - 1:]
        assert len(ref) == len(x) > 0
        assert lp == pytest.approx(float(ref.sum()), rel=1e-5, abs=1e-4)
        with torch.inference_mode():
            top = model(torch.tensor([c + x])).logits[0, len(c) - 1:-1].argmax(-1)
        assert greedy == bool((top == torch.tensor(x)).all())
    # trailing whitespace of the context moves into the continuation (the harness's convention)
    c, x = s.encode_pair("a = 1\n", "    b = 2\n")
    assert tokenizer.decode(x).startswith("\n") and tokenizer.decode(c[1:]) == "a = 1"
    assert c[0] == s.prefix_token
    # every continuation token but the first went through a decode step
    assert s.total().decode_steps == sum(len(s.encode_pair(c, x)[1]) - 1 for c, x in reqs)


def test_rolling_equals_teacher_forced_nll(model, tokenizer, texts):
    for lam in (None, 0.1):
        s = scorer(model, tokenizer, lam, batch_size=1)
        got = s.loglikelihood_rolling(texts[:2])
        for text, lp in zip(texts[:2], got):
            ids = torch.tensor([[s.prefix_token] + s.encode(text)])
            nll, st = teacher_forced(model, ids, lam, chunk=32, prefill=1)
            assert lp == pytest.approx(-float(nll.sum()), rel=1e-6, abs=1e-4)
        if lam is not None:
            ref_hits = []
            for text in texts[:2]:
                _, st = teacher_forced(model, torch.tensor([[s.prefix_token] + s.encode(text)]), lam, 32)
                # teacher_forced's one-token prefill reaches the hook as a decode step (a hit at position 0)
                ref_hits.append(sum(st.hits.values()) - model.config.num_layers)
            assert sum(s.tasks["default"].stats.hits.values()) == sum(ref_hits)


def test_rolling_windows_predict_each_token_once(model, tokenizer):
    s = scorer(model, tokenizer, max_length=16)
    ids = list(range(100, 150))
    wins = s.rolling_windows(ids)
    assert [t for _, x in wins for t in x] == ids
    assert wins[0][0] == [s.prefix_token]
    for c, x in wins:
        assert len(c) + len(x) - 1 <= 16
        if c != [s.prefix_token]:
            assert ids[ids.index(x[0]) - len(c):ids.index(x[0])] == c


def test_generate_until_greedy_and_stop_strings(model, tokenizer, texts):
    s = scorer(model, tokenizer, batch_size=2)
    ctxs = [texts[0][:400], texts[1][:250]]
    plain_ids = []
    for c in ctxs:
        ids = torch.tensor([[s.prefix_token] + s.encode(c)])
        plain_ids.append(greedy_generate(model, ids, 20)[0, ids.shape[1]:].tolist())
    plain = [tokenizer.decode(p) for p in plain_ids]
    assert s.generate_until([GenRequest(c, [], 20) for c in ctxs]) == plain
    assert s.generate_until([GenRequest(ctxs[0], [], 3)]) == [tokenizer.decode(plain_ids[0][:3])]
    stops = [p[len(p) // 2:len(p) // 2 + 2] for p in plain]
    got = s.generate_until([GenRequest(c, [st, "\x00never"], 20) for c, st in zip(ctxs, stops)])
    for g, p, st in zip(got, plain, stops):
        assert g == p[:p.find(st)] and st not in g
    with pytest.raises(ValueError, match="max_gen_toks"):
        s.generate_until([GenRequest(ctxs[0], [], 10_000)])


def test_lambda_zero_identical_to_off_and_hits_recorded(model, tokenizer, texts):
    cache = PrefillCache()
    reqs = [(t[:500], t[500:600]) for t in texts]
    gens = [GenRequest(t[:450], ["\n\n"], 24) for t in texts]
    out = {}
    for lam in (None, 0.0, 0.3, 1e9):
        s = scorer(model, tokenizer, lam, batch_size=2, prefill_cache=cache)
        out[lam] = (s.loglikelihood(reqs, ["ll"] * 4), s.loglikelihood_rolling(texts[:2], ["roll"] * 2),
                    s.generate_until(gens, ["gen"] * 4), s.summary())
    assert out[0.0][:3] == out[None][:3]
    assert out[None][3]["all"]["decisions"] == 0 and out[None][3]["all"]["decode_steps"] > 0
    for lam in (0.0, 0.3, 1e9):
        summ = out[lam][3]
        assert set(summ["tasks"]) == {"ll", "roll", "gen"}
        for t in summ["tasks"].values():
            assert t["decisions"] == t["decode_steps"] * model.config.num_layers > 0
            assert len(t["layer_hit_rates"]) == model.config.num_layers
    # lambda 0 hits only where P <= 2S (the approximation is the exact attention) here
    a0 = out[0.0][3]["all"]
    assert a0["hit_rate"] == pytest.approx(a0["covered_fraction"], abs=0.02) and a0["hit_rate"] < 0.5
    assert out[0.3][3]["all"]["hit_rate"] > a0["hit_rate"]
    assert out[1e9][3]["all"]["hit_rate"] == 1.0
    assert out[1e9][:2] != out[None][:2]  # the speculative outputs were used
    assert cache.hits > 0


# -------------------------------------------------------------------------------------------- the tasks


SMALL = local.Sizes(code_mc=3, code_line=3, retrieval=2, ppl=2, ctx_min=64, ctx_max=160, retrieval_min=300,
                    retrieval_max=360, key_min_pos=100, key_min_tail=100, ppl_tokens=160)


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory, tokenizer):
    d = tmp_path_factory.mktemp("alspec_tasks")
    local.build(d, 0, tokenizer, SMALL)
    return d


def test_task_generator(task_dir, tokenizer, tmp_path):
    m = json.loads((task_dir / "manifest.json").read_text())
    assert set(m["tasks"]) == set(local.TASKS)
    rows = {n: [json.loads(x) for x in (task_dir / f"{n}.jsonl").read_text().splitlines()]
            for n in ("alspec_code_mc", "alspec_code_line", "alspec_retrieval", "alspec_heldout_ppl")}
    assert [len(v) for v in rows.values()] == [3, 3, 2, 2]
    from models.corpus import load_split

    src = dict(load_split("heldout"))
    for r in rows["alspec_code_mc"]:
        assert len(set(r["choices"])) == 4
        assert r["context"] + r["choices"][r["label"]] in src[r["file"]] + "\n"
    for r in rows["alspec_code_line"]:
        assert r["context"] + r["target"] in src[r["file"]] and r["target"].startswith(" ")
    for r in rows["alspec_retrieval"]:
        key_line = f'SECRET_KEY = "{r["target"]}"\n'
        assert r["context"].count(r["target"]) == 1 and key_line in r["context"]
        assert r["context"].endswith('assert SECRET_KEY == "') and r["choices"][r["label"]] == r["target"] + '"'
        before, after = r["context"].split(key_line)
        assert len(tokenizer.encode(before)) >= SMALL.key_min_pos and len(tokenizer.encode(after)) >= SMALL.key_min_tail
        assert len(tokenizer.encode(r["context"])) <= SMALL.retrieval_max
    for r in rows["alspec_heldout_ppl"]:
        assert src[r["file"]].startswith(r["text"]) and r["text"].startswith("# file: ")
    local.build(tmp_path, 0, tokenizer, SMALL)  # deterministic
    assert json.loads((tmp_path / "manifest.json").read_text())["data"] == m["data"]


# ------------------------------------------------------------------------------------------ the harness


@pytest.fixture(scope="module")
def harness():
    import lm_eval  # noqa: F401  (the dev extra installs it: a missing harness is a failure, not a skip)

    from models.alspec import lm_eval_model

    return lm_eval_model


def test_registered_name_resolves(harness):
    from lm_eval.api.registry import get_model

    assert get_model("ttl-alspec") is harness.ALSpecLM
    assert harness.parse_lambda("off") is None and harness.parse_lambda("0.1") == 0.1
    with pytest.raises(ValueError, match="alspec_lambda"):
        harness.parse_lambda(-1)
    with pytest.raises(ValueError, match="unknown model_args"):
        harness.ALSpecLM(pretrained=str(TOKENIZER), bogus=1)


def test_local_tasks_evaluate_through_the_harness(harness, task_dir, model, tokenizer):
    import lm_eval
    from lm_eval.tasks import TaskManager

    tm = TaskManager(include_path=str(task_dir), include_defaults=False)
    assert set(local.TASKS) | {local.TAG} <= set(tm.all_tasks)
    res = {}
    for lam in (None, 0.0):
        lm = harness.ALSpecLM.from_scorer(scorer(model, tokenizer, lam, batch_size=4))
        out = lm_eval.simple_evaluate(model=lm, tasks=[local.TAG], task_manager=tm, limit=2, bootstrap_iters=0,
                                      log_samples=True)
        res[lam] = out
        assert set(out["results"]) == set(local.TASKS)
        for name, r in out["results"].items():
            vals = [v for k, v in r.items() if "," in k and "stderr" not in k]
            assert vals and all(isinstance(v, float) and math.isfinite(v) for v in vals), (name, r)
    summ = lm.alspec_summary()
    assert set(summ["tasks"]) == set(local.TASKS)
    assert all(t["decode_steps"] > 0 for t in summ["tasks"].values())
    for name in local.TASKS:
        a = [s["resps"] for s in sorted(res[None]["samples"][name], key=lambda s: s["doc_id"])]
        b = [s["resps"] for s in sorted(res[0.0]["samples"][name], key=lambda s: s["doc_id"])]
        assert a == b, name
    mc = res[None]["samples"]["alspec_code_mc"][0]
    assert len(mc["arguments"]) == 4 and mc["arguments"][0][0] == mc["doc"]["context"]


# ---------------------------------------------------------------------------------------------- the CLI


@pytest.mark.parametrize("argv,fragment", [
    (["--lambdas", "-1"], "--lambdas"),
    (["--chunk", "48"], "--chunk: expected multiples of 32"),
    (["--limit", "0"], "--limit"),
    (["--target", "/nonexistent"], "--target"),
    (["--from-json", "/nonexistent.json"], "--from-json"),
])
def test_cli_bad_arguments_one_line(argv, fragment, capsys):
    from models import alspec_eval
    from models.cli import run_main

    assert run_main(alspec_eval.main, argv, prog="alspec_eval.py") == 2
    err = capsys.readouterr()
    assert err.err.count("\n") == 1 and fragment in err.err and err.out == ""


def test_cli_bad_argument_real_process():
    p = subprocess.run([sys.executable, str(ROOT / "models" / "alspec_eval.py"), "--lambdas", "x"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "--lambdas" in p.stderr


def test_cli_runs_and_writes_json(harness, task_dir, tmp_path):
    from models import alspec_eval

    out = tmp_path / "r.json"
    md = tmp_path / "r.md"
    rc = alspec_eval.main(["--tasks", "alspec_code_mc,alspec_retrieval", "--task-dir", str(task_dir), "--limit", "1",
                           "--lambdas", "0,0.5", "--chunk", "32", "--bootstrap-iters", "0", "--json", str(out),
                           "--markdown", str(md)])
    assert rc == 0
    r = json.loads(out.read_text())
    assert [x["lambda"] for x in r["runs"]] == [None, 0.0, 0.5] and r["lambda0_identical"] is True
    assert r["runs"][2]["alspec"]["all"]["hit_rate"] is not None
    assert "alspec_code_mc (acc)" in r["grid"] and "| task (metric) |" in md.read_text()
