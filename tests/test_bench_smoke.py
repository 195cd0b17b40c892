"""Smoke tests of every bench script on tiny inputs: they run, write valid JSON with every field the report
reads, and write their plots.  No timing assertions (absolute times on shared CPUs are noise); the checks
that can fail are structural (fields, counts that must add up, greedy identity, a monotone acceptance curve).

The scripts run in this process (``main(argv)``, imported as ``bench.<name>``: pytest puts the checkout's root
on ``sys.path``) into a temporary directory; ``bench/report.py`` runs as the command ``make bench`` runs, a
script, from another working directory.  The speculative benchmark runs on random-weight checkpoints written in
the trained checkpoints' format, so it never depends on `make train`.  About 1-1.5 minutes; the
simulator-backend speculative run is marked slow (~40 s more).
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


def script(name: str):
    """The bench script ``bench/<name>.py`` as a module."""
    return importlib.import_module(f"bench.{name}")


def is_png(p) -> bool:
    p = Path(p)
    p = p if p.is_absolute() else ROOT / p
    return p.is_file() and p.read_bytes()[:8] == PNG


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    """Random-weight checkpoints in the trained ones' formats: HF Qwen3 target + small draft, z-lab DFlash b8/b16."""
    from models.qwen3_dflash import random_draft

    spec = script("speculative")
    d = tmp_path_factory.mktemp("ckpt")
    spec.random_hf_checkpoint(d / "target", spec.stand_in_config("target"), seed=0)
    spec.random_hf_checkpoint(d / "draft", spec.stand_in_config("draft"), seed=1)
    model, _ = spec.load_decoder(d / "target")
    model.mask_token_id = 1
    for b in (8, 16):
        random_draft(model, b, seed=b).save_pretrained(d / f"dflash-b{b}")
    return d


@pytest.fixture(scope="module")
def results(tmp_path_factory, ckpts):
    """Every bench script once, on tiny inputs, into one results directory (what bench/report.py reads)."""
    out = tmp_path_factory.mktemp("results")
    rc = {}
    rc["traffic"] = script("traffic").main(["--kernels", "silu_mul,kv_update", "--json", str(out / "traffic.json")])
    rc["attention"] = script("attention").main(["--contexts", "1024", "--kernels", "flash",
                                                "--json", str(out / "attention.json")])
    rc["decode_step"] = script("decode_step").main(["--models", "tiny-qwen3", "--context", "64",
                                                    "--json", str(out / "decode_step.json")])
    from ttl_kernels.perf.validate import validate

    validate(json_path=str(out / "perf_validation.json"), matmul_rows=[0], contexts=(1024,), verbose=False,
             command="ttl-perf validate (smoke: one matmul shape, 1K)")
    rc["alspec"] = script("alspec").main(["--out", str(out)])
    from models.llama_alspec import main as alspec_main

    rc["alspec_hit"] = alspec_main(["--out", str(out), "--name", "alspec_tiny", "--windows", "1", "--window-tokens",
                                    "96", "--prefill", "64", "--prompt-len", "64", "--new-tokens", "4",
                                    "--lambdas", "0,0.1", "--chunks", "32", "--batch", "1"])
    rc["speculative"] = script("speculative").main([
        "--target", str(ckpts / "target"), "--draft", str(ckpts / "draft"), "--dflash-b8", str(ckpts / "dflash-b8"),
        "--dflash-b16", str(ckpts / "dflash-b16"), "--skip-layers", "1,3", "--num-prompts", "2",
        "--max-new-tokens", "12", "--threads", "0", "--json", str(out / "speculative_torch.json")])
    return out, rc


def load(p: Path) -> dict:
    return json.loads(p.read_text())


CHIPS = ("n150", "p150")
PERF = {"dram_us", "compute_us", "handoff_us", "model_us", "bound", "useful_gbps", "ratio_to_dram"}
BOUNDS = {"dram", "compute", "handoff", "noc", "dispatch"}


