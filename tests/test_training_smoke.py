"""Fast checks of the training pipeline (corpus split, tokenizer, a 3-step training run).

They build everything they need in a tmp dir from a small sample of the corpus, so they do not depend on
``training/data`` or on the shipped checkpoints."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from training import corpus
from training.tokenizer import SPECIAL_IDS, save_hf, train_tokenizer

REPO = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------------------- corpus
def test_split_is_deterministic_disjoint_and_roughly_90_5_5():
    files = corpus.collect_files()
    assert len(files) > 200, "the stdlib should have hundreds of .py files"
    rel = [f.relpath for f in files]
    assert len(set(rel)) == len(rel)
    for r in rel:   # excluded folders never appear
        parts = r.split("/")[:-1]
        assert not any(corpus.excluded_dir(p) for p in parts), r
    a, b = corpus.split_files(files), corpus.split_files(corpus.collect_files())
    sets = {k: {f.relpath for f in v} for k, v in a.items()}
    assert sets == {k: {f.relpath for f in v} for k, v in b.items()}
    assert not sets["train"] & sets["heldout"]
    assert not sets["train"] & sets["val"]
    assert not sets["val"] & sets["heldout"]
    assert sets["train"] | sets["val"] | sets["heldout"] == set(rel)
    n = len(rel)
    assert 0.85 * n < len(sets["train"]) < 0.95 * n
    assert 0.02 * n < len(sets["val"]) < 0.09 * n
    assert 0.02 * n < len(sets["heldout"]) < 0.09 * n
    # the split of a file depends on its path and the seed only
    assert corpus.split_of("json/decoder.py") == corpus.split_of("json/decoder.py")
    other = corpus.split_files(files, seed=1)
    assert {f.relpath for f in other["heldout"]} != sets["heldout"]


def test_excluded_dirs():
    for d in ("test", "tests", "idle_test", "site-packages", "__pycache__", "lib-dynload", "config-3.12-x86_64"):
        assert corpus.excluded_dir(d)
    for d in ("json", "email", "asyncio", "testing_tools"):
        assert not corpus.excluded_dir(d)


# ----------------------------------------------------------------------------------------- tokenizer
def _sample_root(tmp_path: Path, n: int = 24) -> Path:
    """A tiny fake stdlib: copies of some real stdlib files (plus a test folder that must be skipped)."""
    root = tmp_path / "lib"
    files = corpus.collect_files()
    picked = [f for f in files if 2_000 < f.path.stat().st_size < 20_000][:n]
    for f in picked:
        dst = root / f.relpath
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(f.path.read_text(encoding="utf-8", errors="replace"), encoding="utf-8")
    (root / "test").mkdir(parents=True, exist_ok=True)
    (root / "test" / "test_never.py").write_text("NEVER_IN_CORPUS = 1\n")
    return root


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tiny_corpus")
    root = _sample_root(tmp)
    files = corpus.collect_files(root)
    assert all(not f.relpath.startswith("test/") for f in files)
    splits = corpus.split_files(files)
    tok = train_tokenizer([f.document() for f in splits["train"]], vocab_size=600)
    tok_dir = save_hf(tok, tmp / "tokenizer")
    data_dir = tmp / "data"
    manifest = corpus.build(data_dir, tok_dir, root=root, verbose=False)
    return {"root": root, "tok_dir": tok_dir, "data_dir": data_dir, "manifest": manifest, "tmp": tmp}


def test_tokenizer_roundtrip_and_special_ids(tiny_data):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_data["tok_dir"]))
    assert tok.convert_tokens_to_ids("<|endoftext|>") == 0 == SPECIAL_IDS["<|endoftext|>"]
    assert tok.convert_tokens_to_ids("<|MASK|>") == 1 == SPECIAL_IDS["<|MASK|>"]
    assert tok.convert_tokens_to_ids("<|pad|>") == 2 == SPECIAL_IDS["<|pad|>"]
    assert tok.eos_token_id == 0 and tok.pad_token_id == 2 and tok.mask_token_id == 1
    text = "def f(x):\n    return {'a': x ** 2}  # café ✓ \t\n\n\tclass Z: pass\n"
    ids = tok(text)["input_ids"]
    assert all(i > 2 for i in ids), "plain text must not produce special tokens"
    assert tok.decode(ids) == text
    # special tokens in text are single ids
    ids = tok("x = 1<|endoftext|><|MASK|>")["input_ids"]
    assert ids[-2:] == [0, 1]
    assert len(tok) == 600


def test_corpus_build_is_disjoint_and_sized(tiny_data):
    m = tiny_data["manifest"]
    lists = {s: set(m["splits"][s]["file_list"]) for s in corpus.SPLITS}
    assert not lists["heldout"] & lists["train"]
    assert not lists["val"] & lists["train"]
    import numpy as np

    for s in corpus.SPLITS:
        ids = np.fromfile(tiny_data["data_dir"] / f"{s}.bin", dtype=np.uint16)
        assert ids.size == m["splits"][s]["tokens"]
        assert (ids == 0).sum() == m["splits"][s]["files"], "one <|endoftext|> per document"
    # the held-out text never reaches the train tokens: decode train and look for held-out documents
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tiny_data["tok_dir"] / "tokenizer.json"))
    train_text = tok.decode(np.fromfile(tiny_data["data_dir"] / "train.bin", dtype=np.uint16).tolist(),
                            skip_special_tokens=False)
    for rel in lists["heldout"] | lists["val"]:
        assert f"# file: {rel}\n" not in train_text
    for rel in list(lists["train"])[:3]:
        assert f"# file: {rel}\n" in train_text
    assert "NEVER_IN_CORPUS" not in train_text


# ----------------------------------------------------------------------------------------- training
TINY = ["--layers", "1", "--hidden", "64", "--heads", "2", "--kv-heads", "1", "--head-dim", "32", "--ffn", "128",
        "--seq", "32", "--bs", "4", "--lr", "1e-2", "--warmup", "1", "--dropout", "0", "--eval-every", "1",
        "--eval-windows", "8", "--full-eval-limit", "16", "--compare-seq", "16", "--threads", "1",
        "--no-progress", "--device", "cpu"]


@pytest.mark.parametrize("arch", ["qwen3", "llama"])
def test_three_step_training_writes_a_loadable_checkpoint(tiny_data, arch):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training import train_target

    out = tiny_data["tmp"] / f"ckpt-{arch}"
    run = tiny_data["tmp"] / f"run-{arch}"
    common = ["--arch", arch, "--name", f"t-{arch}", "--out", str(out), "--run-dir", str(run),
              "--data-dir", str(tiny_data["data_dir"]), "--tokenizer-dir", str(tiny_data["tok_dir"]),
              "--log-file", str(tiny_data["tmp"] / f"{arch}.log"), *TINY]
    res = train_target.main([*common, "--steps", "3"])
    hist = res["history"]
    assert [h["step"] for h in hist] == [0, 1, 2, 3]
    assert hist[-1]["val"] < hist[0]["val"] - 0.05, hist    # the loss went down
    assert hist[0]["val"] == pytest.approx(math.log(600), abs=0.3)   # ~uniform at initialisation
    for fn in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "training_log.json"):
        assert (out / fn).exists(), fn
    log = json.loads((out / "training_log.json").read_text())
    assert log["eval"]["val_nats_per_token"] == res["eval"]["val_nats_per_token"]
    assert log["eval"]["val_bits_per_byte"] > 0

    model = AutoModelForCausalLM.from_pretrained(str(out))
    tok = AutoTokenizer.from_pretrained(str(out))
    assert type(model).__name__ == {"qwen3": "Qwen3ForCausalLM", "llama": "LlamaForCausalLM"}[arch]
    assert model.dtype == torch.bfloat16
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["num_key_value_heads"] < cfg["num_attention_heads"]          # GQA
    assert cfg["tie_word_embeddings"] is True
    if arch == "llama":
        assert cfg["rope_parameters"]["rope_type"] == "llama3"
    # the saved weights are the trained ones: same validation loss, up to bf16 rounding
    import numpy as np

    val = np.fromfile(tiny_data["data_dir"] / "val.bin", dtype=np.uint16)
    w = train_target.eval_windows(val, 32, 16)
    v = train_target.evaluate(model.float(), w, torch.device("cpu"))
    assert v == pytest.approx(res["eval"]["val_nats_per_token_final_weights"], abs=0.05)
    ids = tok("def f(x):\n", return_tensors="pt").input_ids
    gen = model.generate(ids, max_new_tokens=4, do_sample=False)
    assert gen.shape[1] == ids.shape[1] + 4

    # resumable: continue the same run to step 5 from its saved state
    res2 = train_target.main([*common, "--steps", "5", "--resume"])
    assert res2["training"]["steps"] == 5
    assert [h["step"] for h in res2["history"]] == [0, 1, 2, 3, 4, 5]


def test_report_lists_every_phase_of_a_continued_draft(tmp_path):
    """training.report: a DFlash run continued with --init shows its earlier phase first, then its own."""
    from training.report import draft_rows

    first = {
        "block_size": 16,
        "layers": 2,
        "taps": [0, 2, 3],
        "steps": 100,
        "minutes": 5.0,
        "val_teacher_forced_tau": 1.4,
    }
    second = {
        **first,
        "gamma": 4.0,
        "regen_share": 0.75,
        "steps": 50,
        "val_teacher_forced_tau": 1.5,
        "continued_from": first,
    }
    d = tmp_path / "dflash"
    d.mkdir()
    (d / "training_log.json").write_text(json.dumps(second))
    (d / "model.safetensors").write_bytes(b"\0" * 1000)
    rows = draft_rows([d, tmp_path / "missing"])
    assert len(rows) == 3 and "1/2" in rows[0] and "tau 1.40" in rows[0] and "2/2" in rows[1] and "gamma 4.0" in rows[1]
    assert "not trained yet" in rows[2]
