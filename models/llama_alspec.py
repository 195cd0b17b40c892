"""ALSpec (attention-level speculation) on Llama-3: hit rates and quality vs lambda, and modelled latency.

    python models/llama_alspec.py                                   # embedded default (about a minute)
    python models/llama_alspec.py --windows 16 --window-tokens 512 --prefill 128 --new-tokens 64
    python models/llama_alspec.py --target checkpoints/tiny-qwen3-coder   # any Llama-3 / Qwen3 checkpoint
    python models/llama_alspec.py --backend sim                     # the two-device protocol on the kernels (simulator)

Default target: ``checkpoints/tiny-llama3`` (the project's trained tiny Llama-3) when it exists, else a
deterministic random tiny Llama-3 of the same shape (a note says so; its hit rates say nothing about a
trained model).  Text: windows from the starts of held-out stdlib files (never trained on).

For every chunk size S and lambda (verify-only ALSpec on the reference model, :mod:`models.alspec.reference`):

* hit rate per layer and overall, in teacher-forced decoding (the first ``--prefill`` tokens prefilled
  exactly, every later token one decode step) and in greedy generation;
* quality: perplexity of the teacher-forced decode vs exact attention, and token agreement of greedy
  generation (``--new-tokens`` from ``--prompt-len`` tokens) with plain decoding;

then the modelled decode latency of Llama-3.1-8B on a Wormhole n300 pair vs one chip, context 1K..128K,
at the measured hit rates (:mod:`models.alspec.latency`; measured kernel traffic from
``bench/results/*.json`` where present).  Writes ``<out>/<name>.json`` and two plots:
``<name>_hit_rate.png`` (hit rate vs lambda per layer, one panel per S) and ``<name>_latency.png``.

Backends: ``torch`` (the reference model on the CPU; what the paper's single-device "verify-only" quality
measurement does).  ``sim``: the two-device protocol on the TT-Lang kernel-built model
(:class:`models.alspec.protocol.ALSpecProtocol`, the tt-lang simulator's 1x2 mesh), a short set because the
simulator is slow: for every S and lambda, greedy generation of ``--new-tokens`` tokens per window through
the protocol, against plain decoding on the kernels (split-KV flash decode) and the kernel-level
verify-only mode (which the protocol must equal token for token at one user); hit rates per layer, how
often each layer kept the receiver's result, role switches, and wall time per decode step.  Its defaults
(used when an option is not given): 1 window, prompt 128 tokens, 8 new tokens, lambdas 0, 0.1, 0.5, 1,
S = 32, fp32 activations (the tiny models' relative distances ||O - O_spec|| / ||O|| at these positions are
about 0.4 - 1.3, so they hit only from about lambda 0.5 on; the paper's 0.05 - 0.25 gives no hits here).
"""

from __future__ import annotations

import sys

from ttl_kernels import env

env.apply_defaults()  # before torch loads (OpenMP reads OMP_WAIT_POLICY then)

import argparse
from pathlib import Path

from models.alspec import latency as lat
from models.alspec.reference import check_chunk, check_lambda
from models.cli import ArgumentParser, csv_of, existing_dir, float_in, int_in, run_main
from reference import registry

DEFAULT_TARGET = "tiny-llama3"
LAMBDAS = (0.0, 0.05, 0.10, 0.15, 0.20, 0.25)
CHUNKS = (32, 64)
# defaults per backend for the options left unset (the simulator runs a short set)
DEFAULTS = {
    "torch": dict(lambdas=list(LAMBDAS), chunks=list(CHUNKS), windows=4, window_tokens=384, prefill=256,
                  prompt_len=256, new_tokens=32),
    "sim": dict(lambdas=[0.0, 0.1, 0.5, 1.0], chunks=[32], windows=1, window_tokens=160, prefill=128, prompt_len=128,
                new_tokens=8),
}


def default_out() -> Path:
    root = env.repo_root()
    return root / "bench" / "results" if root is not None else Path("alspec_results")


