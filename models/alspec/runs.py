"""The runs behind ``python models/llama_alspec.py``: the verify-only sweep on the reference model (hit rates,
perplexity, agreement; :func:`models.alspec.reference.sweep`) with the modelled latency of a device pair, and
the two-device protocol on the TT-Lang kernels (simulator), with their tables, plots and JSON.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import torch

from reference import FP32
from reference.decoder import Decoder

from ..corpus import heldout_windows
from ..targets import random_decoder
from . import latency as lat
from .reference import sweep, token_agreement


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
    arch = getattr(a, "fallback_arch", "llama")
    label = {"llama": "Llama-3", "qwen3": "Qwen3"}[arch]
    notes.append(
        f"no trained checkpoint at {path}: using a deterministic random tiny {label} of the shipped shape "
        f"(seed {a.seed}) and random tokens; its hit rates and quality figures say nothing about a trained model."
    )
    return random_decoder(f"tiny-{arch}", a.seed), None, f"random-tiny-{arch}", notes


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
        lines.append(
            f"{r['chunk']:>4} {r['lambda']:>6.2f} | "
            + " ".join(f"{h:>5.3f}" for h in r["tf_layer_hit_rates"])
            + f" | {r['tf_hit_rate']:>5.3f} {r['gen_hit_rate']:>5.3f} | {r['ppl']:>8.4f} {r['ppl_rel_delta']:>+8.3%} | "
            f"{r['agreement']:>5.3f} {r['identical_users']:>2}/{r['users']:<2}"
        )
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
    lines = [
        head,
        f"{'':>5} {'':>9} | " + " | ".join(f"{'ALSpec ms  x   ovh-ratio':>26}" for _ in labels) + " |",
        "-" * len(head),
    ]
    for c in ctxs:
        r0 = by[(labels[0], c)]
        cells = []
        for lb in labels:
            r = by[(lb, c)]
            cells.append(f"{r['alspec_ms']:>10.2f} {r['speedup']:>6.3f} {r['attention_overhead_ratio']:>8.2f}")
        lines.append(
            f"{c // 1024:>4}K {r0['single_ms']:>9.2f} | "
            + " | ".join(f"{x:>26}" for x in cells)
            + f" | {'yes' if r0['fits'] else 'no'}"
        )
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
    ax.plot(
        [r["ctx"] for r in first],
        [r["single_ms"] for r in first],
        "k-",
        lw=2,
        marker="s",
        label="one chip (plain decode)",
    )
    for lb in labels:
        rs = [r for r in lat_rows if r["label"] == lb]
        ax.plot(
            [r["ctx"] for r in rs],
            [r["alspec_ms"] for r in rs],
            marker="o",
            label=f"ALSpec pair, {lb} (h={rs[0]['hit_rate']:.3f})",
        )
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
    from ttl_kernels import runtime

    from ..kernel_model import KernelTarget
    from ..speculative import plain_generate
    from .protocol import ALSpecKernelTarget, ProtocolStats

    t0 = time.perf_counter()
    model, tokenizer, name, notes = load(a)
    for n in notes:
        print(f"note: {n}")
    toks, text_src = windows(a, tokenizer, model)
    prompts = [[int(t) for t in row[: a.prompt_len]] for row in toks]
    c = model.config
    max_seq = a.prompt_len + a.new_tokens + 1
    print(
        f"ALSpec two-device protocol on the TT-Lang kernels ({runtime.backend_name()}, 1x2 mesh) for {name} ({c.arch}, "
        f"{c.num_layers} layers, {c.num_heads} q / {c.num_kv_heads} kv heads of {c.head_dim}, {a.dtype}); "
        f"{len(prompts)} window(s) "
        f"from {text_src}: prompt {a.prompt_len} tokens (prefilled on the host), {a.new_tokens} greedy tokens"
    )
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
        plain, prec, _ = generate(lambda chunk=chunk: KernelTarget(model, max_seq, a.dtype, chunk_size=chunk))
        plain_step = prec.seconds / max(prec.steps, 1)
        print(f"  S={chunk:>3} plain kernel decoding (flash decode): {plain_step:.2f} s wall per decode step")
        for lam in lambdas:
            prot, rec, targets = generate(
                lambda lam=lam, chunk=chunk: ALSpecKernelTarget(
                    model, lam, chunk, "protocol", max_seq_len=max_seq, dtype=a.dtype
                )
            )
            stats = ProtocolStats(c.num_layers)
            for w, t in enumerate(targets):  # windows are users: per-user statistics
                stats.merge(t.stats, user_offset=w)
                stats.kept_receiver = [x + y for x, y in zip(stats.kept_receiver, t.stats.kept_receiver)]
                stats.layer_decisions = [x + y for x, y in zip(stats.layer_decisions, t.stats.layer_decisions)]
                stats.senders += t.stats.senders
            verify, vrec, _ = generate(
                lambda lam=lam, chunk=chunk: ALSpecKernelTarget(
                    model, lam, chunk, "verify", max_seq_len=max_seq, dtype=a.dtype
                )
            )
            same_logits = len(vrec.logits) == len(rec.logits) and all(
                torch.equal(x, y) for x, y in zip(rec.logits, vrec.logits)
            )
            ta = token_agreement(torch.tensor(prot), torch.tensor(plain), 0)
            run = {
                "chunk": chunk,
                "lambda": lam,
                "hit_rate": stats.hit_rate(),
                "layer_hit_rates": stats.layer_hit_rates(),
                "user_hit_rates": {str(k): v for k, v in stats.user_hit_rates().items()},
                "accept_rate": stats.accept_rate(),
                "layer_accept_rates": stats.layer_accept_rates(),
                "role_switches": stats.role_switches(),
                "decisions": stats.decisions,
                "agreement_plain": ta["agreement"],
                "identical_windows": ta["identical_users"],
                "equal_verify_only": bool(prot == verify and same_logits),
                "protocol_s_per_step": rec.seconds / max(rec.steps, 1),
                "verify_s_per_step": vrec.seconds / max(vrec.steps, 1),
                "plain_s_per_step": plain_step,
                "tokens": prot,
                "plain_tokens": plain,
            }
            res["runs"].append(run)
            fmt = lambda v: "n/a" if v is None else f"{v:.2f}"  # noqa: E731
            print(
                f"  S={chunk:>3} lambda={lam:.2f}: hit {fmt(run['hit_rate'])} layers "
                f"{' '.join(fmt(h) for h in run['layer_hit_rates'])}  "
                f"kept receiver {' '.join(fmt(h) for h in run['layer_accept_rates'])}  role switches "
                f"{run['role_switches']}  "
                f"agreement with plain {ta['agreement']:.3f} ({ta['identical_users']}/{ta['users']} identical)  "
                f"= verify-only: {'yes' if run['equal_verify_only'] else 'NO'}  wall "
                f"{run['protocol_s_per_step']:.2f} s/step "
                f"(verify-only {run['verify_s_per_step']:.2f}, plain {plain_step:.2f})",
                flush=True,
            )
    res["seconds"] = time.perf_counter() - t0
    out = {"command": " ".join(["python models/llama_alspec.py", *sys.argv[1:]]), "machine": platform.node(),
           "torch_threads": torch.get_num_threads(), "sim": res}
    od = Path(a.out)
    od.mkdir(parents=True, exist_ok=True)
    stem = od / (a.name or f"alspec_sim_{name}")
    Path(f"{stem}.json").write_text(json.dumps(out, indent=1))
    print(f"\nwrote {stem}.json ({res['seconds']:.0f} s wall)")
    return out


def run(a, lambdas: list[float], chunks: list[int]) -> dict:
    """The sweep on the reference model (``--backend torch``) or the protocol on the kernels (``sim``)."""
    if a.backend == "sim":
        return run_sim(a, lambdas, chunks)
    t0 = time.perf_counter()
    model, tokenizer, name, notes = load(a)
    for n in notes:
        print(f"note: {n}")
    toks, text_src = windows(a, tokenizer, model)
    c = model.config
    print(
        f"ALSpec verify-only on {name} ({c.arch}, {c.num_layers} layers, {c.num_heads} q / {c.num_kv_heads} kv heads "
        f"of {c.head_dim}); "
        f"{toks.shape[0]} windows of {toks.shape[1]} tokens from {text_src}; prefill {a.prefill}, "
        f"generation {a.new_tokens} tokens from {a.prompt_len}"
    )
    res = sweep(model, toks, lambdas, chunks, prefill=a.prefill, prompt_len=a.prompt_len, new_tokens=a.new_tokens,
                ppl_batch=a.batch, log=lambda s: print("  " + s, flush=True))
    res.update({"model": name, "arch": c.arch, "layers": c.num_layers, "text": text_src, "notes": notes})
    print(
        "\nhit rate per layer (teacher-forced decode), overall, in generation; perplexity and its change; greedy "
        "agreement"
    )
    print(hit_table(res, c.num_layers))

    measured = lat.load_measured(sorted(Path(a.out).glob("*.json")) if Path(a.out).is_dir() else [])
    lat_rows, lat_meta = latency_rows(res, a.hw, a.latency_lambda, measured)
    print(
        f"\nmodelled decode latency, {lat_meta['model']} on a {lat_meta['hw']} pair vs one chip (S=128, batch 1; "
        "x = speedup over one chip, ovh-ratio = attention overhead one chip / ALSpec); measured traffic: "
        f"{measured.sources or 'none'}"
    )
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
