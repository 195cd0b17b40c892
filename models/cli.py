"""What the entry points share: the argument parser, validation of every flag, prompts, and one way to fail.

Failing cleanly: a bad argument is one line on stderr (``<prog>: error: <flag>: <what was expected>``) and
exit status 2, before any model is loaded; a run that fails later is one line and exit status 1.  ``--debug``
keeps the traceback.  :func:`run_main` wraps an entry point's ``main`` to do that.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from . import corpus
from .targets import BACKENDS

EXIT_USAGE = 2
EXIT_FAILED = 1


class UsageError(ValueError):
    """A bad argument found after parsing (e.g. a prompts file without prompts): exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage block) and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse's hook
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def int_in(lo: int, hi: int | None = None, name: str = "value") -> Callable[[str], int]:
    """argparse type: an int in ``[lo, hi]`` (``hi`` None: no upper bound); the message names the range."""

    def parse(text: str) -> int:
        want = f"an integer >= {lo}" if hi is None else f"an integer in {lo}..{hi}"
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {want}; got {text!r}") from None
        if v < lo or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"expected {want}; got {v}")
        return v

    parse.__name__ = name
    return parse


def float_in(
    lo: float, hi: float | None = None, *, lo_open: bool = False, name: str = "value"
) -> Callable[[str], float]:
    """argparse type: a finite float >= ``lo`` (> ``lo`` when ``lo_open``), <= ``hi`` when given."""

    def parse(text: str) -> float:
        bound = f"{'>' if lo_open else '>='} {lo:g}" + ("" if hi is None else f" and <= {hi:g}")
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number {bound}; got {text!r}") from None
        if not math.isfinite(v) or v < lo or (lo_open and v == lo) or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"expected a number {bound}; got {text}")
        return v

    parse.__name__ = name
    return parse


def csv_of(item: Callable[[str], object], name: str = "list") -> Callable[[str], list]:
    """argparse type: a comma-separated, non-empty list of ``item`` values."""

    def parse(text: str) -> list:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list; got {text!r}")
        return [item(p) for p in parts]

    parse.__name__ = name
    return parse


def existing_dir(text: str) -> Path:
    p = Path(text)
    if not p.is_dir():
        raise argparse.ArgumentTypeError(f"no directory at {text!r}")
    return p


def add_common_args(ap: argparse.ArgumentParser, default_target: Path) -> None:
    """The flags every speculative-decoding entry point takes (each validated at parse time)."""
    ap.add_argument("--backend", choices=BACKENDS, default="torch",
                    help="torch: reference model on the CPU; sim: TT-Lang kernels on the simulator; device: a "
                         "Tenstorrent card")
    ap.add_argument("--target", type=existing_dir, default=None,
                    help=f"HF checkpoint directory of the target (default: {default_target})")
    ap.add_argument("--prompt", action="append", default=[], help="a prompt (repeatable)")
    ap.add_argument("--prompts", default=None, help="a file of prompts: a JSON list of strings, or one prompt per line")
    ap.add_argument("--num-prompts", type=int_in(1, 1000), default=8,
                    help="file prefixes used when no prompt is given (1..1000)")
    ap.add_argument("--prompt-set", choices=("heldout", "ood"), default="heldout",
                    help="where those prefixes come from: held-out stdlib files (never trained on), or 'ood': "
                         "installed third-party packages (code of a kind the tiny models never saw)")
    ap.add_argument("--max-new-tokens", type=int_in(1, 100_000), default=96, help="tokens to generate per prompt")
    ap.add_argument("--max-seq-len", type=int_in(32), default=None,
                    help="sim/device: positions of the kernel model's KV cache (default: the checkpoint's "
                         "max_position_embeddings)")
    ap.add_argument("--weights-dtype", choices=("fp32", "bf16", "bfp8_b", "bfp4_b"), default="bf16",
                    help="sim/device: projection and LM-head weights (activations fp32 with fp32 weights, else bf16)")
    ap.add_argument("--temperature", type=float_in(0.0), default=0.0, help="0 = greedy")
    ap.add_argument("--top-p", type=float_in(0.0, 1.0, lo_open=True), default=None)
    ap.add_argument("--top-k", type=int_in(1), default=None)
    ap.add_argument("--seed", type=int_in(0), default=0)
    ap.add_argument("--json", default=None, help="write the figures as JSON here")
    ap.add_argument("--quiet", action="store_true", help="no progress display and no generated text")
    ap.add_argument("--debug", action="store_true", help="on failure, print the traceback (default: one line)")
    ap.set_defaults(default_target=default_target)


def load_prompts(a, tokenizer) -> list[str]:
    """``--prompt`` s, then the prompts of ``--prompts`` (a JSON list of strings, or one prompt per non-empty
    line), else ``--num-prompts`` held-out prefixes.  A file that yields no prompt is a :class:`UsageError`."""
    prompts = list(a.prompt)
    if any(not p for p in prompts):
        raise UsageError("--prompt: expected a non-empty prompt")
    if a.prompts:
        path = Path(a.prompts)
        if not path.is_file():
            raise UsageError(f"--prompts: no file at {a.prompts!r}")
        text = path.read_text()
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None  # not JSON: one prompt per line
            found = [line for line in text.splitlines() if line.strip()]
        else:
            if not isinstance(data, list) or not all(isinstance(p, str) and p for p in data):
                raise UsageError(f"--prompts: {a.prompts!r} is JSON but not a list of non-empty strings "
                                 f"(got {type(data).__name__}); give a JSON list of strings or one prompt per line")
            found = list(data)
        if not found:
            raise UsageError(f"--prompts: {a.prompts!r} holds no prompt")
        prompts += found
    if prompts:
        return prompts
    if getattr(a, "prompt_set", "heldout") == "ood":
        found = corpus.ood_prompts(tokenizer, a.num_prompts)
        if not found:
            raise UsageError(f"--prompt-set ood: none of {', '.join(corpus.OOD_PACKAGES)} is installed")
        return found
    return corpus.heldout_prompts(tokenizer, a.num_prompts)


def run_main(main: Callable[[list[str]], int], argv: list[str] | None = None, prog: str | None = None) -> int:
    """Run an entry point's ``main(argv)``: usage errors exit 2, failures exit 1, each as one line on stderr
    (``--debug``: with the traceback)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = prog or Path(sys.argv[0]).name
    debug = "--debug" in argv
    try:
        return int(main(argv) or 0)
    except SystemExit as e:  # argparse: --help (0) or a bad argument (2, message already printed)
        return int(e.code or 0) if not isinstance(e.code, str) else EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except UsageError as e:
        if debug:
            traceback.print_exc()
        print(f"{prog}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - an entry point reports every failure as one line
        if debug:
            traceback.print_exc()
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"{prog}: error: {type(e).__name__}: {msg}", file=sys.stderr)
        return EXIT_FAILED