def add_alspec_args(ap: argparse.ArgumentParser, default_target: Path, fallback_arch: str = "llama") -> None:
    t, m = DEFAULTS["torch"], DEFAULTS["sim"]

    def d(k):
        show = lambda v: ",".join(f"{x:g}" for x in v) if isinstance(v, list) else v  # noqa: E731
        return f"(default: {show(t[k])}; sim: {show(m[k])})"

    ap.add_argument("--backend", choices=("torch", "sim"), default="torch",
                    help="torch: verify-only ALSpec on the reference model; sim: the two-device protocol on the "
                         "TT-Lang kernels")
    ap.add_argument(
        "--target", type=existing_dir, default=None, help=f"HF checkpoint directory (default: {default_target})"
    )
    ap.add_argument("--lambdas", type=csv_of(float_in(0.0), "lambdas"), default=None,
                    help=f"comma-separated lambdas (>= 0) {d('lambdas')}")
    ap.add_argument("--chunks", type=csv_of(int_in(32, 4096), "chunks"), default=None,
                    help=f"comma-separated chunk sizes S (multiples of 32; sim: up to 128) {d('chunks')}")
    ap.add_argument("--windows", type=int_in(1, 1000), default=None, help=f"held-out windows (users) {d('windows')}")
    ap.add_argument(
        "--window-tokens", type=int_in(2, 100_000), default=None, help=f"tokens per window {d('window_tokens')}"
    )
    ap.add_argument("--prefill", type=int_in(1), default=None,
                    help=f"tokens prefilled exactly before teacher-forced decode (torch) {d('prefill')}")
    ap.add_argument(
        "--prompt-len", type=int_in(1), default=None, help=f"prompt tokens for greedy generation {d('prompt_len')}"
    )
    ap.add_argument("--new-tokens", type=int_in(1, 100_000), default=None,
                    help=f"greedy tokens generated per window {d('new_tokens')}")
    ap.add_argument("--batch", type=int_in(1, 1000), default=8, help="users per forward in teacher-forced decode")
    ap.add_argument(
        "--dtype", choices=("fp32", "bf16"), default="fp32", help="sim: activation / weight dtype on the kernels"
    )
    ap.add_argument("--hw", choices=sorted(k for k, v in lat.HARDWARE.items() if v.link_gbps), default="n300",
                    help="latency model hardware (a two-chip board with a known link)")
    ap.add_argument("--latency-lambda", type=float_in(0.0), default=0.10,
                    help="the lambda whose measured hit rate the latency table uses")
    ap.add_argument("--seed", type=int_in(0), default=0)
    ap.add_argument("--out", default=None, help=f"directory for the JSON and the plots (default: {default_out()})")
    ap.add_argument("--name", default=None,
                    help="output file stem (default: alspec_<target name>, sim: alspec_sim_<target name>)")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--debug", action="store_true", help="on failure, print the traceback (default: one line)")
    ap.set_defaults(default_target=default_target, fallback_arch=fallback_arch)


def check_args(ap: argparse.ArgumentParser, a) -> tuple[list[float], list[int]]:
    """Fill the backend's defaults, then every cross-argument problem as a usage error naming the option,
    before anything is loaded."""
    for k, v in DEFAULTS[a.backend].items():
        if getattr(a, k, None) is None:
            setattr(a, k, v)
    a.out = a.out or str(default_out())
    for c in a.chunks:
        try:
            if a.backend == "torch":
                check_chunk(c)
            else:
                from models.alspec.protocol import check_kernel_chunk

                check_kernel_chunk(c)
        except ValueError as e:
            ap.error(f"--chunks: {e}")
    if a.backend == "torch" and a.prefill >= a.window_tokens:
        ap.error(f"--prefill: expected 1 <= prefill < --window-tokens ({a.window_tokens}); got {a.prefill}")
    if a.prompt_len > a.window_tokens:
        ap.error(f"--prompt-len: expected 1 .. --window-tokens ({a.window_tokens}); got {a.prompt_len}")
    for x in a.lambdas:
        check_lambda(x)
    return a.lambdas, a.chunks


def main(argv: list[str], default_target: Path | None = None, fallback_arch: str = "llama") -> int:
    """The entry point; other entry points reuse it with their own default target (the Qwen3 one's
    ``--alspec``: ``main(argv, registry.checkpoint("tiny-qwen3-coder"), "qwen3")``)."""
    ap = ArgumentParser(
        prog="llama_alspec.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_alspec_args(ap, default_target or registry.checkpoint(DEFAULT_TARGET), fallback_arch)
    a = ap.parse_args(argv)
    lambdas, chunks = check_args(ap, a)
    from models.alspec.runs import run

    run(a, lambdas, chunks)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog="llama_alspec.py"))
