"""Local lm-eval tasks cut from the held-out stdlib files (never trained on), written in the harness's format:
one YAML task definition and one JSONL data file per task, plus ``manifest.json``.  No download.

    python -m models.alspec.tasks --out DIR [--seed 0] [--tokenizer CHECKPOINT_DIR]

Every task carries the tag ``alspec_local`` (``--tasks alspec_local`` runs them all).  Contexts are sized in
tokens of the shipped checkpoints' tokenizer (``--tokenizer``, default ``checkpoints/tiny-llama3``; both trained
targets share it) and stay within the 512-token windows the tiny targets were trained on (``training_log.json``:
``seq`` 512; beyond it their positions are untrained, which would confound the measurement), while long enough
that ALSpec's sink + recent chunks leave keys out at ``S = 128`` (decode positions past ``2S = 256``).
:class:`Sizes` scales them for larger models.

=========================== ================== ======================================================================
task                        output type        what
=========================== ================== ======================================================================
``alspec_code_mc``          multiple_choice    a window of a held-out file ending at a line end; the true next line
                                               against 3 other lines of the same file (of the same indentation and
                                               a similar length when there are enough); ``acc``, ``acc_norm``
``alspec_code_line``        generate_until     the window ends after the first word of a line; greedy completion up
                                               to the newline, ``exact_match`` with the rest of the line
``alspec_retrieval``        generate_until     ``SECRET_KEY = "<5 chars>"`` planted 30-60 % into a window of held-out
                                               code, at least 144 tokens after its start and 160 before its end,
                                               which is ``assert SECRET_KEY == "``; ``exact_match`` with the key.
                                               The key is outside both the sink chunk and the recent chunk for every
                                               S <= 128, so the approximation cannot see it: the exact attention must
``alspec_retrieval_mc``     multiple_choice    the same prompts, the key against 3 random keys (``acc``)
``alspec_heldout_ppl``      loglikelihood      the starts of held-out files (``# file: <path>`` header + source, cut
                            _rolling           at a line end); word / byte perplexity and bits per byte
=========================== ================== ======================================================================

The data files are referenced by absolute path (``dataset_path: json``, ``dataset_kwargs.data_files``), so a
generated directory works from any working directory: pass it to ``lm_eval.tasks.TaskManager(include_path=DIR)``
or to the harness CLI's ``--include_path``.  The content is a pure function of the seed, the sizes, the
interpreter's stdlib sources (the held-out split, :mod:`models.corpus`) and the tokenizer; ``manifest.json``
records the Python version, the files used and a SHA-256 per data file.
"""

from __future__ import annotations

import hashlib
import json
import random
import string
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

TAG = "alspec_local"
TASKS = ("alspec_code_mc", "alspec_code_line", "alspec_retrieval", "alspec_retrieval_mc", "alspec_heldout_ppl")
CHARS_PER_TOKEN = 3.6  # held-out split with the shipped tokenizer; only used when no tokenizer is available
KEY_CHARS = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class Sizes:
    """Examples per task and context lengths in tokens."""

    code_mc: int = 32
    code_line: int = 32
    retrieval: int = 16          # prompts shared by alspec_retrieval and alspec_retrieval_mc
    ppl: int = 8
    ctx_min: int = 256           # code windows: uniform in [ctx_min, ctx_max] tokens
    ctx_max: int = 480
    retrieval_min: int = 416     # retrieval prompts: uniform in [retrieval_min, retrieval_max] tokens
    retrieval_max: int = 496
    key_min_pos: int = 144       # tokens before the key line (past the sink chunk of S <= 128)
    key_min_tail: int = 160      # tokens after it, question included (outside the recent chunk of S <= 128)
    ppl_tokens: int = 512        # rolling-perplexity documents: at most this many tokens
    key_len: int = 5

    def check(self) -> Sizes:
        for k, v in asdict(self).items():
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"sizes.{k}: expected a positive int; got {v!r}")
        if self.ctx_min > self.ctx_max or self.retrieval_min > self.retrieval_max:
            raise ValueError("sizes: expected ctx_min <= ctx_max and retrieval_min <= retrieval_max")
        if self.key_min_pos + self.key_min_tail + 32 > self.retrieval_min:
            raise ValueError("sizes: expected key_min_pos + key_min_tail + 32 <= retrieval_min")
        return self


def token_counter(tokenizer) -> Callable[[str], int]:
    if tokenizer is None:
        return lambda s: max(1, round(len(s) / CHARS_PER_TOKEN)) if s else 0
    if hasattr(tokenizer, "model_max_length"):
        tokenizer.model_max_length = max(int(tokenizer.model_max_length or 0), 1 << 30)
    return lambda s: len(tokenizer.encode(s, add_special_tokens=False)) if s else 0