def check_model(m: dict, min_bytes: int) -> None:
    """A chip's cycle-model fields: present, consistent (the model time is never below the DRAM time, useful
    bandwidth is the minimum over the model time)."""
    assert PERF <= m.keys(), PERF - m.keys()
    assert m["bound"] in BOUNDS
    assert m["model_us"] >= m["dram_us"] > 0 and m["compute_us"] >= 0 and m["handoff_us"] >= 0
    assert m["ratio_to_dram"] == pytest.approx(m["model_us"] / m["dram_us"], rel=2e-2)
    assert m["useful_gbps"] == pytest.approx(min_bytes / (m["model_us"] * 1e3), rel=2e-2)


def test_traffic(results):
    out, rc = results
    d = load(out / "traffic.json")
    assert {"command", "machine", "backend", "grid", "chips", "results"} <= d.keys()
    kernels = {r["kernel"] for r in d["results"]}
    assert kernels == {"silu_mul", "kv_update"}
    for r in d["results"]:
        assert {"kernel", "params", "bytes", "min_bytes", "min_rule", "ratio", "cores", "balance", "pcc",
                "sim_wall_s"} <= r.keys()
        assert r["bytes"] > 0 and r["cores"] >= 1 and r["balance"] >= 1.0 and r["pcc"] > 0.99
        # a minimum is a lower bound: no kernel (in-place kv_update included) moves less than it
        assert r["ratio"] >= 1.0, r
        for chip in CHIPS:
            check_model(r[chip], r["min_bytes"])
        assert r["n150"]["dram_bytes"] == r["bytes"]  # the counter's DRAM bytes are the traced bytes
    worst = max(r["ratio"] for r in d["results"] if r["params"].get("passes", 1) == 1)
    assert rc["traffic"] == (0 if worst <= 1.05 else 1)


def test_attention(results):
    d = load(results[0] / "attention.json")
    assert {"command", "machine", "grid", "bandwidth_gbps", "ttnn_anchor_gbps", "kv_dtypes", "chips",
            "rows"} <= d.keys()
    rows = {r["kv_dtype"]: r for r in d["rows"]}
    assert set(rows) == {"bf16", "bfp8_b"} and len(d["rows"]) == 2
    for r in rows.values():
        for k in ("kernel", "context", "bytes", "min_bytes", "ratio", "kv_cores", "kv_max_over_mean",
                  "model_bytes_n150", "model_matches_trace", "model_bytes_p150", "p150_plan_matches_count",
                  "roofline_us_n150", "roofline_us_p150", "min_at_ttnn_180gbps_us"):
            assert k in r, k
        assert r["context"] == 1024 and r["model_matches_trace"] and r["bytes"] >= r["min_bytes"]
        assert r["p150_plan_matches_count"]  # the p150 plan's bytes are what the p150-grid run moved
        for chip in CHIPS:
            check_model(r[chip], r["min_bytes"])
            assert r[chip]["partial"]["cores"] >= 1
    assert rows["bfp8_b"]["min_bytes"] == rows["bf16"]["min_bytes"] * 1088 // 2048  # bfp8_b: 1088 bytes a tile
    # the bfp8_b cache moves 1088 / 2048 of the KV bytes (the plans may differ: a bfp8_b chunk costs more compute,
    # so its plan may split the segments over more cores, with more per-core constants and partials)
    assert rows["bfp8_b"]["breakdown"]["kv"] * 2048 == rows["bf16"]["breakdown"]["kv"] * 1088


