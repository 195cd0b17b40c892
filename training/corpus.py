"""Training corpus: the splits of :mod:`models.corpus` (the standard library's ``.py`` sources, split by
file) encoded into token files.

Documents are joined by the ``<|endoftext|>`` token.  ``python -m training.corpus`` (after
``python -m training.tokenizer``) encodes the three splits into ``uint16`` token files under
``training/data/`` (ignored by git, rebuilt by the scripts) and writes ``training/data/manifest.json`` with the
sizes (files, bytes, tokens).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from models.corpus import (  # noqa: F401  (re-exported: the training scripts and tests use them from here)
    EXCLUDE_DIRS,
    HELDOUT_PCT,
    SPLIT_SEED,
    SPLITS,
    VAL_PCT,
    SourceFile,
    collect_files,
    document_text,
    excluded_dir,
    load_split,
    split_files,
    split_of,
    stdlib_root,
)

TRAINING_DIR = Path(__file__).resolve().parent
DATA_DIR = TRAINING_DIR / "data"
TOKENIZER_DIR = DATA_DIR / "tokenizer"
EOT = "<|endoftext|>"


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
    ap.add_argument("--list", action="store_true",
                    help="only print the split sizes in files/bytes (no tokenizer needed)")
    a = ap.parse_args(argv)
    if a.list:
        for split, files in split_files(collect_files(), a.seed).items():
            print(split, len(files), sum(f.path.stat().st_size for f in files))
        return
    build(a.data_dir, a.tokenizer_dir, seed=a.seed)


if __name__ == "__main__":
    main()