# ------------------------------------------------------------------------------------------------ lines


def good_line(line: str) -> bool:
    """A target or distractor line: 12..90 printable ASCII characters of code (not a comment or a bare string)."""
    s = line.strip()
    return (12 <= len(s) <= 90 and s.isascii() and s.isprintable() and not s.startswith(("#", '"', "'"))
            and any(c.isalpha() for c in s))


def indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def line_split(line: str) -> tuple[str, str] | None:
    """``(head, rest)`` of a line cut before the first space after its first word (``rest`` starts with that
    space, so both halves tokenise as in the whole line), or None when the rest is too short."""
    body = line.rstrip("\n")
    ind = indent_of(body)
    cut = body.find(" ", len(ind))
    if cut < 0 or len(body[cut:].strip()) < 4:
        return None
    return body[:cut], body[cut:]


class Doc:
    """A held-out file as lines with per-line token counts (cumulative ``pre[k]``: tokens before line ``k``)."""

    def __init__(self, relpath: str, text: str, count: Callable[[str], int]):
        self.relpath, self.text = relpath, text
        self.lines = text.splitlines(keepends=True)
        self.pre = [0]
        for ln in self.lines:
            self.pre.append(self.pre[-1] + count(ln))

    @property
    def tokens(self) -> int:
        return self.pre[-1]

    def window_before(self, k: int, budget: int) -> int:
        """The first line of the longest window ``lines[j:k]`` within ``budget`` tokens (0: the file start)."""
        j = k
        while j > 0 and self.pre[k] - self.pre[j - 1] <= budget:
            j -= 1
        return j


def spread(rng: random.Random, docs: Sequence[Doc], n: int, pick: Callable[[Doc], list]) -> list[tuple[Doc, object]]:
    """``n`` items over the files: files in a random order, round robin, one random candidate of ``pick(doc)``
    per visit, no item twice."""
    cands = {d.relpath: pick(d) for d in docs}
    order = [d for d in docs if cands[d.relpath]]
    rng.shuffle(order)
    out, used = [], set()
    while len(out) < n and order:
        for d in list(order):
            left = [c for c in cands[d.relpath] if (d.relpath, c) not in used]
            if not left:
                order.remove(d)
                continue
            c = rng.choice(left)
            used.add((d.relpath, c))
            out.append((d, c))
            if len(out) == n:
                break
    if len(out) < n:
        raise ValueError(f"only {len(out)} examples available from the held-out files (asked for {n})")
    return out


# ------------------------------------------------------------------------------------------------ tasks


def code_mc(docs: Sequence[Doc], sz: Sizes, seed: int, count: Callable[[str], int]) -> list[dict]:
    rng = random.Random(f"{seed}:code_mc")

    def pick(d: Doc) -> list[int]:
        return [k for k in range(1, len(d.lines)) if good_line(d.lines[k]) and d.pre[k] >= sz.ctx_min]

    out = []
    for d, k in spread(rng, docs, sz.code_mc, pick):
        target = d.lines[k]
        j = d.window_before(k, rng.randint(sz.ctx_min, sz.ctx_max))
        seen = {target.strip()}
        pool = sorted({ln for ln in d.lines if good_line(ln) and ln.strip() not in seen})
        rng.shuffle(pool)
        pool.sort(key=lambda ln: abs(len(ln.strip()) - len(target.strip())))  # similar lengths first
        same = [ln for ln in pool if indent_of(ln) == indent_of(target)]
        distract: list[str] = []
        for group in (same[:8], pool[:8], pool):
            group = list(group)
            rng.shuffle(group)
            for ln in group:
                if len(distract) < 3 and ln.strip() not in seen:
                    distract.append(ln)
                    seen.add(ln.strip())
        if len(distract) < 3:
            continue
        choices = [target] + distract
        rng.shuffle(choices)
        choices = [c if c.endswith("\n") else c + "\n" for c in choices]
        context = "".join(d.lines[j:k])
        out.append({"context": context, "choices": choices,
                    "label": choices.index(target if target.endswith("\n") else target + "\n"),
                    "file": d.relpath, "line": k + 1, "context_tokens": count(context)})
    return out


def code_line(docs: Sequence[Doc], sz: Sizes, seed: int, count: Callable[[str], int]) -> list[dict]:
    rng = random.Random(f"{seed}:code_line")

    def pick(d: Doc) -> list[int]:
        return [k for k in range(1, len(d.lines))
                if good_line(d.lines[k]) and line_split(d.lines[k]) and d.pre[k] >= sz.ctx_min]

    out = []
    for d, k in spread(rng, docs, sz.code_line, pick):
        head, rest = line_split(d.lines[k])
        j = d.window_before(k, rng.randint(sz.ctx_min, sz.ctx_max))
        context = "".join(d.lines[j:k]) + head
        out.append({"context": context, "target": rest, "file": d.relpath, "line": k + 1,
                    "context_tokens": count(context)})
    return out