def test_decode_step(results):
    d = load(results[0] / "decode_step.json")
    assert {"command", "machine", "precisions", "figures", "target", "results"} <= d.keys()
    assert set(d["precisions"]) == {"bf16", "bfp8_b", "performance"}
    (m,) = d["results"]
    assert m["model"] == "tiny-qwen3" and m["layers_run"] == m["layers_model"] == 4
    assert set(m["kernels"]) == {f"{kv}/{c}" for kv in ("bf16", "bfp8_b") for c in CHIPS}
    ks = {k["kernel"] for k in m["kernels"]["bf16/n150"]}
    assert {"flash_decode", "rope", "kv_update", "silu_mul", "add_rms_norm", "rms_norm", "head_rms_norm",
            "heads_to_groups", "groups_to_heads"} <= ks
    assert {x["role"] for x in m["matmuls"]} == {"wq", "wk", "wv", "wo", "wg", "wu", "wd", "lm_head"}
    assert {(x["chip"], x["precision"]) for x in m["rows"]} == {(c, p) for c in CHIPS for p in d["precisions"]}
    for x in m["rows"]:
        assert set(x["class_us"]) == {"attention", "matmuls", "norms", "element-wise", "layout"}
        assert all(v > 0 for v in x["class_us"].values())
        assert x["traced_us"] == pytest.approx(sum(x["class_us"].values()), abs=0.2)
        assert x["eager_us"] == pytest.approx(x["traced_us"] + x["dispatch_us"], abs=0.2)
        assert x["dispatch_us"] == pytest.approx(x["launches"] * d["figures"][x["chip"]]["dispatch_eager_us"], rel=1e-3)
        assert x["tok_s_traced"] == pytest.approx(1e6 / x["traced_us"], rel=1e-3)
        assert x["tok_s_eager"] < x["tok_s_traced"]
        assert x["binding"] == max(x["class_us"], key=x["class_us"].get) and x["fits"]
    by = {(x["chip"], x["precision"]): x for x in m["rows"]}
    for c in CHIPS:  # fewer weight bytes, less matmul time; the TT-Lang kernels do not read weights
        assert by[(c, "bf16")]["class_us"]["matmuls"] > by[(c, "bfp8_b")]["class_us"]["matmuls"]
        assert by[(c, "bfp8_b")]["class_us"]["matmuls"] > by[(c, "performance")]["class_us"]["matmuls"]
        assert by[(c, "bf16")]["weights_gb"] > by[(c, "bfp8_b")]["weights_gb"] > by[(c, "performance")]["weights_gb"]


def test_alspec(results):
    out, rc = results
    assert rc["alspec"] == 0  # the swap is checked bit-exact
    sw = load(out / "alspec_swap_traffic.json")
    assert sw["results"] and all(r["exact"] and r["bytes"] > 0 for r in sw["results"])
    lat = load(out / "alspec_latency.json")
    assert {"command", "hw", "model", "paper", "measured", "rows"} <= lat.keys()
    d = load(out / "alspec_tiny.json")
    runs = d["sweep"]["runs"]
    assert [(r["chunk"], r["lambda"]) for r in runs] == [(32, 0.0), (32, 0.1)]
    for r in runs:
        assert len(r["tf_layer_hit_rates"]) == d["sweep"]["layers"] and 0 <= r["tf_hit_rate"] <= 1
        assert {"gen_hit_rate", "ppl", "ppl_rel_delta", "agreement", "identical_users", "users"} <= r.keys()
    assert runs[0]["tf_hit_rate"] == 0.0  # lambda 0 never accepts the approximation
    assert {"meta", "rows", "paper"} <= d["latency"].keys()
    assert is_png(out / "alspec_tiny_hit_rate.png") and is_png(out / "alspec_tiny_latency.png")


METHOD_FIELDS = {"kind", "description", "prompts", "tokens", "seconds", "tokens_per_s", "seconds_per_token",
                 "speedup_vs_plain", "speedup_per_prompt", "speedup_per_prompt_median", "identical_to_plain",
                 "mismatches", "tau", "target_steps"}


def check_ours(s: dict) -> None:
    assert {"k", "acceptance_rate", "per_position_acceptance", "histogram", "verify_steps"} <= s.keys()
    k = s["k"]
    assert 1.0 <= s["tau"] <= k + 1
    assert len(s["histogram"]) == k + 1 and sum(s["histogram"]) == s["verify_steps"]
    pp = s["per_position_acceptance"]
    assert len(pp) == k and all(a >= b for a, b in zip(pp, pp[1:]))  # position i accepted only after 0..i-1
    # tau counts kept tokens: 1 + sum(pp) less what each prompt's last step made past --max-new-tokens (< k + 1)
    made = 1 + sum(pp)
    assert made - (k + 1) * s["prompts"] / s["verify_steps"] - 1e-3 <= s["tau"] <= made + 1e-3


