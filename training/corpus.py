"""Training corpus: the ``.py`` sources of the running interpreter's standard library.

Files are collected from ``sysconfig.get_paths()["stdlib"]`` (test folders, site-packages, compiled
extensions, the ``encodings`` tables and ``pydoc_data`` are skipped, see ``EXCLUDE_DIRS``) and split by
file, deterministically, into train / validation / held-out: a file's bucket is
``md5(f"{seed}:{relpath}") % 100`` (``< VAL_PCT`` -> validation, ``< VAL_PCT + HELDOUT_PCT`` -> held-out,
else train).  Held-out files are never trained on; they are where speculative decoding's tau and hit rates
are measured.

Each file becomes one document ``"# file: <relpath>\\n" + source``; documents are joined by the
``<|endoftext|>`` token.  ``python -m training.corpus`` (after ``python -m training.tokenizer``) encodes
the three splits into ``uint16`` token files under ``training/data/`` (ignored by git, rebuilt by the
scripts) and writes ``training/data/manifest.json`` with the sizes (files, bytes, tokens).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TRAINING_DIR = Path(__file__).resolve().parent
DATA_DIR = TRAINING_DIR / "data"
TOKENIZER_DIR = DATA_DIR / "tokenizer"

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
EOT = "<|endoftext|>"


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


def encode_documents(tokenizer, docs: list[str]) -> np.ndarray:
    """Token ids of the documents, each followed by ``<|endoftext|>`` (uint16)."""
    eot = tokenizer.token_to_id(EOT)
    for d in docs:
        if EOT in d:
            raise ValueError("a document contains the end-of-text marker literally")
    encs = tokenizer.encode_batch(docs, add_special_tokens=False)
    ids = []
    for e in encs:
        ids.extend(e.ids)
        ids.append(eot)
    arr = np.asarray(ids, dtype=np.int64)
    assert arr.max(initial=0) < 2**16
    return arr.astype(np.uint16)


def token_path(split: str, data_dir: Path = DATA_DIR) -> Path:
    return Path(data_dir) / f"{split}.bin"


def load_tokens(split: str, data_dir: Path = DATA_DIR) -> np.ndarray:
    p = token_path(split, data_dir)
    if not p.exists():
        raise FileNotFoundError(f"{p} missing: run `python -m training.tokenizer && python -m training.corpus`")
    return np.fromfile(p, dtype=np.uint16)


def load_manifest(data_dir: Path = DATA_DIR) -> dict:
    return json.loads((Path(data_dir) / "manifest.json").read_text())


def build(data_dir: Path = DATA_DIR, tokenizer_dir: Path = TOKENIZER_DIR, root: Path | None = None,
          seed: int = SPLIT_SEED, verbose: bool = True) -> dict:
    """Encode the three splits with the saved tokenizer; write ``<split>.bin`` and ``manifest.json``."""
    from tokenizers import Tokenizer

    t0 = time.time()
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer.from_file(str(Path(tokenizer_dir) / "tokenizer.json"))
    root = Path(root) if root is not None else stdlib_root()
    splits = split_files(collect_files(root), seed)
    manifest = {
        "python": sys.version.split()[0],
        "stdlib_root": str(root),
        "exclude_dirs": sorted(EXCLUDE_DIRS) + ["config-*"],
        "split_rule": f"md5('{seed}:<relpath>') % 100: <{VAL_PCT} val, <{VAL_PCT + HELDOUT_PCT} heldout, else train",
        "seed": seed,
        "document_format": "'# file: <relpath>\\n' + source, each followed by <|endoftext|>",
        "tokenizer_vocab": tok.get_vocab_size(),
        "splits": {},
    }
    for split in SPLITS:
        files = splits[split]
        docs = [f.document() for f in files]
        ids = encode_documents(tok, docs)
        ids.tofile(token_path(split, data_dir))
        nbytes = sum(len(d.encode("utf-8")) for d in docs)
        manifest["splits"][split] = {
            "files": len(files),
            "bytes": nbytes,               # UTF-8 bytes of the documents (header + source; separators not counted)
            "tokens": int(ids.size),       # includes one <|endoftext|> per document
            "bytes_per_token": round(nbytes / max(ids.size, 1), 4),
            "file_list": [f.relpath for f in files],
        }
    manifest["build_seconds"] = round(time.time() - t0, 2)
    (data_dir / "manifest.json").write_text(json.dumps(manifest, indent=1))
    if verbose:
        print(f"corpus: {root} (Python {manifest['python']})")
        for split in SPLITS:
            s = manifest["splits"][split]
            print(f"  {split:8s} {s['files']:4d} files {s['bytes']:>10,d} bytes {s['tokens']:>10,d} tokens"
                  f" ({s['bytes_per_token']:.2f} B/tok)")
        print(f"  wrote {data_dir}/{{train,val,heldout}}.bin and manifest.json in {manifest['build_seconds']} s")
    return manifest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=DATA_DIR)
    ap.add_argument("--tokenizer-dir", type=Path, default=TOKENIZER_DIR)
    ap.add_argument("--seed", type=int, default=SPLIT_SEED)
    ap.add_argument("--list", action="store_true", help="only print the split sizes in files/bytes (no tokenizer needed)")
    a = ap.parse_args(argv)
    if a.list:
        for split, files in split_files(collect_files(), a.seed).items():
            print(split, len(files), sum(f.path.stat().st_size for f in files))
        return
    build(a.data_dir, a.tokenizer_dir, seed=a.seed)


if __name__ == "__main__":
    main()
