"""What the entry points share: arguments, target loading per backend, prompts, the side-by-side run and
its report (a short table printed plainly, and the same figures as JSON)."""

from __future__ import annotations

import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from reference import FP32
from reference.decoder import Decoder, DecoderConfig

from .sampling import SamplingParams
from .speculative import Generation, TorchTarget, plain_generate, speculative_generate

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("torch", "sim", "device")


def add_common_args(ap, default_target: Path) -> None:
    ap.add_argument("--backend", choices=BACKENDS, default="torch",
                    help="torch: reference model on the CPU; sim: TT-Lang kernels on the simulator; device: a Tenstorrent card")
    ap.add_argument("--target", default=None, help=f"HF checkpoint directory of the target (default: {default_target.relative_to(ROOT)})")
    ap.add_argument("--prompt", action="append", default=[], help="a prompt (repeatable)")
    ap.add_argument("--prompts", default=None, help="a file of prompts: a JSON list of strings, or one prompt per line")
    ap.add_argument("--num-prompts", type=int, default=8, help="held-out file prefixes used when no prompt is given")
    ap.add_argument("--max-new-tokens", type=int, default=96)
    ap.add_argument("--temperature", type=float, default=0.0)
    ap.add_argument("--top-p", type=float, default=None)
    ap.add_argument("--top-k", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="write the figures as JSON here")
    ap.add_argument("--quiet", action="store_true", help="no progress display and no generated text")
    ap.set_defaults(default_target=default_target)


class ByteTokenizer:
    """Fallback when no trained checkpoint exists: bytes 0..255 -> ids 3..258 (0 eot, 1 mask, 2 pad)."""

    eos_token_id = 0

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return [b + 3 for b in text.encode()]

    def decode(self, ids) -> str:
        return bytes(i - 3 for i in ids if 3 <= i < 259).decode(errors="replace")

    def convert_tokens_to_ids(self, tok: str) -> int:
        return {"<|endoftext|>": 0, "<|MASK|>": 1, "<|pad|>": 2}[tok]


def random_target(seed: int = 0) -> Decoder:
    """A deterministic random tiny Qwen3 (4 layers, hidden 256), the shape of the project's trained coder."""
    cfg = DecoderConfig(arch="qwen3", vocab_size=4096, hidden_size=256, intermediate_size=768, num_layers=4,
                        num_heads=4, num_kv_heads=2, head_dim=64, rope_theta=1e6, qk_norm=True,
                        tie_word_embeddings=True, eos_token_id=0)
    torch.manual_seed(seed)
    m = Decoder(cfg).eval()
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.05)
    return m


def make_target(model: Decoder, backend: str):
    """The target interface for a backend: the reference model itself (torch) or the TT-Lang kernel model
    built from the same weights (sim / device)."""
    if backend == "torch":
        return TorchTarget(model)
    from ttl_kernels import runtime

    runtime.use_backend("sim" if backend == "sim" else "device")
    from .kernel_model import KernelTarget

    return KernelTarget(model)


def load_target(a):
    """(target, tokenizer, notes) for the parsed arguments."""
    from reference.hf import load_pretrained, load_tokenizer

    notes: list[str] = []
    path = Path(a.target) if a.target else a.default_target
    if path.exists():
        model, _ = load_pretrained(path, dtype=FP32)
        tokenizer = load_tokenizer(path)
        name = path.name
    elif a.target:
        raise FileNotFoundError(f"--target: no checkpoint at {str(path)!r}")
    else:
        model, tokenizer, name = random_target(a.seed), ByteTokenizer(), "random tiny qwen3"
        notes.append(f"no trained target at {path.relative_to(ROOT)}: using a deterministic random tiny Qwen3 and a byte "
                     "tokenizer; generated text and acceptance figures are meaningless until `make train` has run.")
    target = make_target(model, a.backend)
    target.name = name
    try:
        target.mask_token_id = int(tokenizer.convert_tokens_to_ids("<|MASK|>"))
    except (KeyError, TypeError, ValueError):
        target.mask_token_id = None
    eos = getattr(tokenizer, "eos_token_id", None)
    target.stop_tokens = [eos] if eos is not None else []
    return target, tokenizer, notes


