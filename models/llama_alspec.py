"""ALSpec (attention-level speculation) on Llama-3: hit rates and quality vs lambda, and modelled latency.

    python models/llama_alspec.py                                   # embedded default (about a minute)
    python models/llama_alspec.py --windows 16 --window-tokens 512 --prefill 128 --new-tokens 64
    python models/llama_alspec.py --target checkpoints/tiny-qwen3-coder   # any Llama-3 / Qwen3 checkpoint
    python models/llama_alspec.py --backend sim                     # the two-device protocol on the kernels (simulator)

Default target: ``checkpoints/tiny-llama3`` (the project's trained tiny Llama-3) when it exists, else a
deterministic random tiny Llama-3 of the same shape (a note says so; its hit rates say nothing about a
trained model).  Text: windows from the starts of held-out stdlib files (never trained on).

For every chunk size S and lambda (verify-only ALSpec on the reference model, :mod:`models.alspec_torch`):

* hit rate per layer and overall, in teacher-forced decoding (the first ``--prefill`` tokens prefilled
  exactly, every later token one decode step) and in greedy generation;
* quality: perplexity of the teacher-forced decode vs exact attention, and token agreement of greedy
  generation (``--new-tokens`` from ``--prompt-len`` tokens) with plain decoding;

then the modelled decode latency of Llama-3.1-8B on a Wormhole n300 pair vs one chip, context 1K..128K,
at the measured hit rates (:mod:`models.alspec_latency`; measured kernel traffic from
``bench/results/*.json`` where present).  Writes ``<out>/<name>.json`` and two plots:
``<name>_hit_rate.png`` (hit rate vs lambda per layer, one panel per S) and ``<name>_latency.png``.

Backends: ``torch`` (the reference model on the CPU; what the paper's single-device "verify-only" quality
measurement does).  ``sim``: the two-device protocol on the TT-Lang kernel-built model
(:class:`models.alspec.ALSpecProtocol`, the tt-lang simulator's 1x2 mesh), a short set because the
simulator is slow: for every S and lambda, greedy generation of ``--new-tokens`` tokens per window through
the protocol, against plain decoding on the kernels (split-KV flash decode) and the kernel-level
verify-only mode (which the protocol must equal token for token at one user); hit rates per layer, how
often each layer kept the receiver's result, role switches, and wall time per decode step.  Its defaults
(used when an option is not given): 1 window, prompt 128 tokens, 8 new tokens, lambdas 0, 0.1, 0.5, 1,
S = 32, fp32 activations (the tiny models' relative distances ||O - O_spec|| / ||O|| at these positions are
about 0.4 - 1.3, so they hit only from about lambda 0.5 on; the paper's 0.05 - 0.25 gives no hits here).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python models/llama_alspec.py` from a checkout
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from models import alspec_latency as lat  # noqa: E402
from models.alspec_torch import check_chunk, check_lambda, heldout_windows, sweep, token_agreement  # noqa: E402
from reference import FP32  # noqa: E402
from reference.decoder import Decoder, DecoderConfig  # noqa: E402

DEFAULT_TARGET = ROOT / "checkpoints" / "tiny-llama3"
TOKENIZER_DIR = ROOT / "training" / "data" / "tokenizer"
LAMBDAS = (0.0, 0.05, 0.10, 0.15, 0.20, 0.25)
CHUNKS = (32, 64)
# defaults per backend for the options left unset (the simulator runs a short set)
DEFAULTS = {
    "torch": dict(lambdas=",".join(f"{x:g}" for x in LAMBDAS), chunks=",".join(map(str, CHUNKS)), windows=4, window_tokens=384,
                  prefill=256, prompt_len=256, new_tokens=32),
    "sim": dict(lambdas="0,0.1,0.5,1", chunks="32", windows=1, window_tokens=160, prefill=128, prompt_len=128, new_tokens=8),
}


def _rel(p: Path) -> str:
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(p)


def random_model(vocab: int, seed: int = 0, arch: str = "llama") -> Decoder:
    """A deterministic random tiny Llama-3 (or Qwen3) with the trained recipe's shape (4 layers, hidden 256,
    4 q / 2 kv heads of 64, SwiGLU 512, tied embeddings; llama3 RoPE scaling / Qwen3 QK-norm)."""
    rope = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 512} if arch == "llama" else None
    cfg = DecoderConfig(arch=arch, vocab_size=vocab, hidden_size=256, intermediate_size=512, num_layers=4,
                        num_heads=4, num_kv_heads=2, head_dim=64, rope_theta=1e4, tie_word_embeddings=True,
                        qk_norm=arch == "qwen3", rope_scaling=rope, max_position_embeddings=4096)
    torch.manual_seed(seed)
    m = Decoder(cfg).eval()
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.05)
    return m


def add_alspec_args(ap: argparse.ArgumentParser, default_target: Path = DEFAULT_TARGET, fallback_arch: str = "llama") -> None:
    t, m = DEFAULTS["torch"], DEFAULTS["sim"]
    d = lambda k: f"(default: {t[k]}; sim: {m[k]})"  # noqa: E731
    ap.add_argument("--backend", choices=("torch", "sim"), default="torch",
                    help="torch: verify-only ALSpec on the reference model; sim: the two-device protocol on the TT-Lang kernels")
    ap.add_argument("--target", default=None, help=f"HF checkpoint directory (default: {_rel(default_target)})")
    ap.add_argument("--lambdas", default=None, help=f"comma-separated lambdas (>= 0) {d('lambdas')}")
    ap.add_argument("--chunks", default=None, help=f"comma-separated chunk sizes S (multiples of 32) {d('chunks')}")
    ap.add_argument("--windows", type=int, default=None, help=f"held-out windows (users) {d('windows')}")
    ap.add_argument("--window-tokens", type=int, default=None, help=f"tokens per window {d('window_tokens')}")
    ap.add_argument("--prefill", type=int, default=None, help=f"tokens prefilled exactly before teacher-forced decode (torch) {d('prefill')}")
    ap.add_argument("--prompt-len", type=int, default=None, help=f"prompt tokens for greedy generation {d('prompt_len')}")
    ap.add_argument("--new-tokens", type=int, default=None, help=f"greedy tokens generated per window {d('new_tokens')}")
    ap.add_argument("--batch", type=int, default=8, help="users per forward in teacher-forced decode")
    ap.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32", help="sim: activation / weight dtype on the kernels")
    ap.add_argument("--hw", choices=sorted(k for k, v in lat.HARDWARE.items() if v.link_gbps), default="n300",
                    help="latency model hardware (a two-chip board with a known link)")
    ap.add_argument("--latency-lambda", type=float, default=0.10, help="the lambda whose measured hit rate the latency table uses")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"), help="directory for the JSON and the plots")
    ap.add_argument("--name", default=None, help="output file stem (default: alspec_<target name>, sim: alspec_sim_<target name>)")
    ap.add_argument("--no-plots", action="store_true")
    ap.set_defaults(default_target=default_target, fallback_arch=fallback_arch)


def resolve_defaults(a) -> None:
    """Fill the options left unset with the backend's defaults."""
    for k, v in DEFAULTS[a.backend].items():
        if getattr(a, k, None) is None:
            setattr(a, k, v)