def new_key(rng: random.Random, n: int, avoid: str) -> str:
    while True:
        key = "".join(rng.choice(KEY_CHARS) for _ in range(n))
        if any(c.isdigit() for c in key) and any(c.isalpha() for c in key) and key not in avoid:
            return key


QUESTION = 'assert SECRET_KEY == "'


def retrieval(docs: Sequence[Doc], sz: Sizes, seed: int, count: Callable[[str], int]) -> list[dict]:
    rng = random.Random(f"{seed}:retrieval")

    def pick(d: Doc) -> list[int]:  # window start lines with enough tokens after them
        return [s for s in range(len(d.lines)) if d.tokens - d.pre[s] >= sz.retrieval_max + 64]

    out = []
    for d, s in spread(rng, docs, sz.retrieval, pick):
        budget = rng.randint(sz.retrieval_min, sz.retrieval_max)
        e = s
        while e < len(d.lines) and d.pre[e + 1] - d.pre[s] <= budget + 32:
            e += 1
        lines = [ln if ln.endswith("\n") else ln + "\n" for ln in d.lines[s:e]]
        key = new_key(rng, sz.key_len, "".join(lines))
        key_line = f'SECRET_KEY = "{key}"\n'
        while len(lines) > 1 and count(key_line + "".join(lines) + QUESTION) > budget:  # real counts
            lines.pop()
        window = "".join(lines)
        # the key line: at a random 30-60 % of the window, moved to keep key_min_pos tokens before it and
        # key_min_tail tokens (with the question) after it
        split = [(i, count("".join(lines[:i])), count("".join(lines[i:]) + QUESTION)) for i in range(len(lines) + 1)]
        ok = [(i, b) for i, b, a in split if b >= sz.key_min_pos and a >= sz.key_min_tail]
        if not ok:
            raise ValueError(f"retrieval: no room for the key in {d.relpath} at line {s + 1}; enlarge retrieval_min")
        want = rng.uniform(0.3, 0.6) * count(window)
        ins, key_pos = min(ok, key=lambda x: abs(x[1] - want))
        others = []
        while len(others) < 3:
            k2 = new_key(rng, sz.key_len, window)
            if k2 != key and k2 not in others:
                others.append(k2)
        context = "".join(lines[:ins]) + key_line + "".join(lines[ins:]) + QUESTION
        choices = [key] + others
        rng.shuffle(choices)
        out.append({"context": context, "target": key, "choices": [c + '"' for c in choices],
                    "label": choices.index(key), "file": d.relpath, "line": s + 1,
                    "key_token_pos": key_pos, "context_tokens": count(context)})
    return out


def heldout_ppl(docs: Sequence[Doc], sz: Sizes, seed: int, count: Callable[[str], int]) -> list[dict]:
    rng = random.Random(f"{seed}:ppl")
    big = [d for d in docs if d.tokens >= sz.ppl_tokens]
    if len(big) < sz.ppl:
        raise ValueError(f"only {len(big)} held-out files have {sz.ppl_tokens} tokens (asked for {sz.ppl})")
    out = []
    for d in sorted(rng.sample(big, sz.ppl), key=lambda d: d.relpath):
        e = 0
        while e < len(d.lines) and d.pre[e + 1] <= sz.ppl_tokens:
            e += 1
        text = "".join(d.lines[:e])
        out.append({"text": text, "file": d.relpath, "tokens": count(text)})
    return out


# -------------------------------------------------------------------------------------------------- YAML


def _common(name: str, data: Path) -> dict:
    return {"task": name, "tag": [TAG], "dataset_path": "json",
            "dataset_kwargs": {"data_files": {"test": str(data.resolve())}}, "test_split": "test"}