def heldout_prompts(tokenizer, n: int, prompt_tokens: int = 128) -> list[str]:
    """Prefixes of held-out stdlib files (never trained on), cut at a line end near ``prompt_tokens``."""
    try:
        from training.corpus import load_split

        docs = load_split("heldout")
    except Exception:  # noqa: BLE001 - no training data on this machine: fall back to fixed snippets
        return FALLBACK_PROMPTS[:n]
    out = []
    docs = sorted(docs)
    stride = max(1, len(docs) // max(2 * n, 1))
    for relpath, text in docs[::stride]:  # spread over the held-out files; text starts with "# file: <relpath>"
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


def load_prompts(a, tokenizer) -> list[str]:
    prompts = list(a.prompt)
    if a.prompts:
        import json

        text = Path(a.prompts).read_text()
        try:
            data = json.loads(text)
            prompts += [str(p) for p in data]
        except json.JSONDecodeError:
            prompts += [line for line in text.splitlines() if line.strip()]
    return prompts or heldout_prompts(tokenizer, a.num_prompts)


def run_comparison(target, drafts: dict, prompts: list[str], tokenizer, a) -> dict:
    """Plain decoding and every draft on every prompt, side by side; returns the report dict."""
    params = SamplingParams(a.temperature, a.top_k, a.top_p)
    stop = getattr(target, "stop_tokens", [])
    rows = []
    show = not a.quiet and sys.stderr.isatty()
    for i, text in enumerate(prompts):
        ids = tokenizer.encode(text)
        if show:
            print(f"\r[{i + 1}/{len(prompts)}] plain ...", end="", file=sys.stderr, flush=True)
        plain = plain_generate(target, ids, a.max_new_tokens, params, stop, seed=a.seed + i)
        row = {"prompt": text, "prompt_tokens": len(ids), "plain": _gen_dict(plain), "drafts": {}}
        for name, draft in drafts.items():
            if show:
                print(f"\r[{i + 1}/{len(prompts)}] {name} ...", end="", file=sys.stderr, flush=True)
            g = speculative_generate(target, draft, ids, a.max_new_tokens, params, stop, seed=a.seed + i)
            d = _gen_dict(g)
            d["equal_to_plain"] = g.tokens == plain.tokens
            row["drafts"][name] = d
        rows.append(row)
        if not a.quiet:
            print(("\r" if show else "") + f"[{i + 1}/{len(prompts)}] plain {plain.tokens.__len__()} tok "
                  + " ".join(f"| {n}: tau {r['tau']:.2f}" for n, r in row["drafts"].items()), file=sys.stderr, flush=True)
    summary = {}
    for name in drafts:
        gens = [r["drafts"][name] for r in rows]
        steps = sum(g["verify_steps"] for g in gens)
        acc = sum(g["accepted"] for g in gens)
        prop = sum(g["proposed"] for g in gens)
        k = len(gens[0]["histogram"]) - 1
        hist = [sum(g["histogram"][n] for g in gens) for n in range(k + 1)]
        at = [sum(g["accepted_at"][j] for g in gens) for j in range(k)]
        plain_tok = sum(len(r["plain"]["tokens"]) for r in rows)
        plain_s = sum(r["plain"]["seconds"] for r in rows)
        spec_tok = sum(len(g["tokens"]) for g in gens)
        spec_s = sum(g["seconds"] for g in gens)
        summary[name] = {
            "tau": (acc + steps) / steps if steps else 1.0,
            "acceptance_rate": acc / prop if prop else 0.0,
            "per_position_acceptance": [x / steps for x in at] if steps else [],
            "histogram": hist,
            "verify_steps": steps,
            "tokens_per_s": spec_tok / spec_s if spec_s else 0.0,
            "plain_tokens_per_s": plain_tok / plain_s if plain_s else 0.0,
            "speedup": (spec_tok / spec_s) / (plain_tok / plain_s) if spec_s and plain_s and plain_tok else 0.0,
            "prompts_equal_to_plain": sum(g["equal_to_plain"] for g in gens),
            "prompts": len(gens),
            "speedup_per_prompt_median": statistics.median(
                (len(g["tokens"]) / g["seconds"]) / (len(r["plain"]["tokens"]) / r["plain"]["seconds"])
                for g, r in zip(gens, rows) if g["seconds"] and r["plain"]["seconds"] and r["plain"]["tokens"]) if rows else 0.0,
        }
    lossless = all(s["prompts_equal_to_plain"] == s["prompts"] for s in summary.values())
    return {
        "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
        "machine": f"{platform.node()} ({platform.machine()}, {torch.get_num_threads()} threads)",
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "backend": a.backend,
        "target": getattr(target, "name", "?"),
        "sampling": {"temperature": a.temperature, "top_k": a.top_k, "top_p": a.top_p, "seed": a.seed},
        "max_new_tokens": a.max_new_tokens,
        "summary": summary,
        "lossless_ok": lossless if a.temperature == 0 else True,
        "rows": rows,
    }


def _gen_dict(g: Generation) -> dict:
    return {"tokens": g.tokens, "seconds": g.seconds, "verify_steps": g.verify_steps, "proposed": g.proposed,
            "accepted": g.accepted, "histogram": g.histogram, "accepted_at": g.accepted_at, "tau": g.tau}


def print_report(report: dict, tokenizer, a) -> None:
    print(f"\n{report['command']}   backend {report['backend']}   target {report['target']}   {report['machine']}")
    print(f"{len(report['rows'])} prompts, {report['max_new_tokens']} new tokens, "
          f"temperature {report['sampling']['temperature']}")
    print(f"{'method':<34} {'tau':>5} {'accept':>7} {'steps':>6} {'tok/s':>8} {'speedup':>8}  {'==plain':>8}")
    first = next(iter(report["summary"].values()), None)
    if first:
        print(f"{'plain decoding':<34} {'1.00':>5} {'-':>7} {'-':>6} {first['plain_tokens_per_s']:>8.1f} {'1.00x':>8}")
    for name, s in report["summary"].items():
        eq = f"{s['prompts_equal_to_plain']}/{s['prompts']}"
        print(f"{name:<34} {s['tau']:>5.2f} {s['acceptance_rate']:>7.1%} {s['verify_steps']:>6} {s['tokens_per_s']:>8.1f} "
              f"{s['speedup']:>7.2f}x  {eq:>8}")
        print(f"  per-position acceptance: {' '.join(f'{x:.2f}' for x in s['per_position_acceptance'])}")
        print(f"  accepted-per-step histogram: {s['histogram']}")
    if report["sampling"]["temperature"] == 0:
        print("lossless (speculative == plain greedy on every prompt):", "yes" if report["lossless_ok"] else "NO")
    for n in report.get("notes", []):
        print("note:", n)
    if not a.quiet and report["rows"]:
        r = report["rows"][0]
        print("\n--- prompt 1 ---\n" + r["prompt"] + "\n--- generated (plain decoding) ---\n" + tokenizer.decode(r["plain"]["tokens"]))
