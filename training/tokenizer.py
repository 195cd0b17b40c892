"""Byte-level BPE tokenizer (``tokenizers``) trained on the corpus's train split.

4096 tokens by default, the first three are the special tokens ``<|endoftext|>`` = 0, ``<|MASK|>`` = 1
(DFlash's mask token) and ``<|pad|>`` = 2; then the 256 byte symbols; then the merges.  Saved as a
Hugging Face tokenizer directory (``tokenizer.json``, ``tokenizer_config.json``,
``special_tokens_map.json``) that ``transformers.AutoTokenizer.from_pretrained(dir)`` loads offline.

    python -m training.tokenizer            # -> training/data/tokenizer/
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from training.corpus import EOT, SPLIT_SEED, TOKENIZER_DIR, collect_files, split_files

MASK = "<|MASK|>"
PAD = "<|pad|>"
SPECIAL_TOKENS = (EOT, MASK, PAD)          # ids 0, 1, 2
SPECIAL_IDS = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
VOCAB_SIZE = 4096
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def train_tokenizer(docs, vocab_size: int = VOCAB_SIZE, min_frequency: int = 2):
    """A byte-level BPE ``tokenizers.Tokenizer`` trained on an iterable of strings."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False,
        special_tokens=list(SPECIAL_TOKENS), initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(list(docs), trainer=trainer)
    for t, i in SPECIAL_IDS.items():
        assert tok.token_to_id(t) == i, (t, tok.token_to_id(t))
    return tok


def save_hf(tok, out_dir: Path, model_max_length: int = 4096) -> Path:
    """Write ``tok`` as an HF tokenizer directory (PreTrainedTokenizerFast files)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tok.save(str(out_dir / "tokenizer.json"))
    added = {
        str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                 "single_word": False, "special": True}
        for t, i in SPECIAL_IDS.items()
    }
    cfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "added_tokens_decoder": added,
        "bos_token": EOT, "eos_token": EOT, "unk_token": None, "pad_token": PAD, "mask_token": MASK,
        "add_bos_token": False, "add_eos_token": False, "clean_up_tokenization_spaces": False,
        "model_max_length": model_max_length,
    }
    (out_dir / "tokenizer_config.json").write_text(json.dumps(cfg, indent=1) + "\n")
    smap = {"bos_token": EOT, "eos_token": EOT, "pad_token": PAD, "mask_token": MASK}
    (out_dir / "special_tokens_map.json").write_text(json.dumps(smap, indent=1) + "\n")
    return out_dir


def copy_tokenizer(src_dir: Path, dst_dir: Path) -> None:
    """Copy the tokenizer files into a checkpoint directory."""
    dst_dir = Path(dst_dir)
    dst_dir.mkdir(parents=True, exist_ok=True)
    for fn in TOKENIZER_FILES:
        (dst_dir / fn).write_bytes((Path(src_dir) / fn).read_bytes())


def main(argv=None):
    ap = argparse.ArgumentParser(description="train the byte-level BPE tokenizer on the train split")
    ap.add_argument("--out", type=Path, default=TOKENIZER_DIR)
    ap.add_argument("--vocab-size", type=int, default=VOCAB_SIZE)
    ap.add_argument("--seed", type=int, default=SPLIT_SEED, help="corpus split seed")
    a = ap.parse_args(argv)
    t0 = time.time()
    train = split_files(collect_files(), a.seed)["train"]
    tok = train_tokenizer((f.document() for f in train), a.vocab_size)
    save_hf(tok, a.out)
    print(f"tokenizer: vocab {tok.get_vocab_size()} trained on {len(train)} train files in "
          f"{time.time() - t0:.1f} s -> {a.out}")


if __name__ == "__main__":
    main()
