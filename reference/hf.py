"""Load local HF checkpoints (Llama-3 / Qwen3 / Qwen3-MoE) into the reference models, offline only.

A checkpoint is a local directory with ``config.json`` and safetensors weights, either one
``model.safetensors`` or shards listed in ``model.safetensors.index.json``; the tokenizer comes from the
same directory.  Nothing here ever touches the network: a path that is not a local directory (say a hub
id) is a ``FileNotFoundError``, weights are read with safetensors from local files, and the tokenizer with
``local_files_only=True``.  (The entry points also set ``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE``:
:func:`ttl_kernels.env.apply_defaults`; importing this module changes no environment variable.)

Weights are read through ``safetensors.safe_open`` (memory-mapped; shapes are checked from the headers
before any tensor is read) and copied key for key into the module, whose parameter names are HF's.
Every problem is reported at once in one :class:`CheckpointError` (a ``ValueError``): missing keys,
unexpected keys, and shape mismatches (``key: checkpoint (..) != expected (..)``).  Accepted without
complaint: no ``lm_head.weight`` when ``tie_word_embeddings`` is true (the head is the embedding), an
``lm_head.weight`` of the right shape in a tied checkpoint (ignored, as HF does), and the stale
``...rotary_emb.inv_freq`` buffers of old Llama checkpoints (ignored; recomputed from the config).

Qwen3-MoE (:mod:`reference.moe`): the per-expert keys of the published checkpoints
(``model.layers.{i}.mlp.gate.weight``, ``model.layers.{i}.mlp.experts.{e}.{gate,up,down}_proj.weight``), which
is also what transformers 5's ``save_pretrained`` writes; a missing expert weight is a missing key, a router
whose row count differs from ``num_experts`` a shape mismatch (with a note naming the field), and fused
expert tensors (``mlp.experts.gate_up_proj`` / ``down_proj``, transformers 5's in-memory layout) unexpected
keys (with a note).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from torch import nn

from . import BF16, FP32
from .config import DecoderConfig
from .decoder import Decoder
from .llama import LlamaModel
from .qwen3 import Qwen3Model
from .qwen3_moe import Qwen3MoeModel

__all__ = ["CheckpointError", "MODEL_CLASSES", "load_pretrained", "load_tokenizer", "read_config", "weight_index"]

MODEL_CLASSES: dict[str, type[Decoder]] = {"llama": LlamaModel, "qwen3": Qwen3Model, "qwen3_moe": Qwen3MoeModel}
SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
_DTYPES = {"bf16": BF16, "bfloat16": BF16, "fp32": FP32, "float32": FP32}


class CheckpointError(ValueError):
    """The checkpoint does not fit the model; ``missing``, ``unexpected``, ``mismatched`` list why (``notes``:
    hints on the likely cause, e.g. a router shape that disagrees with ``num_experts``)."""

    def __init__(self, path: str, missing: list[str], unexpected: list[str], mismatched: list[str],
                 notes: list[str] | None = None):
        self.missing, self.unexpected, self.mismatched = missing, unexpected, mismatched
        self.notes = list(notes or [])
        parts = [f"checkpoint {path!r} does not match the model:"]
        if missing:
            parts.append(f"  missing keys ({len(missing)}): " + ", ".join(missing))
        if unexpected:
            parts.append(f"  unexpected keys ({len(unexpected)}): " + ", ".join(unexpected))
        if mismatched:
            parts.append(f"  shape mismatches ({len(mismatched)}): " + "; ".join(mismatched))
        parts += [f"  note: {n}" for n in self.notes]
        super().__init__("\n".join(parts))


def _local_dir(path: str | os.PathLike, what: str) -> Path:
    p = Path(path)
    if not p.is_dir():
        raise FileNotFoundError(
            f"{what}: {str(path)!r} is not a local directory (loading is offline only: pass the directory "
            f"holding config.json and the safetensors files; nothing is downloaded)")
    return p


def read_config(path: str | os.PathLike) -> DecoderConfig:
    """:meth:`DecoderConfig.from_hf` of ``path/config.json``."""
    return DecoderConfig.from_hf(_local_dir(path, "read_config path") / "config.json")


def weight_index(path: str | os.PathLike) -> dict[str, Path]:
    """Map every tensor name to the safetensors file holding it (single file or sharded index).

    Raises ``FileNotFoundError`` when there are no safetensors weights or shards named by the index are
    absent (all listed), ``CheckpointError`` when the index names a tensor its shard lacks."""
    from safetensors import safe_open

    p = _local_dir(path, "weight_index path")
    single, index = p / SINGLE_FILE, p / INDEX_FILE
    if single.is_file():
        with safe_open(str(single), framework="pt") as f:
            return {k: single for k in f.keys()}
    if not index.is_file():
        present = sorted(x.name for x in p.iterdir())
        raise FileNotFoundError(
            f"no safetensors weights in {str(p)!r}: expected {SINGLE_FILE} or {INDEX_FILE} "
            f"(pytorch_model.bin is not supported); found {present}")
    with open(index, encoding="utf-8") as f:
        weight_map: dict[str, str] = json.load(f).get("weight_map") or {}
    if not weight_map:
        raise CheckpointError(str(p), [f"{INDEX_FILE} has an empty weight_map"], [], [])
    shards = sorted(set(weight_map.values()))
    absent = [s for s in shards if not (p / s).is_file()]
    if absent:
        raise FileNotFoundError(f"{str(p)!r}: shards named in {INDEX_FILE} are missing: {absent}")
    out: dict[str, Path] = {}
    not_in_shard: list[str] = []
    for s in shards:
        with safe_open(str(p / s), framework="pt") as f:
            have = set(f.keys())
        for k, v in weight_map.items():
            if v == s:
                if k in have:
                    out[k] = p / s
                else:
                    not_in_shard.append(f"{k} (index says {s}, which lacks it)")
    if not_in_shard:
        raise CheckpointError(str(p), sorted(not_in_shard), [], [])
    return out


def _as_dtype(dtype) -> torch.dtype:
    if isinstance(dtype, str):
        if dtype.lower() not in _DTYPES:
            raise ValueError(
                f"load_pretrained dtype: expected one of {sorted(_DTYPES)} or a torch dtype; got {dtype!r}"
            )
        return _DTYPES[dtype.lower()]
    if dtype not in (BF16, FP32):
        raise ValueError(f"load_pretrained dtype: expected reference.BF16 or torch.float32; got {dtype}")
    return dtype


def _ignorable(key: str) -> bool:
    return key.endswith("rotary_emb.inv_freq")


def _moe_notes(config: DecoderConfig, unexpected: list[str], mismatched: list[str]) -> list[str]:
    """Hints for the Qwen3-MoE ways a checkpoint can disagree with its config."""
    notes = []
    routers = [m.split(":")[0] for m in mismatched if m.split(":")[0].endswith(".mlp.gate.weight")]
    if routers:
        notes.append(f"router weights {routers} have one row per expert: config.json num_experts="
                     f"{config.num_experts} (hidden_size={config.hidden_size}) disagrees with the checkpoint")
    if any(k.endswith((".mlp.experts.gate_up_proj", ".mlp.experts.down_proj")) for k in unexpected):
        notes.append("fused expert tensors (mlp.experts.gate_up_proj / down_proj, transformers 5's in-memory "
                     "layout) are not read: save with transformers' save_pretrained, which writes the per-expert "
                     "keys mlp.experts.{e}.{gate,up,down}_proj.weight")
    if unexpected and not config.is_moe and any(".mlp.experts." in k or k.endswith(".mlp.gate.weight")
                                                 for k in unexpected):
        notes.append("the checkpoint has expert weights but config.json describes a dense model")
    return notes


def load_pretrained(path: str | os.PathLike, dtype: torch.dtype | str = BF16, *,
                    expect_arch: str | None = None) -> tuple[Decoder, DecoderConfig]:
    """Build the reference model for the local HF checkpoint directory ``path`` and load its weights.

    Returns ``(model, config)``: a :class:`LlamaModel`, :class:`Qwen3Model` or :class:`Qwen3MoeModel`
    (chosen by ``config.json``'s ``architectures``) in ``dtype`` (``reference.BF16`` / ``torch.float32`` or
    "bf16" / "fp32"), in eval mode with frozen parameters (``requires_grad_()`` them to train), and its
    :class:`DecoderConfig`.  ``expect_arch`` ("llama" / "qwen3" / "qwen3_moe") rejects other architectures.

    Errors (before any tensor is read): ``FileNotFoundError`` for a path that is not a local directory,
    a missing config.json, missing weights or shards; ``ValueError`` for an unsupported architecture
    (listing the supported ones) or config; :class:`CheckpointError` listing every missing, unexpected
    and mis-shaped key.
    """
    from safetensors import safe_open

    dtype = _as_dtype(dtype)
    p = _local_dir(path, "load_pretrained path")
    config = read_config(p)
    if expect_arch is not None and config.arch != expect_arch:
        raise ValueError(f"load_pretrained: expected a {expect_arch!r} checkpoint; {str(p)!r} is {config.arch!r}")
    files = weight_index(p)

    with torch.device("meta"):
        model = MODEL_CLASSES[config.arch](config, dtype)
    expected = {k: tuple(t.shape) for k, t in model.state_dict().items()}
    optional = {"lm_head.weight"} if config.tie_word_embeddings else set()

    shapes: dict[str, tuple[int, ...]] = {}
    dtypes: dict[str, str] = {}
    by_file: dict[Path, list[str]] = {}
    for k, fpath in files.items():
        by_file.setdefault(fpath, []).append(k)
    for fpath, keys in by_file.items():
        with safe_open(str(fpath), framework="pt") as f:
            for k in keys:
                sl = f.get_slice(k)
                shapes[k] = tuple(sl.get_shape())
                dtypes[k] = sl.get_dtype()

    missing = sorted(k for k in expected if k not in shapes and k not in optional)
    unexpected = sorted(k for k in shapes if k not in expected and not _ignorable(k))
    mismatched = sorted(f"{k}: checkpoint {shapes[k]} != expected {expected[k]}"
                        for k in expected if k in shapes and shapes[k] != expected[k])
    not_float = sorted(f"{k}: dtype {dtypes[k]} is not floating point" for k in expected
                       if k in dtypes and dtypes[k] not in ("F32", "F16", "BF16", "F64"))
    if missing or unexpected or mismatched or not_float:
        raise CheckpointError(str(p), missing, unexpected, mismatched + not_float,
                              _moe_notes(config, unexpected, mismatched))

    load = [k for k in expected if k in shapes and k not in optional]
    modules = dict(model.named_modules())
    for fpath, keys in by_file.items():
        keyset = set(keys)
        with safe_open(str(fpath), framework="pt") as f:
            for k in load:
                if k not in keyset:
                    continue
                mod_name, _, pname = k.rpartition(".")
                t = f.get_tensor(k).to(dtype)
                setattr(modules[mod_name], pname, nn.Parameter(t, requires_grad=False))
    model.tie_weights()
    left = [n for n, t in model.state_dict().items() if t.is_meta]
    if left:  # cannot happen when the key checks above passed; guards the loader itself
        raise CheckpointError(str(p), left, [], [])
    model.eval()
    return model, config


def load_tokenizer(path: str | os.PathLike):
    """The tokenizer stored with a checkpoint, offline (``local_files_only=True``).

    With a ``tokenizer_config.json``: ``transformers.AutoTokenizer``; with only a ``tokenizer.json``: a
    ``PreTrainedTokenizerFast`` over it.  ``FileNotFoundError`` when the directory or the tokenizer files
    are missing; ``ValueError`` (with transformers' reason) when they cannot be read."""
    p = _local_dir(path, "load_tokenizer path")
    tj, tc, sp = p / "tokenizer.json", p / "tokenizer_config.json", p / "tokenizer.model"
    if not (tj.is_file() or tc.is_file() or sp.is_file()):
        raise FileNotFoundError(
            f"no tokenizer in {str(p)!r}: expected tokenizer.json (or tokenizer_config.json with "
            f"tokenizer.model); found {sorted(x.name for x in p.iterdir())}")
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    try:
        if tc.is_file():
            return AutoTokenizer.from_pretrained(str(p), local_files_only=True)
        if tj.is_file():
            return PreTrainedTokenizerFast(tokenizer_file=str(tj))
    except Exception as e:  # tokenizers raises a bare Exception for a corrupt tokenizer.json
        raise ValueError(f"load_tokenizer: cannot read the tokenizer in {str(p)!r}: {e}") from e
    raise FileNotFoundError(f"no tokenizer in {str(p)!r}: tokenizer.model needs a tokenizer_config.json beside it")
