"""Named model shapes, each read from a checkpoint config: the one registry the compile checks, benchmarks,
latency models and random stand-ins use.

* ``tiny-qwen3`` / ``tiny-llama``: the project's shipped trained checkpoints (``checkpoints/tiny-qwen3-coder``,
  ``checkpoints/tiny-llama3``): their ``config.json`` is the shape, so a retrained checkpoint changes it
  everywhere at once.
* the public models: their published ``config.json`` fields, kept in ``reference/configs/<name>.json``
  (package data; no weights): the dense ones (:data:`PUBLISHED`) and the mixture-of-experts ones
  (:data:`PUBLISHED_MOE`, e.g. ``qwen3-coder-30b-a3b``, the target of zoecarver's TT-Lang DFlash).

:func:`names` (what ``ttl_kernels.shapes.MODEL_SHAPES`` and so every kernel family's compile cases iterate)
lists the models the kernel-built decoder serves: the dense ones.  The MoE entries are registered
(:func:`config`, :func:`hf_dict`, :data:`NAMED`) but left out of ``names()`` until the kernel model has a
routed-experts MLP: its compile-only step would otherwise lower a dense SwiGLU of ``intermediate_size`` for
a model none of whose layers has one.  ``names(include_moe=True)`` lists them too.

Every entry is parsed by :meth:`reference.config.DecoderConfig.from_hf`, the one HF-config parser.
"""

from __future__ import annotations

import json
import sysconfig
from functools import cache
from pathlib import Path

from ttl_kernels import env

from .config import DecoderConfig

__all__ = ["CHECKPOINTS", "DRAFTS", "NAMED", "PUBLISHED", "PUBLISHED_MOE", "checkpoint", "checkpoints_dir", "config",
           "draft_dict", "hf_dict", "names"]

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
SHARE = Path("share") / "ttl-kernels" / "checkpoints"  # where `pip install .` puts the shipped checkpoints

# the shipped trained checkpoints: registry name -> directory name under checkpoints/
CHECKPOINTS = {
    "tiny-qwen3": "tiny-qwen3-coder",
    "tiny-llama": "tiny-llama3",
}
# the public models whose published config.json is in reference/configs/: dense, then mixture-of-experts
PUBLISHED = ("qwen3-0.6b", "qwen3-8b", "llama-3.1-8b")
PUBLISHED_MOE = ("qwen3-coder-30b-a3b",)
NAMED = (*CHECKPOINTS, *PUBLISHED, *PUBLISHED_MOE)
# DFlash drafts (z-lab format): registry name -> (its target's registry name, shipped checkpoint dir or config file)
DRAFTS = {
    "tiny-qwen3-dflash-b16": ("tiny-qwen3", "checkpoint:tiny-qwen3-coder-dflash-b16"),
    "qwen3-8b-dflash-b16": ("qwen3-8b", "config:qwen3-8b-dflash-b16.json"),
}


def checkpoints_dir() -> Path:
    """``$TTL_KERNELS_CHECKPOINTS``, else the checkout's ``checkpoints/``, else the installed copy."""
    override = env.get("TTL_KERNELS_CHECKPOINTS")
    if override:
        return Path(override)
    root = env.repo_root()
    if root is not None and (root / "checkpoints").is_dir():
        return root / "checkpoints"
    return Path(sysconfig.get_paths()["data"]) / SHARE


def checkpoint(dirname: str) -> Path:
    """Path of a shipped checkpoint directory (it may not exist: `make train` writes them)."""
    return checkpoints_dir() / dirname


def draft_dict(name: str) -> tuple[str, dict]:
    """(the target's registry name, the raw z-lab config dict) of a named DFlash draft (parse it with
    :meth:`models.dflash.DFlashConfig.from_hf`)."""
    if name not in DRAFTS:
        raise ValueError(f"draft: expected one of {', '.join(DRAFTS)}; got {name!r}")
    target, where = DRAFTS[name]
    kind, ref = where.split(":", 1)
    path = (checkpoint(ref) / "config.json") if kind == "checkpoint" else CONFIG_DIR / ref
    if not path.is_file():
        raise FileNotFoundError(f"draft {name!r}: no config at {str(path)!r}")
    d = json.loads(path.read_text())
    d.pop("_source", None)
    return target, d


def names(include_moe: bool = False) -> tuple[str, ...]:
    """The models the kernels serve (shipped checkpoints and dense published configs); with ``include_moe``
    also the mixture-of-experts configs (see the module docstring)."""
    return NAMED if include_moe else tuple(n for n in NAMED if n not in PUBLISHED_MOE)


@cache
def hf_dict(name: str) -> dict:
    """The raw HF config dict of a named model."""
    if name in CHECKPOINTS:
        path = checkpoint(CHECKPOINTS[name]) / "config.json"
    elif name in PUBLISHED or name in PUBLISHED_MOE:
        path = CONFIG_DIR / f"{name}.json"
    else:
        raise ValueError(f"model: expected one of {', '.join(NAMED)}; got {name!r}")
    if not path.is_file():
        raise FileNotFoundError(f"model {name!r}: no config at {str(path)!r}")
    d = json.loads(path.read_text())
    d.pop("_source", None)
    return d


def config(name: str, **overrides) -> DecoderConfig:
    """The :class:`DecoderConfig` of a named model (``overrides``: fields replaced, e.g. ``num_layers=1``)."""
    c = DecoderConfig.from_hf(hf_dict(name))
    if overrides:
        from dataclasses import replace

        c = replace(c, **overrides)
    return c