def test_speculative_torch(results):
    out, rc = results
    d = load(out / "speculative_torch.json")
    assert rc["speculative"] == 0 and d["identical_all"]  # greedy: every method's tokens == plain decoding's
    assert {"section", "command", "machine", "when", "backend", "checkpoints", "settings", "notes", "methods", "rows",
            "plots"} <= d.keys()
    assert {"node", "cpu", "cores", "torch_threads"} <= d["machine"].keys()
    assert list(d["methods"]) == ["plain", "layer-skip-1", "layer-skip-3", "small-draft", "dflash-b8", "dflash-b16",
                                  "dflash-auto", "hf-generate", "hf-assisted", "hf-prompt-lookup"]
    auto = d["settings"]["dflash-auto"]
    assert auto["block_size"] == auto["auto"]["block"] and 2 <= auto["block_size"] <= 16
    assert d["methods"]["dflash-auto"]["k"] == auto["block_size"] - 1
    assert not any("no trained" in n for n in d["notes"])  # every checkpoint was given
    for name, s in d["methods"].items():
        assert METHOD_FIELDS <= s.keys(), name
        assert s["prompts"] == 2 and s["tokens"] > 0 and s["tokens_per_s"] > 0
        assert len(s["speedup_per_prompt"]) == 2
        if s["kind"] == "hf":
            assert "speedup_vs_hf_generate" in s
        if s["kind"] == "ours" and name != "plain":
            check_ours(s)
    assert d["methods"]["plain"]["speedup_vs_plain"] == pytest.approx(1.0)
    assert d["methods"]["hf-generate"]["tau"] == 1.0  # one target forward per token: the hook counts every forward
    assert d["settings"]["dflash-b16"]["block_size"] == 16 and d["methods"]["dflash-b16"]["k"] == 15
    for r in d["rows"]:  # interleaved: every prompt ran every method once
        assert sorted(r["order"]) == sorted(d["methods"])
    assert len(d["plots"]) == 3 and all(is_png(p) for p in d["plots"])


def test_speculative_missing_checkpoints_are_stood_in_and_said(tmp_path, monkeypatch):
    spec = script("speculative")
    monkeypatch.setattr(spec, "DEFAULT_DIRS", {k: tmp_path / "none" / k for k in spec.DEFAULT_DIRS})
    rc = spec.main(["--methods", "plain,dflash-b8,hf-generate", "--num-prompts", "1", "--max-new-tokens", "6",
                    "--threads", "0", "--json", str(tmp_path / "s.json"), "--no-plots"])
    d = load(tmp_path / "s.json")
    assert rc == 0 and d["identical_all"]
    assert d["checkpoints"]["target"].startswith("MISSING") and d["checkpoints"]["dflash-b8"].startswith("MISSING")
    assert "draft" not in d["checkpoints"]  # not needed by these methods
    assert any("no trained target" in n for n in d["notes"]) and any("dflash-b8" in n for n in d["notes"])
    assert d["settings"]["target"].startswith("random stand-in")


def test_speculative_b8_runs_the_b16_draft_when_no_b8_exists(ckpts, tmp_path, monkeypatch):
    spec = script("speculative")
    monkeypatch.setattr(spec, "DEFAULT_DIRS", {**spec.DEFAULT_DIRS, "dflash-b8": tmp_path / "none"})
    rc = spec.main(["--target", str(ckpts / "target"), "--dflash-b16", str(ckpts / "dflash-b16"),
                    "--methods", "dflash-b8", "--num-prompts", "1", "--max-new-tokens", "4", "--threads", "0",
                    "--json", str(tmp_path / "b8.json"), "--no-plots"])
    d = load(tmp_path / "b8.json")
    assert rc == 0 and "run at block size 8" in d["checkpoints"]["dflash-b8"]
    assert d["settings"]["dflash-b8"]["block_size"] == 8 and d["settings"]["dflash-b8"]["trained_block_size"] == 16
    assert d["methods"]["dflash-b8"]["k"] == 7 and not any("random" in n for n in d["notes"])


