"""Run kernel calls on the simulator with the op counter on, on each chip's core grid, and model them.

The simulator mirrors n150's 8x8 grid by default; to model a p150 the call runs again with the kernels
seeing its 13x10 grid (:func:`chip_grid`), so per-core work is what a p150 launch would give each core.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import contextmanager

import torch

from .. import host, runtime
from ..trace import trace_traffic
from .counter import CallCounts, OpCounter
from .hardware import CHIPS, DEFAULT_FIDELITY, grid
from .model import KernelModel, model


@contextmanager
def chip_grid(chip: str | None):
    """Kernels called inside see ``chip``'s worker grid (None: leave the backend's grid)."""
    b = runtime.backend()
    if chip is None or b.name != "sim":
        yield b.grid
        return
    g = grid(chip)
    saved = runtime._active
    runtime._active = dataclasses.replace(b, grid=g)
    try:
        yield g
    finally:
        runtime._active = saved


def count_call(fn: Callable, *args, chip: str | None = None, fidelity: str = DEFAULT_FIDELITY, **kwargs):
    """Run ``fn(*args, **kwargs)`` on the simulator, on ``chip``'s grid.  Returns (result, CallCounts, Traffic).

    The DRAM bytes of the counts equal the traffic :func:`ttl_kernels.trace.trace_traffic` records."""
    if not runtime.is_sim():
        raise RuntimeError("counting needs the simulator backend (TTL_KERNELS_BACKEND=sim)")
    with chip_grid(chip), trace_traffic() as traffic, OpCounter(fidelity) as counter:
        out = fn(*args, **kwargs)
    return out, counter.counts, traffic


def model_call(fn: Callable, *args, chips=CHIPS, min_bytes: int | None = None, dispatch: str = "traced",
               overrides: dict | None = None, **kwargs) -> dict[str, KernelModel]:
    """Model one kernel call on each chip in ``chips``: ``{chip: KernelModel}``.

    ``fn(*args, **kwargs)`` runs once per chip (on that chip's grid).  Example::

        from ttl_kernels.eltwise import silu_mul
        res = model_call(silu_mul, g, u, min_bytes=3 * g.numel() * 2)
        print(res["n150"].model_us, res["n150"].bound)
    """
    out = {}
    for chip in chips:
        _, counts, _ = count_call(fn, *args, chip=chip, **kwargs)
        out[chip] = model(counts, chip, min_bytes=min_bytes, dispatch=dispatch, overrides=overrides)
    return out


# ------------------------------------------------------------------------------------ registry cases


def get_spec(name: str):
    """A kernel spec from the registry, or from the kernels this package adds (``matmul``)."""
    from ..registry import kernels

    if name in kernels():
        return kernels()[name]
    from ..matmul import KERNEL_SPECS as extra

    for spec in extra:
        if spec.name == name:
            return spec
    raise ValueError(f"kernel must be one of {sorted(kernels()) + [s.name for s in extra]}; got {name!r}")


def all_specs() -> dict:
    from ..matmul import KERNEL_SPECS as extra
    from ..registry import kernels

    return {**kernels(), **{s.name: s for s in extra}}


def minimum_bytes(name: str, params: dict, tts: list, outs: list) -> tuple[int, str]:
    """Minimum DRAM bytes of a registry kernel call: every input read once and every output written once
    (tile-padded), except ``kv_update`` which writes in place (new rows read once + the touched cache tiles
    read and written once) -- the rules of bench/traffic.py."""
    if name == "kv_update":
        k_cache, _, k_new, v_new = tts
        touched = params["batch"] * params["n_kv"] * k_cache.tile_shape[1]
        return (k_new.nbytes + v_new.nbytes + 2 * 2 * touched * host.TILE_BYTES[k_cache.dtype],
                "in place: new rows read once + touched cache tiles read and written once")
    return sum(x.nbytes for x in tts) + sum(o.nbytes for o in outs if isinstance(o, host.TileTensor)), \
        "inputs read once + outputs written once"


def upload_dtypes(name: str, params: dict, n: int) -> list[str | None]:
    """The device dtype of each of a registry case's ``n`` arguments (None: the torch tensor's own).  The KV
    caches of the attention kernels and of ``kv_update`` are stored as the case's ``kv_dtype`` / ``dtype`` (a
    bfp8_b cache is built from bf16 torch tensors, so the tensor's own dtype would upload bf16)."""
    out: list[str | None] = [None] * n
    if name in ("flash_decode", "speculative_decode") and n >= 3:
        out[1] = out[2] = params.get("kv_dtype")
    elif name == "kv_update" and n >= 2:
        out[0] = out[1] = params.get("dtype")
    return out


def _upload(args, dtypes=None):
    dtypes = dtypes or [None] * len(args)
    return [host.to_device(a, dt) if isinstance(a, torch.Tensor) and a.dim() == 2 else a
            for a, dt in zip(args, dtypes)]


def count_case(name: str, params: dict, chip: str, seed: int | None = 0) -> tuple[CallCounts, int, str]:
    """Run registry kernel ``name`` with ``params`` on ``chip``'s grid: (counts, minimum bytes, rule)."""
    spec = get_spec(name)
    raw = spec.make_args(seed=seed, **params)
    args = _upload(raw, upload_dtypes(name, params, len(raw)))
    tts = [x for x in args if isinstance(x, host.TileTensor)]
    out, counts, _ = count_call(spec.call, args, params, chip=chip)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    mb, rule = minimum_bytes(name, params, tts, outs)
    return counts, mb, rule


def model_case(name: str, params: dict, chips=CHIPS, dispatch: str = "traced", seed: int | None = 0,
               keep_counts: bool = False) -> dict:
    """Model a registry case on each chip: ``{"kernel", "params", "min_bytes", chip: KernelModel, ...}``."""
    res: dict = {"kernel": name, "params": params}
    for chip in chips:
        counts, mb, rule = count_case(name, params, chip, seed)
        res["min_bytes"], res["min_rule"] = mb, rule
        res[chip] = model(counts, chip, min_bytes=mb, dispatch=dispatch)
        if keep_counts:
            res.setdefault("counts", {})[chip] = counts
    return res