def task_configs(out: Path) -> dict[str, dict]:
    acc = [{"metric": "acc", "aggregation": "mean", "higher_is_better": True},
           {"metric": "acc_norm", "aggregation": "mean", "higher_is_better": True}]
    em = [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True}]
    d = {name: _common(name, out / f"{name}.jsonl") for name in TASKS}
    d["alspec_code_mc"].update(output_type="multiple_choice", doc_to_text="context", doc_to_choice="choices",
                               doc_to_target="label", target_delimiter="", metric_list=acc)
    d["alspec_code_line"].update(output_type="generate_until", doc_to_text="context", doc_to_target="target",
                                 target_delimiter="", metric_list=em,
                                 generation_kwargs={"until": ["\n"], "max_gen_toks": 48, "do_sample": False})
    d["alspec_retrieval"].update(output_type="generate_until", doc_to_text="context", doc_to_target="target",
                                 target_delimiter="", metric_list=em,
                                 generation_kwargs={"until": ['"', "\n"], "max_gen_toks": 16, "do_sample": False})
    d["alspec_retrieval_mc"].update(output_type="multiple_choice", doc_to_text="context", doc_to_choice="choices",
                                    doc_to_target="label", target_delimiter="", metric_list=acc[:1])
    d["alspec_retrieval_mc"]["dataset_kwargs"]["data_files"]["test"] = str((out / "alspec_retrieval.jsonl").resolve())
    d["alspec_heldout_ppl"].update(output_type="loglikelihood_rolling", doc_to_text="", doc_to_target="text",
                                   metric_list=[{"metric": m} for m in ("word_perplexity", "byte_perplexity",
                                                                        "bits_per_byte")])
    for c in d.values():
        c["metadata"] = {"version": 1.0}
    return d


def build(out: str | Path, seed: int = 0, tokenizer=None, sizes: Sizes = Sizes(),
          files: Sequence[tuple[str, str]] | None = None) -> dict:
    """Write the tasks into ``out`` (created); returns the manifest.  ``files``: ``[(relpath, document text)]``
    (default: the held-out split)."""
    import yaml

    from ..corpus import load_split

    sizes = sizes.check()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    count = token_counter(tokenizer)
    files = sorted(files if files is not None else load_split("heldout"))
    if not files:
        raise ValueError("no held-out files: this interpreter has no stdlib sources")
    docs = [Doc(p, t, count) for p, t in files]
    data = {
        "alspec_code_mc": code_mc(docs, sizes, seed, count),
        "alspec_code_line": code_line(docs, sizes, seed, count),
        "alspec_retrieval": retrieval(docs, sizes, seed, count),
        "alspec_heldout_ppl": heldout_ppl(docs, sizes, seed, count),
    }
    manifest = {"seed": seed, "python": sys.version.split()[0], "sizes": asdict(sizes),
                "tokenizer": "shipped tokenizer" if tokenizer is not None else f"{CHARS_PER_TOKEN} chars per token",
                "heldout_files": [p for p, _ in files], "tasks": {}, "data": {}}
    for name, rows in data.items():
        path = out / f"{name}.jsonl"
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        path.write_text(text, encoding="utf-8")
        manifest["data"][path.name] = {"rows": len(rows), "sha256": hashlib.sha256(text.encode()).hexdigest()}
    for name, cfg in task_configs(out).items():
        (out / f"{name}.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")
        rows = data["alspec_retrieval" if name == "alspec_retrieval_mc" else name]
        lens = [r.get("context_tokens", r.get("tokens", 0)) for r in rows]
        manifest["tasks"][name] = {"output_type": cfg["output_type"], "examples": len(rows),
                                   "context_tokens": [min(lens), max(lens)],
                                   "files": len({r["file"] for r in rows})}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def default_tokenizer():
    """The shipped checkpoints' tokenizer, or None (sizes fall back to characters)."""
    from reference import registry

    path = registry.checkpoint("tiny-llama3")
    if not path.is_dir():
        return None
    from reference.hf import load_tokenizer

    return load_tokenizer(path)


def main(argv: list[str] | None = None) -> int:
    from ..cli import ArgumentParser, existing_dir, int_in

    ap = ArgumentParser(prog="python -m models.alspec.tasks", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="directory for the YAML + JSONL tasks (created)")
    ap.add_argument("--seed", type=int_in(0), default=0)
    ap.add_argument("--tokenizer", type=existing_dir, default=None,
                    help="checkpoint directory whose tokenizer sizes the contexts (default: checkpoints/tiny-llama3)")
    a = ap.parse_args(argv)
    if a.tokenizer is not None:
        from reference.hf import load_tokenizer

        tok = load_tokenizer(a.tokenizer)
    else:
        tok = default_tokenizer()
    m = build(a.out, a.seed, tok)
    for name, t in m["tasks"].items():
        print(f"{name:22s} {t['output_type']:22s} {t['examples']:3d} examples from {t['files']:2d} files, "
              f"context {t['context_tokens'][0]}..{t['context_tokens'][1]} tokens")
    print(f"wrote {a.out}/{{{','.join(TASKS)}}}.yaml, the JSONL data and manifest.json")
    return 0


if __name__ == "__main__":
    from ttl_kernels import env

    env.apply_defaults()
    from ..cli import run_main

    sys.exit(run_main(main, prog="python -m models.alspec.tasks"))
