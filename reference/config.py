"""HF ``config.json`` -> :class:`DecoderConfig` for Llama-3 / Qwen3 / Qwen3-MoE decoders (no torch needed).

The one parser of checkpoint configs: the reference model, the kernel-built models, the named-shape registry
(:mod:`reference.registry`) and the benchmarks all read model shapes through :meth:`DecoderConfig.from_hf`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["SUPPORTED_ARCHITECTURES", "DecoderConfig"]

# HF ``architectures`` entry -> our arch name.
SUPPORTED_ARCHITECTURES: dict[str, str] = {"LlamaForCausalLM": "llama", "Qwen3ForCausalLM": "qwen3",
                                            "Qwen3MoeForCausalLM": "qwen3_moe"}
_MODEL_TYPES: dict[str, str] = {"llama": "llama", "qwen3": "qwen3", "qwen3_moe": "qwen3_moe"}
ARCHS = ("llama", "qwen3", "qwen3_moe")
QWEN3_ARCHS = ("qwen3", "qwen3_moe")  # Qwen3 attention (QK-norm, no sliding window); qwen3_moe adds routed experts
_SUPPORTED_ROPE = ("default", "llama3")
_LLAMA3_KEYS = ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings")


def _supported_list() -> str:
    return ", ".join(f"{k} ({v})" for k, v in SUPPORTED_ARCHITECTURES.items())


# ----------------------------------------------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------------------------------------------


@dataclass
class DecoderConfig:
    """Hyper-parameters of a Llama-3 / Qwen3 / Qwen3-MoE decoder (names ours; :meth:`from_hf` maps HF's).

    ``rope_scaling`` is ``None`` for plain RoPE or the HF llama3 dict ``{"rope_type": "llama3", "factor",
    "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}``.  ``qk_norm`` is the Qwen3
    per-head RMSNorm on q and k (before RoPE).  ``eos_token_id`` may be an int or a list of ints (HF allows
    both).  ``attention_bias`` / ``mlp_bias`` are HF's flags (False for every Llama-3 / Qwen3 release).

    Mixture of experts (arch ``"qwen3_moe"``, HF ``Qwen3MoeForCausalLM``; names as transformers spells them):
    ``num_experts`` routed experts per sparse layer (0, the default, means a dense model), of which the router
    picks ``num_experts_per_tok`` per token; each expert is a SwiGLU of width ``moe_intermediate_size``;
    ``norm_topk_prob`` renormalises the k picked probabilities to sum to 1.  Which layers are sparse is
    transformers' rule (:meth:`is_sparse_layer`): layer i is sparse when ``num_experts > 0``, i is not in
    ``mlp_only_layers`` and ``(i + 1) % decoder_sparse_step == 0``; the other layers are dense SwiGLUs of width
    ``intermediate_size``.  Every dense config keeps the defaults (no experts), so dense behaviour is unchanged.
    """

    arch: str
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    rope_scaling: dict | None = None
    tie_word_embeddings: bool = False
    qk_norm: bool = False
    max_position_embeddings: int = 2048
    bos_token_id: int | None = None
    eos_token_id: int | list[int] | None = None
    pad_token_id: int | None = None
    attention_bias: bool = False
    mlp_bias: bool = False
    num_experts: int = 0
    num_experts_per_tok: int = 0
    moe_intermediate_size: int = 0
    decoder_sparse_step: int = 1
    mlp_only_layers: tuple[int, ...] = ()
    norm_topk_prob: bool = False
    extra: dict = field(default_factory=dict, repr=False, compare=False)  # the raw HF dict, for reference

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"DecoderConfig.arch: expected one of {list(ARCHS)}; got {self.arch!r}")
        for name in (
            "vocab_size",
            "hidden_size",
            "intermediate_size",
            "num_layers",
            "num_heads",
            "num_kv_heads",
            "head_dim",
        ):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"DecoderConfig.{name}: expected a positive int; got {v!r}")
        if self.num_heads % self.num_kv_heads:
            raise ValueError(
                f"DecoderConfig.num_heads: expected a multiple of num_kv_heads={self.num_kv_heads} (GQA); got "
                f"{self.num_heads}"
            )
        if self.head_dim % 2:
            raise ValueError(f"DecoderConfig.head_dim: expected an even number (RoPE pairs); got {self.head_dim}")
        if not (self.rms_norm_eps > 0):
            raise ValueError(f"DecoderConfig.rms_norm_eps: expected > 0; got {self.rms_norm_eps!r}")
        if not (self.rope_theta > 0):
            raise ValueError(f"DecoderConfig.rope_theta: expected > 0; got {self.rope_theta!r}")
        if self.rope_scaling is not None:
            kind = self.rope_scaling.get("rope_type")
            if kind != "llama3":
                raise ValueError(f"DecoderConfig.rope_scaling: expected None or a llama3 dict; got rope_type {kind!r}")
            missing = [k for k in _LLAMA3_KEYS if k not in self.rope_scaling]
            if missing:
                raise ValueError(
                    f"DecoderConfig.rope_scaling: llama3 scaling needs {list(_LLAMA3_KEYS)}; missing {missing}"
                )
        self._check_moe()

    def _check_moe(self) -> None:
        self.mlp_only_layers = tuple(self.mlp_only_layers)
        for name in ("num_experts", "num_experts_per_tok", "moe_intermediate_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"DecoderConfig.{name}: expected an int >= 0; got {v!r}")
        step = self.decoder_sparse_step
        if not isinstance(step, int) or isinstance(step, bool) or step < 1:
            raise ValueError(f"DecoderConfig.decoder_sparse_step: expected an int >= 1; got {step!r}")
        bad = [i for i in self.mlp_only_layers if not isinstance(i, int) or isinstance(i, bool) or i < 0]
        if bad:
            raise ValueError(f"DecoderConfig.mlp_only_layers: expected layer ids >= 0; got {bad}")
        if self.num_experts == 0:
            return
        if self.arch != "qwen3_moe":
            raise ValueError(f"DecoderConfig.num_experts: routed experts need arch 'qwen3_moe'; got arch {self.arch!r} "
                             f"with num_experts={self.num_experts}")
        if not 1 <= self.num_experts_per_tok <= self.num_experts:
            raise ValueError(f"DecoderConfig.num_experts_per_tok: expected 1..num_experts={self.num_experts}; got "
                             f"{self.num_experts_per_tok}")
        if self.moe_intermediate_size < 1:
            raise ValueError(f"DecoderConfig.moe_intermediate_size: expected a positive int with num_experts="
                             f"{self.num_experts}; got {self.moe_intermediate_size}")

    # -- derived ---------------------------------------------------------------------------------------

    @property
    def num_groups(self) -> int:
        """Query heads per KV head (GQA group size)."""
        return self.num_heads // self.num_kv_heads

    @property
    def eos_token_ids(self) -> list[int]:
        """``eos_token_id`` as a (possibly empty) list."""
        e = self.eos_token_id
        if e is None:
            return []
        return [int(x) for x in e] if isinstance(e, (list, tuple)) else [int(e)]

    @property
    def is_moe(self) -> bool:
        """True when some layers route to experts (``num_experts > 0``)."""
        return self.num_experts > 0

    def is_sparse_layer(self, layer_idx: int) -> bool:
        """Whether layer ``layer_idx`` is a routed-experts block (transformers' ``Qwen3MoeDecoderLayer`` rule:
        ``num_experts > 0``, not in ``mlp_only_layers``, ``(layer_idx + 1) % decoder_sparse_step == 0``)."""
        return (self.num_experts > 0 and layer_idx not in self.mlp_only_layers
                and (layer_idx + 1) % self.decoder_sparse_step == 0)

    @property
    def sparse_layers(self) -> list[int]:
        """The ids of the routed-experts layers (empty for a dense model)."""
        return [i for i in range(self.num_layers) if self.is_sparse_layer(i)]

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("extra")
        d["mlp_only_layers"] = list(d["mlp_only_layers"])
        return d

    # -- HF parsing ------------------------------------------------------------------------------------

    @classmethod
    def from_hf(cls, source: dict | str | os.PathLike | Any) -> DecoderConfig:
        """Parse an HF ``config.json`` for ``LlamaForCausalLM``, ``Qwen3ForCausalLM`` or ``Qwen3MoeForCausalLM``.

        ``source`` is the parsed dict, a path to ``config.json`` or to the directory holding it, or an HF
        ``PretrainedConfig`` (anything with ``to_dict()``).  RoPE parameters are read in both spellings:
        transformers >= 5 (``rope_parameters: {rope_type, rope_theta, ...}``) and older
        (top-level ``rope_theta`` plus ``rope_scaling: {rope_type|type, ...}``); as in HF, ``rope_scaling``
        wins over ``rope_parameters`` when both are given, and llama3 scaling without
        ``original_max_position_embeddings`` falls back to ``max_position_embeddings``.

        Qwen3-MoE fields: ``num_experts`` (transformers >= 5 writes it as ``num_local_experts``; either is
        read), ``num_experts_per_tok`` and ``moe_intermediate_size`` are required; ``decoder_sparse_step``
        (default 1), ``mlp_only_layers`` (default none) and ``norm_topk_prob`` (default false) default as in
        transformers' ``Qwen3MoeConfig``; ``router_aux_loss_coef`` / ``output_router_logits`` (training only)
        are ignored.  A Qwen3-MoE config with a shared expert (``shared_expert_intermediate_size`` > 0, which
        transformers' Qwen3-MoE would silently ignore) is rejected.

        Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for an unsupported architecture
        (listing the supported ones), an unsupported RoPE type, a non-SiLU activation, sliding-window
        attention or bad MoE fields (naming the field).
        """
        if isinstance(source, (str, os.PathLike)):
            p = Path(source)
            if p.is_dir():
                p = p / "config.json"
            if not p.is_file():
                raise FileNotFoundError(f"DecoderConfig.from_hf: no config.json at {str(p)!r}")
            with open(p, encoding="utf-8") as f:
                d = json.load(f)
        elif isinstance(source, dict):
            d = dict(source)
        elif hasattr(source, "to_dict"):
            d = source.to_dict()
        else:
            raise ValueError(
                f"DecoderConfig.from_hf: expected a dict, a path or an HF config; got {type(source).__name__}"
            )

        arch = _detect_arch(d)
        get = d.get
        hidden = _req(d, "hidden_size")
        heads = _req(d, "num_attention_heads")
        kv = get("num_key_value_heads") or heads
        head_dim = get("head_dim") or hidden // heads
        act = get("hidden_act", "silu")
        if act != "silu":
            raise ValueError(f"config.json hidden_act: expected 'silu'; got {act!r}")
        if arch in QWEN3_ARCHS:
            if get("use_sliding_window", False):
                raise ValueError(
                    "config.json use_sliding_window: sliding-window attention is not supported (expected false)"
                )
            lt = get("layer_types")
            if lt and any(t != "full_attention" for t in lt):
                raise ValueError(f"config.json layer_types: expected only 'full_attention'; got {sorted(set(lt))}")
        max_pos = int(get("max_position_embeddings", 2048 if arch == "llama" else 32768))
        theta, scaling = _parse_rope(d, max_pos)
        moe = _parse_moe(d) if arch == "qwen3_moe" else {}
        return cls(
            arch=arch,
            vocab_size=int(_req(d, "vocab_size")),
            hidden_size=int(hidden),
            intermediate_size=int(_req(d, "intermediate_size")),
            num_layers=int(_req(d, "num_hidden_layers")),
            num_heads=int(heads),
            num_kv_heads=int(kv),
            head_dim=int(head_dim),
            rms_norm_eps=float(get("rms_norm_eps", 1e-6)),
            rope_theta=theta,
            rope_scaling=scaling,
            tie_word_embeddings=bool(get("tie_word_embeddings", False)),
            qk_norm=arch in QWEN3_ARCHS,
            max_position_embeddings=max_pos,
            bos_token_id=get("bos_token_id"),
            eos_token_id=get("eos_token_id"),
            pad_token_id=get("pad_token_id"),
            attention_bias=bool(get("attention_bias", False)),
            mlp_bias=bool(get("mlp_bias", False)) if arch == "llama" else False,
            **moe,
            extra=d,
        )


def _req(d: dict, key: str):
    if d.get(key) is None:
        raise ValueError(f"config.json: required field {key!r} is missing")
    return d[key]


def _parse_moe(d: dict) -> dict:
    """The Qwen3-MoE fields of an HF config (see :meth:`DecoderConfig.from_hf`)."""
    n, n_local = d.get("num_experts"), d.get("num_local_experts")
    if n is not None and n_local is not None and n != n_local:
        raise ValueError(f"config.json num_experts: {n} disagrees with num_local_experts {n_local}")
    n = n if n is not None else n_local
    if n is None:
        raise ValueError("config.json: required field 'num_experts' (or 'num_local_experts') is missing")
    shared = d.get("shared_expert_intermediate_size") or 0
    if shared:
        raise ValueError(f"config.json shared_expert_intermediate_size: shared experts are not supported by "
                         f"Qwen3-MoE (expected 0); got {shared}")
    out = {"num_experts": n, "num_experts_per_tok": _req(d, "num_experts_per_tok"),
           "moe_intermediate_size": _req(d, "moe_intermediate_size"),
           "decoder_sparse_step": d.get("decoder_sparse_step", 1), "mlp_only_layers": d.get("mlp_only_layers") or []}
    for k, v in out.items():
        if k == "mlp_only_layers":
            if not isinstance(v, (list, tuple)) or not all(isinstance(i, int) and not isinstance(i, bool) for i in v):
                raise ValueError(f"config.json mlp_only_layers: expected a list of layer ids; got {v!r}")
        elif not isinstance(v, int) or isinstance(v, bool):
            raise ValueError(f"config.json {k}: expected an integer; got {v!r}")
    out["mlp_only_layers"] = tuple(out["mlp_only_layers"])
    out["norm_topk_prob"] = bool(d.get("norm_topk_prob", False))
    return out


def _detect_arch(d: dict) -> str:
    archs = d.get("architectures") or []
    if isinstance(archs, str):
        archs = [archs]
    for a in archs:
        if a in SUPPORTED_ARCHITECTURES:
            return SUPPORTED_ARCHITECTURES[a]
    if archs:
        raise ValueError(
            f"config.json architectures: unsupported {archs}; supported architectures: {_supported_list()}"
        )
    mt = d.get("model_type")
    if mt in _MODEL_TYPES:
        return _MODEL_TYPES[mt]
    raise ValueError(
        f"config.json: unsupported model (architectures missing, model_type {mt!r}); "
        f"supported architectures: {_supported_list()}"
    )


def _parse_rope(d: dict, max_pos: int) -> tuple[float, dict | None]:
    """(theta, llama3 dict or None) from either HF spelling (see :meth:`DecoderConfig.from_hf`)."""
    params = d.get("rope_scaling") or d.get("rope_parameters") or {}
    if not isinstance(params, dict):
        raise ValueError(f"config.json rope_parameters/rope_scaling: expected a dict; got {params!r}")
    if any(isinstance(v, dict) for v in params.values()):
        raise ValueError("config.json rope_parameters: per-layer-type RoPE parameters are not supported")
    theta = params.get("rope_theta")
    if theta is None:
        theta = d.get("rope_theta", 10000.0)
    kind = params.get("rope_type", params.get("type", "default")) or "default"
    if kind not in _SUPPORTED_ROPE:
        raise ValueError(f"config.json rope type: unsupported {kind!r}; supported: {list(_SUPPORTED_ROPE)}")
    if params.get("partial_rotary_factor", d.get("partial_rotary_factor", 1.0)) not in (None, 1, 1.0):
        raise ValueError("config.json partial_rotary_factor: expected 1.0 (partial RoPE is not supported)")
    if kind == "default":
        return float(theta), None
    missing = [k for k in _LLAMA3_KEYS[:3] if k not in params]
    if missing:
        raise ValueError(f"config.json rope parameters: llama3 scaling needs {missing}")
    old_ctx = params.get("original_max_position_embeddings", d.get("original_max_position_embeddings", max_pos))
    scaling = {"rope_type": "llama3", **{k: float(params[k]) for k in _LLAMA3_KEYS[:3]},
               "original_max_position_embeddings": int(old_ctx)}
    return float(theta), scaling
