"""Named model shapes, each read from a checkpoint config: the one registry the compile checks, benchmarks,
latency models and random stand-ins use.

* ``tiny-qwen3`` / ``tiny-llama``: the project's shipped trained checkpoints (``checkpoints/tiny-qwen3-coder``,
  ``checkpoints/tiny-llama3``): their ``config.json`` is the shape, so a retrained checkpoint changes it
  everywhere at once.
* the public models: their published ``config.json`` fields, kept in ``reference/configs/<name>.json``
  (package data; no weights).

Every entry is parsed by :meth:`reference.config.DecoderConfig.from_hf`, the one HF-config parser.
"""

from __future__ import annotations

import json
import sysconfig
from functools import cache
from pathlib import Path

from ttl_kernels import env

from .config import DecoderConfig

__all__ = ["CHECKPOINTS", "NAMED", "checkpoint", "checkpoints_dir", "config", "hf_dict", "names"]

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
SHARE = Path("share") / "ttl-kernels" / "checkpoints"  # where `pip install .` puts the shipped checkpoints

# the shipped trained checkpoints: registry name -> directory name under checkpoints/
CHECKPOINTS = {
    "tiny-qwen3": "tiny-qwen3-coder",
    "tiny-llama": "tiny-llama3",
}
# the public models whose published config.json is in reference/configs/
PUBLISHED = ("qwen3-0.6b", "qwen3-8b", "llama-3.1-8b")
NAMED = (*CHECKPOINTS, *PUBLISHED)


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


def names() -> tuple[str, ...]:
    return NAMED


@cache
def hf_dict(name: str) -> dict:
    """The raw HF config dict of a named model."""
    if name in CHECKPOINTS:
        path = checkpoint(CHECKPOINTS[name]) / "config.json"
    elif name in PUBLISHED:
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
