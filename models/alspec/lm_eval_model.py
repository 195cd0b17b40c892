"""The lm-eval (EleutherAI LM Evaluation Harness) model ``ttl-alspec``: a reference checkpoint with verify-only
ALSpec on or off, as the ALSpec paper measured quality (Table 1).  Needs the optional dependency
``pip install '.[eval]'``; nothing else in the project imports this module.

    import models.alspec.lm_eval_model                    # registers "ttl-alspec" with the harness
    lm_eval.simple_evaluate(model="ttl-alspec",
                            model_args="pretrained=checkpoints/tiny-llama3,alspec_lambda=0.1,chunk=128",
                            tasks=[...], task_manager=lm_eval.tasks.TaskManager(include_path=DIR))

    python -m models.alspec.lm_eval_model run --model ttl-alspec --model_args alspec_lambda=0.1 \\
        --tasks alspec_local --include_path DIR         # the harness's own CLI, with the model registered

model_args: ``pretrained`` (checkpoint directory; default the shipped trained ``checkpoints/tiny-llama3``),
``alspec_lambda`` (a number >= 0, or ``None`` / ``off``: exact attention; default off), ``chunk`` (S, a multiple of
32, default 128), ``dtype`` (``fp32`` default, or ``bf16``), ``batch_size`` (users per decode forward, default 8),
``max_length`` (default the checkpoint's ``max_position_embeddings``), ``max_gen_toks`` (default 256),
``add_bos`` (default true: ``<|endoftext|>``, the document separator the checkpoints were trained with, before
every context).  ``device`` is ignored: the reference model runs on the CPU.

What is prefilled and what is decoded (:mod:`models.alspec.scoring`): the context of a ``loglikelihood``
request (prefix token + context tokens) is prefilled with exact attention; the first continuation token is
predicted by that prefill and every later one by a teacher-forced decode step (ALSpec's speculative attention
on a hit).  ``loglikelihood_rolling``: the prefix token alone is prefilled and every token of the text but the
last goes through a decode step (documents longer than ``max_length``: disjoint windows, each later one
conditioned on a prefilled context of the preceding tokens).  ``generate_until``: greedy; the prompt is
prefilled, the first new token comes from the prefill and every later one from a decode step; it stops at the
first ``until`` string (cut from the result), at ``max_gen_toks`` or at the EOS token.  ``alspec_lambda=0``
gives exactly the results of ALSpec off.

Hit rates: :attr:`ALSpecLM.scorer` keeps an :class:`~models.alspec.reference.ALSpecStats` per task (the
harness's ``Instance.task_name``); :meth:`ALSpecLM.alspec_summary` returns them (overall and per layer, with
the fraction of decode steps where ``P <= 2S`` makes the approximation exact).
"""

from __future__ import annotations

if __name__ == "__main__":  # run as the harness CLI: the process-wide defaults first (HF offline, OpenMP)
    from ttl_kernels import env

    env.apply_defaults()

import logging  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from lm_eval.api.model import LM  # noqa: E402
from lm_eval.api.registry import register_model  # noqa: E402

from .scoring import ALSpecScorer, GenRequest, PrefillCache  # noqa: E402

MODEL_NAME = "ttl-alspec"
DEFAULT_TARGET = "tiny-llama3"


