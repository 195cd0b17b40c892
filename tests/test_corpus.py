"""The prompt sets the entry points measure on: held-out stdlib files and out-of-distribution third-party code,
which the training corpus (the stdlib, site-packages excluded) must never contain."""

from __future__ import annotations

from models import corpus


def test_ood_files_are_never_training_files():
    train = {f.path.resolve() for f in corpus.collect_files()}
    ood = corpus.ood_files()
    assert len(ood) > 100 and {f.relpath.split("/")[0] for f in ood} >= {"numpy", "yaml", "transformers"}
    assert not train & {f.path.resolve() for f in ood}
    stdlib = corpus.stdlib_root()
    assert all(stdlib not in f.path.resolve().parents for f in ood)


def test_ood_prompts_are_deterministic_prefixes():
    class Chars:  # a character tokenizer: prefixes are exact
        def encode(self, text):
            return list(text)

        def decode(self, ids):
            return "".join(ids)

    a, b = corpus.ood_prompts(Chars(), 6, 200), corpus.ood_prompts(Chars(), 6, 200)
    assert a == b and len(a) == 6
    docs = {f.document() for f in corpus.ood_files()}
    assert all(any(d.startswith(p) for d in docs) and p.endswith("\n") for p in a)