def _floats(s: str, what: str) -> list[float]:
    try:
        return [float(x) for x in s.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--{what}: expected comma-separated numbers; got {s!r}") from None


def check_args(a) -> tuple[list[float], list[int]]:
    """Every argument problem as a ValueError naming the option, before anything is loaded."""
    resolve_defaults(a)
    lambdas = _floats(a.lambdas, "lambdas")
    for x in lambdas:
        try:
            check_lambda(x)
        except ValueError as e:
            raise ValueError(f"--lambdas: {e}") from None
    try:
        chunks = [int(x) for x in a.chunks.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--chunks: expected comma-separated integers; got {a.chunks!r}") from None
    for c in chunks:
        try:
            if a.backend == "torch":
                check_chunk(c)
            else:
                from models.alspec import check_kernel_chunk

                check_kernel_chunk(c)
        except ValueError as e:
            raise ValueError(f"--chunks: {e}") from None
    if not lambdas or not chunks:
        raise ValueError("--lambdas / --chunks: expected at least one value each")
    if a.backend == "torch" and (a.prefill < 1 or a.prefill >= a.window_tokens):
        raise ValueError(f"--prefill: expected 1 <= prefill < --window-tokens ({a.window_tokens}); got {a.prefill}")
    if not 1 <= a.prompt_len <= a.window_tokens:
        raise ValueError(f"--prompt-len: expected 1 .. --window-tokens ({a.window_tokens}); got {a.prompt_len}")
    for name in ("windows", "new_tokens", "batch"):
        if getattr(a, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')}: expected >= 1; got {getattr(a, name)}")
    check_lambda(a.latency_lambda)
    return lambdas, chunks


def load(a) -> tuple[Decoder, object, str, list[str]]:
    """(model, tokenizer or None, name, notes)."""
    from reference.hf import load_pretrained, load_tokenizer

    notes = []
    path = Path(a.target) if a.target else a.default_target
    if path.exists():
        model, _ = load_pretrained(path, dtype=FP32)
        return model.eval(), load_tokenizer(path), path.name, notes
    if a.target:
        raise FileNotFoundError(f"--target: no checkpoint at {str(path)!r}")
    tok = load_tokenizer(TOKENIZER_DIR) if TOKENIZER_DIR.exists() else None
    vocab = len(tok) if tok is not None else 4096
    arch = getattr(a, "fallback_arch", "llama")
    label = {"llama": "Llama-3", "qwen3": "Qwen3"}[arch]
    notes.append(f"no trained checkpoint at {_rel(path)}: using a deterministic random tiny {label} "
                 f"(seed {a.seed}); its hit rates and quality figures say nothing about a trained model.")
    return random_model(vocab, a.seed, arch), tok, f"random-tiny-{arch}", notes


def windows(a, tokenizer, model) -> tuple[torch.Tensor, str]:
    if tokenizer is not None:
        try:
            return heldout_windows(tokenizer, a.windows, a.window_tokens), "held-out stdlib files"
        except (OSError, ValueError) as e:  # no corpus on this machine
            note = f"held-out text unavailable ({e}); random tokens"
    else:
        note = "no tokenizer; random tokens"
    g = torch.Generator().manual_seed(a.seed)
    return torch.randint(0, model.config.vocab_size, (a.windows, a.window_tokens), generator=g), note


def hit_table(res: dict, layers: int) -> str:
    head = f"{'S':>4} {'lambda':>6} | " + " ".join(f"{'L' + str(i):>5}" for i in range(layers)) + \
           f" | {'all':>5} {'gen':>5} | {'ppl':>8} {'dppl':>8} | {'agree':>5} {'same':>5}"
    lines = [head, "-" * len(head)]
    for r in res["runs"]:
        lines.append(f"{r['chunk']:>4} {r['lambda']:>6.2f} | " + " ".join(f"{h:>5.3f}" for h in r["tf_layer_hit_rates"]) +
                     f" | {r['tf_hit_rate']:>5.3f} {r['gen_hit_rate']:>5.3f} | {r['ppl']:>8.4f} {r['ppl_rel_delta']:>+8.3%} | "
                     f"{r['agreement']:>5.3f} {r['identical_users']:>2}/{r['users']:<2}")
    return "\n".join(lines)


def latency_rows(res: dict, hw_name: str, lam: float, measured) -> tuple[list[dict], dict]:
    """Modelled Llama-3.1-8B latency at the measured hit rates of ``lam`` (per S), next to 0 / 0.875 / 1."""
    shape, hw = lat.MODELS["llama-3.1-8b"], lat.HARDWARE[hw_name]
    rates = {}
    for r in res["runs"]:
        if abs(r["lambda"] - lam) < 1e-12:
            rates[f"measured S={r['chunk']} lambda={lam:g}"] = r["tf_hit_rate"]
    rates.update({"all miss": 0.0, "paper's assumption": 0.875, "all hit": 1.0})
    rows = []
    for label, h in rates.items():
        for row in lat.latency_table(shape, hw, [h], measured=measured):
            rows.append({"label": label, **row})
    return rows, {"hw": hw.name, "model": shape.name, "chunk": 128, "rates": rates}


def format_latency(rows: list[dict]) -> str:
    labels = list(dict.fromkeys(r["label"] for r in rows))
    ctxs = sorted({r["ctx"] for r in rows})
    by = {(r["label"], r["ctx"]): r for r in rows}
    head = f"{'ctx':>5} {'1 chip ms':>9} | " + " | ".join(f"{lb[:26]:>26}" for lb in labels) + " | fits"
    lines = [head, f"{'':>5} {'':>9} | " + " | ".join(f"{'ALSpec ms  x   ovh-ratio':>26}" for _ in labels) + " |", "-" * len(head)]
    for c in ctxs:
        r0 = by[(labels[0], c)]
        cells = []
        for lb in labels:
            r = by[(lb, c)]
            cells.append(f"{r['alspec_ms']:>10.2f} {r['speedup']:>6.3f} {r['attention_overhead_ratio']:>8.2f}")
        lines.append(f"{c // 1024:>4}K {r0['single_ms']:>9.2f} | " + " | ".join(f"{x:>26}" for x in cells) + f" | {'yes' if r0['fits'] else 'no'}")
    return "\n".join(lines)


def plots(res: dict, lat_rows: list[dict], layers: int, stem: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    chunks = sorted({r["chunk"] for r in res["runs"]})
    fig, axes = plt.subplots(1, len(chunks), figsize=(5.5 * len(chunks), 4), squeeze=False)
    for ax, c in zip(axes[0], chunks):
        runs = sorted((r for r in res["runs"] if r["chunk"] == c), key=lambda r: r["lambda"])
        lams = [r["lambda"] for r in runs]
        for i in range(layers):
            ax.plot(lams, [r["tf_layer_hit_rates"][i] for r in runs], marker="o", label=f"layer {i}")
        ax.plot(lams, [r["tf_hit_rate"] for r in runs], "k--", lw=2, label="all layers")
        ax.set(title=f"S = {c}", xlabel="lambda", ylabel="hit rate (teacher-forced decode)", ylim=(-0.02, 1.02))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"ALSpec hit rate vs lambda: {res['model']}")
    fig.tight_layout()
    p = f"{stem}_hit_rate.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    out.append(p)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    labels = list(dict.fromkeys(r["label"] for r in lat_rows))
    first = [r for r in lat_rows if r["label"] == labels[0]]
    ax.plot([r["ctx"] for r in first], [r["single_ms"] for r in first], "k-", lw=2, marker="s", label="one chip (plain decode)")
    for lb in labels:
        rs = [r for r in lat_rows if r["label"] == lb]
        ax.plot([r["ctx"] for r in rs], [r["alspec_ms"] for r in rs], marker="o", label=f"ALSpec pair, {lb} (h={rs[0]['hit_rate']:.3f})")
    no_fit = [r["ctx"] for r in first if not r["fits"]]
    if no_fit:
        ax.axvspan(min(no_fit) / 2 ** 0.5, max(no_fit) * 2 ** 0.5, color="0.9", zorder=0,
                   label="weights + bf16 KV exceed one chip's DRAM")
    ax.set_xscale("log", base=2)
    ax.set(xlabel="context (tokens)", ylabel="modelled decode latency per token (ms)",
           title="Llama-3.1-8B, Wormhole n300 pair vs one chip (roofline model)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.tight_layout()
    p = f"{stem}_latency.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    out.append(p)
    return out


class _Recorder:
    """A target wrapper that keeps the logits of every decode step and the time spent in them."""

    def __init__(self, target):
        self.target, self.logits, self.seconds, self.steps = target, [], 0.0, 0

    def new_cache(self, max_len):
        return self.target.new_cache(max_len)

    def forward(self, ids, cache, taps=()):
        decode = int(cache.lengths[0]) > 0
        t0 = time.perf_counter()
        out = self.target.forward(ids, cache, taps)
        if decode:
            self.seconds += time.perf_counter() - t0
            self.steps += 1
            self.logits.append(out[0])
        return out


def run_sim(a, lambdas: list[float], chunks: list[int]) -> dict:
    """The two-device protocol on the kernels (simulator) for a short set: see the module docstring."""
    from models.alspec import ALSpecKernelTarget, ProtocolStats
    from models.kernel_model import KernelTarget
    from models.speculative import plain_generate
    from ttl_kernels import runtime

    t0 = time.perf_counter()
    model, tokenizer, name, notes = load(a)
    for n in notes:
        print(f"note: {n}")
    toks, text_src = windows(a, tokenizer, model)
    prompts = [[int(t) for t in row[: a.prompt_len]] for row in toks]
    c = model.config
    max_seq = a.prompt_len + a.new_tokens + 1
    print(f"ALSpec two-device protocol on the TT-Lang kernels ({runtime.backend_name()}, 1x2 mesh) for {name} ({c.arch}, "
          f"{c.num_layers} layers, {c.num_heads} q / {c.num_kv_heads} kv heads of {c.head_dim}, {a.dtype}); {len(prompts)} window(s) "
          f"from {text_src}: prompt {a.prompt_len} tokens (prefilled on the host), {a.new_tokens} greedy tokens")
    res = {"model": name, "arch": c.arch, "layers": c.num_layers, "dtype": a.dtype, "text": text_src, "notes": notes,
           "windows": len(prompts), "prompt_len": a.prompt_len, "new_tokens": a.new_tokens, "runs": []}

    def generate(make_target) -> tuple[list[list[int]], _Recorder, list]:
        """Greedy generation of every window, each on a fresh target (its own caches and statistics)."""
        outs, targets, rec = [], [], _Recorder(None)
        for p in prompts:
            rec.target = make_target()
            outs.append(plain_generate(rec, p, a.new_tokens).tokens)
            targets.append(rec.target)
        return outs, rec, targets

    for chunk in chunks:
        plain, prec, _ = generate(lambda: KernelTarget(model, max_seq, a.dtype, chunk_size=chunk))
        plain_step = prec.seconds / max(prec.steps, 1)
        print(f"  S={chunk:>3} plain kernel decoding (flash decode): {plain_step:.2f} s wall per decode step")
        for lam in lambdas:
            prot, rec, targets = generate(lambda: ALSpecKernelTarget(model, lam, chunk, "protocol", max_seq_len=max_seq, dtype=a.dtype))
            stats = ProtocolStats(c.num_layers)
            for w, t in enumerate(targets):  # windows are users: per-user statistics
                stats.merge(t.stats, user_offset=w)
                stats.kept_receiver = [x + y for x, y in zip(stats.kept_receiver, t.stats.kept_receiver)]
                stats.layer_decisions = [x + y for x, y in zip(stats.layer_decisions, t.stats.layer_decisions)]
                stats.senders += t.stats.senders
            verify, vrec, _ = generate(lambda: ALSpecKernelTarget(model, lam, chunk, "verify", max_seq_len=max_seq, dtype=a.dtype))
            same_logits = len(vrec.logits) == len(rec.logits) and all(torch.equal(x, y) for x, y in zip(rec.logits, vrec.logits))
            ta = token_agreement(torch.tensor(prot), torch.tensor(plain), 0)
            run = {"chunk": chunk, "lambda": lam, "hit_rate": stats.hit_rate(), "layer_hit_rates": stats.layer_hit_rates(),
                   "user_hit_rates": {str(k): v for k, v in stats.user_hit_rates().items()},
                   "accept_rate": stats.accept_rate(), "layer_accept_rates": stats.layer_accept_rates(),
                   "role_switches": stats.role_switches(), "decisions": stats.decisions,
                   "agreement_plain": ta["agreement"], "identical_windows": ta["identical_users"],
                   "equal_verify_only": bool(prot == verify and same_logits),
                   "protocol_s_per_step": rec.seconds / max(rec.steps, 1), "verify_s_per_step": vrec.seconds / max(vrec.steps, 1),
                   "plain_s_per_step": plain_step, "tokens": prot, "plain_tokens": plain}
            res["runs"].append(run)
            fmt = lambda v: "n/a" if v is None else f"{v:.2f}"  # noqa: E731
            print(f"  S={chunk:>3} lambda={lam:.2f}: hit {fmt(run['hit_rate'])} layers {' '.join(fmt(h) for h in run['layer_hit_rates'])}  "
                  f"kept receiver {' '.join(fmt(h) for h in run['layer_accept_rates'])}  role switches {run['role_switches']}  "
                  f"agreement with plain {ta['agreement']:.3f} ({ta['identical_users']}/{ta['users']} identical)  "
                  f"= verify-only: {'yes' if run['equal_verify_only'] else 'NO'}  wall {run['protocol_s_per_step']:.2f} s/step "
                  f"(verify-only {run['verify_s_per_step']:.2f}, plain {plain_step:.2f})", flush=True)
    res["seconds"] = time.perf_counter() - t0
    out = {"command": " ".join(["python models/llama_alspec.py", *sys.argv[1:]]), "machine": platform.node(),
           "torch_threads": torch.get_num_threads(), "sim": res}
    od = Path(a.out)
    od.mkdir(parents=True, exist_ok=True)
    stem = od / (a.name or f"alspec_sim_{name}")
    Path(f"{stem}.json").write_text(json.dumps(out, indent=1))
    print(f"\nwrote {stem}.json ({res['seconds']:.0f} s wall)")
    return out


def run(a) -> dict:
    lambdas, chunks = check_args(a)
    if a.backend == "sim":
        return run_sim(a, lambdas, chunks)
    t0 = time.perf_counter()
    model, tokenizer, name, notes = load(a)
    for n in notes:
        print(f"note: {n}")
    toks, text_src = windows(a, tokenizer, model)
    c = model.config
    print(f"ALSpec verify-only on {name} ({c.arch}, {c.num_layers} layers, {c.num_heads} q / {c.num_kv_heads} kv heads of {c.head_dim}); "
          f"{toks.shape[0]} windows of {toks.shape[1]} tokens from {text_src}; prefill {a.prefill}, "
          f"generation {a.new_tokens} tokens from {a.prompt_len}")
    res = sweep(model, toks, lambdas, chunks, prefill=a.prefill, prompt_len=a.prompt_len, new_tokens=a.new_tokens,
                ppl_batch=a.batch, log=lambda s: print("  " + s, flush=True))
    res.update({"model": name, "arch": c.arch, "layers": c.num_layers, "text": text_src, "notes": notes})
    print("\nhit rate per layer (teacher-forced decode), overall, in generation; perplexity and its change; greedy agreement")
    print(hit_table(res, c.num_layers))

    measured = lat.load_measured(sorted((ROOT / "bench" / "results").glob("*.json")))
    lat_rows, lat_meta = latency_rows(res, a.hw, a.latency_lambda, measured)
    print(f"\nmodelled decode latency, {lat_meta['model']} on a {lat_meta['hw']} pair vs one chip (S=128, batch 1; "
          f"x = speedup over one chip, ovh-ratio = attention overhead one chip / ALSpec); measured traffic: {measured.sources or 'none'}")
    print(format_latency(lat_rows))
    print(f"paper: {lat.PAPER['attention_overhead_reduction_at_128k']}x lower attention overhead at 128K, "
          f"{lat.PAPER['e2e_speedup']}x end to end ({lat.PAPER['e2e_setup']})")
    out = {"command": " ".join(["python models/llama_alspec.py", *sys.argv[1:]]), "machine": platform.node(),
           "torch_threads": torch.get_num_threads(), "sweep": res,
           "latency": {"meta": lat_meta, "rows": lat_rows, "paper": lat.PAPER, "measured": measured.ratio}}
    od = Path(a.out)
    od.mkdir(parents=True, exist_ok=True)
    stem = od / (a.name or f"alspec_{name}")
    files = [] if a.no_plots else plots(res, lat_rows, c.num_layers, stem)
    out["seconds"] = time.perf_counter() - t0
    Path(f"{stem}.json").write_text(json.dumps(out, indent=1))
    print(f"\nwrote {stem}.json" + "".join(f", {f}" for f in files) + f" ({out['seconds']:.0f} s)")
    return out


def main(argv=None, default_target: Path = DEFAULT_TARGET, fallback_arch: str = "llama") -> int:
    """The entry point; other entry points reuse it with their own default target (e.g. the Qwen3 one's
    ``--alspec``: ``main(argv, ROOT / "checkpoints" / "tiny-qwen3-coder", "qwen3")``)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_alspec_args(ap, default_target, fallback_arch)
    a = ap.parse_args(argv)
    try:
        run(a)
    except (ValueError, FileNotFoundError) as e:
        ap.error(str(e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