def parse_lambda(value) -> float | None:
    """``alspec_lambda`` from model_args: None / "none" / "off" / "" -> None (ALSpec off), else a float >= 0."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "off")):
        return None
    if isinstance(value, bool):
        raise ValueError(f"alspec_lambda: expected a number >= 0 or None; got {value!r}")
    try:
        lam = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"alspec_lambda: expected a number >= 0 or None; got {value!r}") from None
    if not lam >= 0 or lam == float("inf"):
        raise ValueError(f"alspec_lambda: expected a finite number >= 0 or None; got {value!r}")
    return lam


def _int(name: str, value, default: int | None) -> int | None:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected an integer; got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected an integer; got {value!r}") from None


def _bool(name: str, value, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "false", "0", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise ValueError(f"{name}: expected true or false; got {value!r}")


@register_model(MODEL_NAME)
class ALSpecLM(LM):
    """A reference checkpoint behind lm-eval's ``LM`` API with verify-only ALSpec (module docstring)."""

    def __init__(self, pretrained: str | Path | None = None, alspec_lambda=None, chunk=128, dtype: str = "fp32",
                 batch_size=8, max_length=None, max_gen_toks=256, add_bos=True, device=None,
                 scorer: ALSpecScorer | None = None, prefill_cache: PrefillCache | None = None, **kwargs):
        super().__init__()
        kwargs.pop("max_batch_size", None)  # the harness's automatic batch sizing: unused (fixed batch size)
        if kwargs:
            raise ValueError(f"{MODEL_NAME}: unknown model_args {sorted(kwargs)}; expected pretrained, alspec_lambda, "
                             "chunk, dtype, batch_size, max_length, max_gen_toks, add_bos")
        if device not in (None, "", "cpu"):  # the harness CLI passes cuda:0 by default
            logging.getLogger(__name__).warning("device %r ignored: the reference model runs on the CPU", device)
        if isinstance(batch_size, str) and batch_size.startswith("auto"):
            batch_size = None
        if scorer is not None:
            self.scorer = scorer
            self.pretrained = str(pretrained or "<given model>")
        else:
            from reference import registry

            path = Path(pretrained) if pretrained else registry.checkpoint(DEFAULT_TARGET)
            if not path.is_dir():
                raise FileNotFoundError(f"pretrained: no checkpoint directory at {str(path)!r}")
            if dtype not in ("fp32", "bf16"):
                raise ValueError(f"dtype: expected fp32 or bf16; got {dtype!r}")
            self.pretrained = str(path)
            self.scorer = ALSpecScorer.from_pretrained(
                path, dtype=dtype, lambda_=parse_lambda(alspec_lambda), chunk=_int("chunk", chunk, 128),
                batch_size=_int("batch_size", batch_size, 8), max_length=_int("max_length", max_length, None),
                max_gen_toks=_int("max_gen_toks", max_gen_toks, 256), add_bos=_bool("add_bos", add_bos, True),
                prefill_cache=prefill_cache)
        self._device = "cpu"

    @classmethod
    def from_scorer(cls, scorer: ALSpecScorer, name: str = "<given model>") -> ALSpecLM:
        """Wrap an existing :class:`ALSpecScorer` (e.g. a random tiny model in tests)."""
        return cls(pretrained=name, scorer=scorer)

    # ---------------------------------------------------------------------------------- the LM API

    def loglikelihood(self, requests) -> list[tuple[float, bool]]:
        args = [tuple(r.args) for r in requests]
        out = self.scorer.loglikelihood([(c, x) for c, x in args], [self._task(r) for r in requests])
        for a, res in zip(args, out):
            self.cache_hook.add_partial("loglikelihood", a, res)
        return out

    def loglikelihood_rolling(self, requests) -> list[float]:
        texts = [r.args[0] for r in requests]
        out = self.scorer.loglikelihood_rolling(texts, [self._task(r) for r in requests])
        for t, res in zip(texts, out):
            self.cache_hook.add_partial("loglikelihood_rolling", (t,), res)
        return out

    def generate_until(self, requests) -> list[str]:
        reqs = []
        for r in requests:
            context, gen_kwargs = r.args
            reqs.append(self._gen_request(context, dict(gen_kwargs or {})))
        out = self.scorer.generate_until(reqs, [self._task(r) for r in requests])
        for r, res in zip(requests, out):
            self.cache_hook.add_partial("generate_until", r.args, res)
        return out

    # ---------------------------------------------------------------------------------------- glue

    @staticmethod
    def _task(request) -> str:
        return getattr(request, "task_name", None) or "default"

    def _gen_request(self, context: str, kw: dict) -> GenRequest:
        until = kw.pop("until", None)
        until = [until] if isinstance(until, str) else list(until or [])
        if not all(isinstance(u, str) for u in until):
            raise ValueError(f"until: expected a string or a list of strings; got {until!r}")
        max_toks = kw.pop("max_gen_toks", None)
        if kw.pop("do_sample", False) or float(kw.pop("temperature", 0.0) or 0.0) > 0.0:
            raise ValueError(f"{MODEL_NAME}: greedy decoding only (do_sample false, temperature 0)")
        return GenRequest(context, until, _int("max_gen_toks", max_toks, None))

    @property
    def tokenizer_name(self) -> str:
        return f"{MODEL_NAME}:{self.pretrained}"

    @property
    def max_length(self) -> int:
        return self.scorer.max_length

    def get_model_info(self) -> dict:
        s = self.scorer
        return {"model_name": MODEL_NAME, "pretrained": self.pretrained, "alspec_lambda": s.lambda_,
                "chunk": s.chunk, "dtype": str(s.model.dtype).replace("torch.", ""), "max_length": s.max_length,
                "add_bos": s.add_bos}

    def alspec_summary(self) -> dict:
        """Hit rates and decode-step counts, overall and per task (see :meth:`ALSpecScorer.summary`)."""
        return self.scorer.summary()


__all__ = ["ALSpecLM", "MODEL_NAME", "parse_lambda"]


if __name__ == "__main__":  # the harness's own CLI with "ttl-alspec" registered
    from lm_eval.__main__ import cli_evaluate

    sys.argv[0] = "lm-eval"
    cli_evaluate()
