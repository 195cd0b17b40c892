"""The text the project trains on and measures with: the ``.py`` sources of the running interpreter's
standard library, split by file into train / validation / held-out.

Files are collected from ``sysconfig.get_paths()["stdlib"]`` (test folders, site-packages, compiled
extensions, the ``encodings`` tables and ``pydoc_data`` are skipped, see ``EXCLUDE_DIRS``); a file's split is
``md5(f"{seed}:{relpath}") % 100`` (``< VAL_PCT`` -> validation, ``< VAL_PCT + HELDOUT_PCT`` -> held-out,
else train): a pure function of its path.  Held-out files are never trained on; they are where speculative
decoding's tau and ALSpec's hit rates are measured (the entry points' default prompts).  Each file becomes one
document ``"# file: <relpath>\n" + source``.

Installed with the package (the entry points need the held-out split); ``training/corpus.py`` encodes the
splits into token files for training.
"""

from __future__ import annotations

import hashlib
import os
import sysconfig
from dataclasses import dataclass
from pathlib import Path

SPLITS = ("train", "val", "heldout")
SPLIT_SEED = 0
VAL_PCT = 5
HELDOUT_PCT = 5
# directory names skipped anywhere under the stdlib (plus any "config-*" build directory)
EXCLUDE_DIRS = frozenset({
    "test", "tests", "idle_test", "site-packages", "dist-packages", "lib-dynload", "__pycache__",
    "encodings",      # generated code-page tables (long hex/str literals), not code
    "pydoc_data",     # one 0.8 MB string literal (the help topics)
})

@dataclass(frozen=True)
class SourceFile:
    relpath: str        # POSIX path relative to the stdlib root
    path: Path

    def document(self) -> str:
        """The file as one training document (header line + source)."""
        return document_text(self.relpath, self.path.read_text(encoding="utf-8", errors="replace"))


def document_text(relpath: str, source: str) -> str:
    return f"# file: {relpath}\n{source}"


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"]).resolve()


def excluded_dir(name: str) -> bool:
    return name in EXCLUDE_DIRS or name.startswith("config-")


def collect_files(root: Path | None = None) -> list[SourceFile]:
    """All ``.py`` files under ``root`` (default: the stdlib), sorted by relative path."""
    root = Path(root) if root is not None else stdlib_root()
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not excluded_dir(d))
        for fn in filenames:
            if fn.endswith(".py"):
                p = Path(dirpath) / fn
                out.append(SourceFile(p.relative_to(root).as_posix(), p))
    out.sort(key=lambda f: f.relpath)
    return out


def split_of(relpath: str, seed: int = SPLIT_SEED) -> str:
    """The split a file belongs to: a pure function of its relative path and the seed."""
    bucket = int(hashlib.md5(f"{seed}:{relpath}".encode()).hexdigest(), 16) % 100
    if bucket < VAL_PCT:
        return "val"
    if bucket < VAL_PCT + HELDOUT_PCT:
        return "heldout"
    return "train"


def split_files(files: list[SourceFile], seed: int = SPLIT_SEED) -> dict[str, list[SourceFile]]:
    out: dict[str, list[SourceFile]] = {s: [] for s in SPLITS}
    for f in files:
        out[split_of(f.relpath, seed)].append(f)
    return out


def load_split(split: str, root: Path | None = None, seed: int = SPLIT_SEED) -> list[tuple[str, str]]:
    """``[(relpath, document_text), ...]`` of one split, in path order (e.g. held-out prompts)."""
    return [(f.relpath, f.document()) for f in split_files(collect_files(root), seed)[split]]

# ---------------------------------------------------------------------------------- prompts and windows


def _whole_files(tokenizer) -> None:
    """Whole files are encoded and then cut: lift an HF tokenizer's length limit so it does not warn."""
    if hasattr(tokenizer, "model_max_length"):
        tokenizer.model_max_length = max(int(tokenizer.model_max_length or 0), 1 << 30)