def test_step_profile(ckpts, tmp_path):
    rc = script("step_profile").main(["--target", str(ckpts / "target"), "--draft", str(ckpts / "dflash-b16"),
                                      "--block", "8", "--reps", "3", "--json", str(tmp_path / "p.json")])
    d = load(tmp_path / "p.json")
    assert rc == 0 and d["block"] == 8 and d["reps"] == 3 and d["prompt_tokens"] > 8
    assert set(d["ms"]) == {"reference", "fast"} and set(d["fast_over_reference"]) == {"plain", "verify", "draft"}
    for m in d["ms"].values():
        assert min(m["plain"], m["verify"], m["draft"]) > 0
        assert m["dflash_step_in_plain_steps"] == pytest.approx((m["draft"] + m["verify"]) / m["plain"])


def test_step_profile_missing_checkpoint(tmp_path, capsys):
    assert script("step_profile").main(["--target", str(tmp_path / "none"), "--reps", "3"]) == 1
    assert "--target: no checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--methods", "plain,nonsense"], ["--methods", "layer-skip", "--skip-layers", "4"],
                                  ["--skip-layers", "two"]])
def test_speculative_bad_arguments(tmp_path, args):
    with pytest.raises(SystemExit):
        script("speculative").main([*args, "--num-prompts", "1", "--max-new-tokens", "2", "--threads", "0",
                                    "--json", str(tmp_path / "x.json")])
    assert not (tmp_path / "x.json").exists()


@pytest.mark.slow
def test_speculative_sim(ckpts, tmp_path):
    spec = script("speculative")
    rc = spec.main(["--backend", "sim", "--target", str(ckpts / "target"), "--dflash-b8", str(ckpts / "dflash-b8"),
                    "--methods", "plain,dflash-b8", "--num-prompts", "1", "--max-new-tokens", "3", "--threads", "0",
                    "--json", str(tmp_path / "sim.json")])
    d = load(tmp_path / "sim.json")
    assert d["backend"] == "sim" and list(d["methods"]) == ["plain", "dflash-b8"]
    assert rc == (0 if d["identical_all"] else 1)
    for s in d["methods"].values():
        assert METHOD_FIELDS | {"seconds_per_target_step", "identical_to_torch_plain"} <= s.keys()
        assert s["target_steps"] >= 1
    check_ours(d["methods"]["dflash-b8"])
    assert all(is_png(p) for p in d["plots"])


def test_report_from_results(results, tmp_path):
    """``python bench/report.py --no-run`` as a script (its own imports, no package on sys.path), from another working
    directory, rebuilds REPORT.md from the results directory."""
    out, _ = results
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "report.py"), "--no-run", "--results", str(out)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    md = (out / "REPORT.md").read_text()
    for head in ("## Summary", "## 1. Kernels", "### 1b. Every kernel instance", "### 1c. The cycle model against",
                 "### 1d. Decode attention", "### 1e. Decode step", "## 2. Speculative decoding, torch",
                 "## 3. Speculative decoding, simulator", "## 4. ALSpec", "## Commands run"):
        assert head in md, head
    # the worst-first table: every instance of traffic.json and attention.json once, sorted by n150 model / DRAM
    part = md[md.index("### 1b."):md.index("### 1c.")]
    rows = [line.split("|")[1:-1] for line in part.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) == len(load(out / "traffic.json")["results"]) + 2  # + the two 1K attention rows (bf16 is new)
    ratios = [float(r[8]) for r in rows]
    assert ratios == sorted(ratios, reverse=True) and all(r[7].strip() in BOUNDS for r in rows)
    assert "model / published" in md and "tiny-qwen3" in md[md.index("### 1e."):]
    assert md.index("## Summary") < md.index("## 1. Kernels")
    for m in ("dflash-b16", "hf-assisted", "hf-prompt-lookup", "layer-skip-1", "layer-skip-3"):
        assert f"| {m} |" in md
    assert "Command: `python bench/speculative.py" in md and "Command: `python bench/traffic.py" in md
    assert "_not run (no JSON)._" in md  # no simulator speculative run in this directory: said, not faked
    assert is_png(out / "attention_bandwidth.png")
