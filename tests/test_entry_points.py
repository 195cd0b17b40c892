"""The entry points fail cleanly: every bad input -> one line on stderr naming the flag and what it expects,
exit status 2 for a bad argument (before any model loads) and 1 for a run that fails; ``--debug`` keeps the
traceback.

The table runs ``main`` in this process through :func:`models.cli.run_main` (what ``__main__`` runs, so the exit
status is the real one); three cases also run as real subprocesses (``python models/qwen3_dflash.py ...``) to
prove the process-level behaviour: status, a single stderr line, no traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from models import llama_alspec, qwen3_dflash
from models.cli import run_main

ROOT = Path(__file__).resolve().parent.parent


def _files(tmp: Path) -> dict[str, str]:
    """Prompt files of every bad kind, and a draft directory without a config."""
    files = {"empty": "", "blank": "\n  \n", "json_int": "42", "json_str": json.dumps("def f():"),
             "json_mixed": json.dumps(["ok", 3]), "json_empty_list": "[]"}
    out = {}
    for name, text in files.items():
        p = tmp / f"{name}.txt"
        p.write_text(text)
        out[name] = str(p)
    (tmp / "bad_draft").mkdir()
    out["bad_draft"] = str(tmp / "bad_draft")
    return out


# (entry, argv with {placeholders}, expected status, a fragment of the one stderr line)
CASES = [
    ("qwen3", ["--max-new-tokens", "0"], 2, "--max-new-tokens: expected an integer in 1..100000; got 0"),
    ("qwen3", ["--max-new-tokens", "-5"], 2, "--max-new-tokens: expected an integer in 1..100000; got -5"),
    ("qwen3", ["--max-new-tokens", "ten"], 2, "--max-new-tokens: expected an integer in 1..100000; got 'ten'"),
    ("qwen3", ["--num-prompts", "0"], 2, "--num-prompts: expected an integer in 1..1000; got 0"),
    ("qwen3", ["--block-size", "0"], 2, "--block-size: expected 'auto', 'draft' or an integer in 2..64; got '0'"),
    ("qwen3", ["--block-size", "1"], 2, "--block-size: expected 'auto', 'draft' or an integer in 2..64; got '1'"),
    ("qwen3", ["--block-size", "big"], 2, "--block-size: expected 'auto', 'draft' or an integer in 2..64; got 'big'"),
    ("qwen3", ["--temperature", "-1"], 2, "--temperature: expected a number >= 0; got -1"),
    ("qwen3", ["--top-p", "0"], 2, "--top-p: expected a number > 0 and <= 1; got 0"),
    ("qwen3", ["--top-k", "0"], 2, "--top-k: expected an integer >= 1; got 0"),
    ("qwen3", ["--max-seq-len", "16"], 2, "--max-seq-len: expected an integer >= 32; got 16"),
    ("qwen3", ["--backend", "cuda"], 2, "--backend: invalid choice: 'cuda'"),
    ("qwen3", ["--target", "{tmp}/absent"], 2, "--target: no directory at"),
    ("qwen3", ["--draft", "{tmp}/absent"], 2, "--draft: no directory at"),
    ("qwen3", ["--prompts", "{tmp}/absent.txt"], 2, "--prompts: no file at"),
    ("qwen3", ["--prompts", "{empty}"], 2, "holds no prompt"),
    ("qwen3", ["--prompts", "{blank}"], 2, "holds no prompt"),
    ("qwen3", ["--prompts", "{json_int}"], 2, "is JSON but not a list of non-empty strings (got int)"),
    ("qwen3", ["--prompts", "{json_str}"], 2, "is JSON but not a list of non-empty strings (got str)"),
    ("qwen3", ["--prompts", "{json_mixed}"], 2, "is JSON but not a list of non-empty strings (got list)"),
    ("qwen3", ["--prompts", "{json_empty_list}"], 2, "holds no prompt"),
    ("qwen3", ["--prompt", ""], 2, "--prompt: expected a non-empty prompt"),
    (
        "qwen3",
        ["--backend", "sim", "--max-seq-len", "64", "--prompt", "def f(x):", "--max-new-tokens", "60"],
        2,
        "--max-seq-len: the longest prompt + --max-new-tokens + a draft block need",
    ),
    ("qwen3", ["--draft", "{bad_draft}", "--prompt", "x = 1"], 1, "FileNotFoundError: DFlash draft: no config.json"),
    ("alspec", ["--lambdas", "0.1,-0.2"], 2, "--lambdas: expected a number >= 0; got -0.2"),
    ("alspec", ["--chunks", "48"], 2, "--chunks: chunk: expected a positive multiple of 32"),
    ("alspec", ["--windows", "0"], 2, "--windows: expected an integer in 1..1000; got 0"),
    (
        "alspec",
        ["--backend", "sim", "--chunks", "256"],
        2,
        "--chunks: chunk: the speculative flash-decode kernel takes S up to 128",
    ),
]
MAINS = {"qwen3": (qwen3_dflash.main, "qwen3_dflash.py"), "alspec": (llama_alspec.main, "llama_alspec.py")}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("entry")
    return {"tmp": str(tmp), **_files(tmp)}


@pytest.mark.parametrize("entry, argv, status, fragment", CASES, ids=[" ".join(c[1])[:60] for c in CASES])
def test_bad_input_exits_with_one_line(entry, argv, status, fragment, files, capsys):
    main, prog = MAINS[entry]
    argv = [a.format(**files) for a in argv]
    rc = run_main(main, argv, prog=prog)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == status, err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: error: ") and fragment in lines[0], lines[0]
    assert "Traceback" not in err


def test_debug_keeps_the_traceback(files, capsys):
    rc = run_main(
        qwen3_dflash.main, ["--draft", files["bad_draft"], "--prompt", "x = 1", "--debug"], prog="qwen3_dflash.py"
    )
    err = capsys.readouterr().err
    assert (
        rc == 1
        and "Traceback (most recent call last)" in err
        and err.rstrip().splitlines()[-1].startswith("qwen3_dflash.py: error")
    )


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "models" / "qwen3_dflash.py"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd="/",
    )


@pytest.mark.parametrize("args, status", [
    (["--max-new-tokens", "0"], 2),
    (["--prompts", "{json_int}"], 2),
    (["--draft", "{bad_draft}", "--prompt", "x = 1"], 1),
])
def test_real_process_status_and_single_line(args, status, files):
    p = _run([a.format(**files) for a in args])
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert p.returncode == status, p.stderr
    assert len(lines) == 1 and lines[0].startswith("qwen3_dflash.py: error: "), p.stderr


def test_help_and_a_good_run_exit_0_without_noise():
    assert _run(["--help"]).returncode == 0
    p = _run(["--prompt", "def add(a, b):\n", "--max-new-tokens", "8", "--quiet"])
    assert p.returncode == 0, p.stderr
    assert "lossless (speculative == plain greedy on every prompt): yes" in p.stdout
    assert "Traceback" not in p.stderr and "leaked" not in p.stderr