def heldout_prompts(tokenizer, n: int, prompt_tokens: int = 128, split: str = "heldout") -> list[str]:
    """Prefixes of held-out stdlib files (never trained on), cut at a line end near ``prompt_tokens`` (``split``
    "val": validation files instead, e.g. a warm-up prompt that is never one of the measured ones)."""
    docs = load_split(split)
    if not docs:  # an interpreter without its stdlib sources: fixed snippets instead
        return FALLBACK_PROMPTS[:n]
    _whole_files(tokenizer)
    out = []
    docs = sorted(docs)
    stride = max(1, len(docs) // max(2 * n, 1))
    for _relpath, text in docs[::stride]:  # spread over the held-out files; text starts with "# file: <relpath>"
        ids = tokenizer.encode(text)[:prompt_tokens]
        prefix = tokenizer.decode(ids)
        cut = prefix.rfind("\n")
        if cut > 40:
            out.append(prefix[: cut + 1])
        if len(out) == n:
            break
    return out or FALLBACK_PROMPTS[:n]


FALLBACK_PROMPTS = [
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "import os\nimport sys\n\n\ndef main(argv=None):\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n",
    "def read_lines(path):\n    with open(path) as f:\n",
    "# file: json/encoder.py\n\"\"\"Implementation of JSONEncoder\n\"\"\"\nimport re\n\n",
    "def parse_args(args):\n    parser = argparse.ArgumentParser(\n",
    "    def __repr__(self):\n        return '%s(%r)' % (self.__class__.__name__,\n",
    "for i, line in enumerate(lines):\n    if not line.strip():\n",
]


def heldout_windows(tokenizer, n_windows: int, length: int, min_tokens: int | None = None):
    """``[n_windows, length]`` token windows from the starts of held-out files (spread over the split)."""
    import torch

    docs = sorted(load_split("heldout"))
    _whole_files(tokenizer)
    rows = []
    stride = max(1, len(docs) // max(2 * n_windows, 1))
    for _, text in docs[::stride] + docs:
        ids = tokenizer.encode(text)
        if len(ids) >= (min_tokens or length):
            rows.append(torch.tensor(ids[:length]))
        if len(rows) == n_windows:
            break
    if len(rows) < n_windows:
        raise ValueError(f"n_windows: only {len(rows)} held-out files have {length} tokens")
    return torch.stack(rows)


# ------------------------------------------------------------------------------- out-of-distribution prompts

# third-party packages whose sources serve as out-of-distribution code: installed with the project, never under
# the standard library (the training corpus), in a fixed order
OOD_PACKAGES = ("numpy", "yaml", "safetensors", "tokenizers", "hypothesis", "transformers", "matplotlib")


def ood_files() -> list[SourceFile]:
    """``.py`` files of :data:`OOD_PACKAGES` (those installed), sorted; none lies under the stdlib root."""
    import importlib.util

    stdlib = stdlib_root()
    out = []
    for name in OOD_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations))).resolve()
        if stdlib in root.parents or root == stdlib:
            continue
        out.extend(_package_files(root))
    return out


def _package_files(root: Path) -> list[SourceFile]:
    files = []
    for p in sorted(root.rglob("*.py")):
        if any(excluded_dir(part) for part in p.relative_to(root).parts[:-1]) or p.stat().st_size < 2000:
            continue
        files.append(SourceFile(f"{root.name}/{p.relative_to(root).as_posix()}", p))
    return files


def ood_prompts(tokenizer, n: int, prompt_tokens: int = 128) -> list[str]:
    """Prefixes of third-party package sources (code the tiny models never saw), cut at a line end near
    ``prompt_tokens``, spread over :data:`OOD_PACKAGES`."""
    _whole_files(tokenizer)
    files = ood_files()
    if not files:
        return []
    by_pkg: dict[str, list[SourceFile]] = {}
    for f in files:
        by_pkg.setdefault(f.relpath.split("/")[0], []).append(f)
    picks, i = [], 0
    while len(picks) < n and any(by_pkg.values()):  # round-robin over the packages, evenly spaced inside each
        for _pkg, fs in by_pkg.items():
            if fs and len(picks) < n:
                picks.append(fs[(i * 7919) % len(fs)])
        i += 1
        if i > 64:
            break
    out = []
    for f in picks:
        ids = tokenizer.encode(f.document())[:prompt_tokens]
        prefix = tokenizer.decode(ids)
        cut = prefix.rfind("\n")
        if cut > 40:
            out.append(prefix[: cut + 1])
    return out[:n]
