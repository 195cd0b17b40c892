"""Host helpers: torch tensors in and out of tile-layout device tensors, the same under every binding.

A :class:`TileTensor` is a 2-D ttnn tensor in TILE layout (32 x 32 tiles) plus its *logical* shape and
its declared dtype.  Storage is padded up to whole tiles; :func:`to_device` fills the padding with
``pad_value`` (default 0.0, documented per kernel where it matters) and :func:`to_torch` crops it away.

Values are quantised on the host to the declared dtype before they reach ttnn, and outputs are quantised
again when they come back.  On a device ttnn does this itself; the simulator keeps float32 backing for
bf16 and does not quantise bfloat8_b at all, so without this step a simulated kernel would see inputs a
device never sees.  With it, every binding sees the same input values.

dtypes: ``"bf16"`` (bfloat16), ``"fp32"`` (float32), ``"bfp8_b"`` (Tenstorrent block float: 16 values in
a row of a 16x16 tile face share one 8-bit exponent, each keeps a sign and a 7-bit magnitude), ``"bfp4_b"``
(the same with a 3-bit magnitude; weights only: the models' projection weights.  The simulator has no
bfloat4_b, so there the quantised values are stored as bfloat16, which holds them exactly).
For bfloat8_b the padding value matters: padded columns share exponents with the last valid ones, so a
large pad value (such as the test sentinel) costs those valid elements precision.  Pad with 0 in real use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from . import audit, runtime

TILE = 32
DTYPES = ("bf16", "fp32", "bfp8_b", "bfp4_b")
# bytes of one 32x32 tile: bfp formats store 1024 magnitudes plus one exponent byte per 16 values
TILE_BYTES = {"bf16": 2048, "fp32": 4096, "bfp8_b": 1088, "bfp4_b": 576}
SENTINEL = -42.0  # what tests write into padding and never-read regions to catch leaks (tt-metal convention)


def tiles(n: int) -> int:
    """Number of 32-wide tiles that hold ``n`` elements."""
    return -(-n // TILE)


def round_bf16(t: torch.Tensor) -> torch.Tensor:
    """Round to the nearest bfloat16 (ties to even); returns float32.  Immune to ttl.sim's rebinding of
    ``torch.bfloat16`` because it goes through the ``Tensor.bfloat16()`` method."""
    return t.float().bfloat16().float()


def quantize_block_float(t: torch.Tensor, magnitude_bits: int) -> torch.Tensor:
    """Emulate Tenstorrent block-float storage of a 2-D tensor whose last dim is a multiple of 16 (tile-padded).

    Each run of 16 consecutive elements in a row (a row of a 16x16 tile face) shares the largest exponent e of
    the run; every element keeps a sign and a ``magnitude_bits``-bit magnitude m, value = m * 2**(e - (bits - 1)),
    rounded to nearest (bfp8_b: 7 bits, bfp4_b: 3 bits).  This mirrors tt-metal's packer up to the handling of
    rounding ties and denormals.
    """
    x = round_bf16(t)
    if x.shape[-1] % 16:
        raise ValueError(f"block-float quantisation needs a last dim that is a multiple of 16; got {tuple(x.shape)}")
    g = x.reshape(*x.shape[:-1], x.shape[-1] // 16, 16)
    amax = g.abs().amax(-1, keepdim=True)
    e = torch.floor(torch.log2(amax.clamp_min(torch.finfo(torch.float32).tiny)))
    scale = torch.exp2(e - (magnitude_bits - 1))
    top = 2**magnitude_bits - 1
    q = torch.round(g / scale).clamp(-top, top) * scale
    q = torch.where(amax > 0, q, torch.zeros_like(q))
    return q.reshape(x.shape)


def quantize_bfp8_b(t: torch.Tensor) -> torch.Tensor:
    """bfloat8_b storage (:func:`quantize_block_float` with a 7-bit magnitude)."""
    return quantize_block_float(t, 7)


def quantize_bfp4_b(t: torch.Tensor) -> torch.Tensor:
    """bfloat4_b storage (:func:`quantize_block_float` with a 3-bit magnitude)."""
    return quantize_block_float(t, 3)


def quantize(t: torch.Tensor, dtype: str) -> torch.Tensor:
    """Values of ``t`` as stored in ``dtype`` (float32 result)."""
    if dtype == "fp32":
        return t.float()
    if dtype == "bf16":
        return round_bf16(t)
    if dtype == "bfp8_b":
        return quantize_bfp8_b(t)
    if dtype == "bfp4_b":
        return quantize_bfp4_b(t)
    raise ValueError(f"dtype must be one of {DTYPES}; got {dtype!r}")


def _ttnn_dtype(dtype: str) -> Any:
    ttnn = runtime.ttnn
    if dtype == "bfp4_b":  # the simulator has no bfloat4_b: the quantised values are stored as bf16 (exactly)
        return getattr(ttnn, "bfloat4_b", ttnn.bfloat16)
    return {"bf16": ttnn.bfloat16, "fp32": ttnn.float32, "bfp8_b": ttnn.bfloat8_b}[dtype]


@dataclass
class TileTensor:
    """A 2-D tile-layout device tensor with its logical shape and declared dtype."""

    tt: Any
    shape: tuple[int, int]
    dtype: str

    @property
    def tile_shape(self) -> tuple[int, int]:
        return tiles(self.shape[0]), tiles(self.shape[1])

    @property
    def padded_shape(self) -> tuple[int, int]:
        r, c = self.tile_shape
        return r * TILE, c * TILE

    @property
    def nbytes(self) -> int:
        """Bytes of the tile-padded storage."""
        r, c = self.tile_shape
        return r * c * TILE_BYTES[self.dtype]


def torch_dtype_name(t: torch.Tensor, arg: str) -> str:
    """Map a torch tensor's dtype to a kernel dtype name; ValueError naming ``arg`` otherwise."""
    if t.dtype == torch.float32:
        return "fp32"
    if t.dtype == runtime.TORCH_BF16:
        return "bf16"
    raise ValueError(f"{arg}: dtype must be torch.bfloat16 or torch.float32; got {t.dtype}")


def pad_to_tiles(t: torch.Tensor, pad_value: float = 0.0) -> torch.Tensor:
    r, c = t.shape
    out = torch.full((tiles(r) * TILE, tiles(c) * TILE), float(pad_value), dtype=torch.float32)
    out[:r, :c] = t.detach().float()  # device tensors carry values only, never autograd history
    return out


def to_device(t: torch.Tensor, dtype: str | None = None, pad_value: float = 0.0) -> TileTensor:
    """Copy a 2-D torch tensor to a tile-layout device tensor, padding to whole tiles with ``pad_value``.

    ``dtype`` defaults to the tensor's own (bf16 or fp32)."""
    if t.dim() != 2:
        raise ValueError(f"tensor must be 2-D; got shape {tuple(t.shape)}")
    dtype = dtype or torch_dtype_name(t, "tensor")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}; got {dtype!r}")
    padded = quantize(pad_to_tiles(t, pad_value), dtype)
    ttnn = runtime.ttnn
    b = runtime.backend()
    kw = {"device": b.device} if b.device is not None else {}
    tt = ttnn.from_torch(padded, dtype=_ttnn_dtype(dtype), layout=ttnn.TILE_LAYOUT, **kw)
    out = TileTensor(tt, (int(t.shape[0]), int(t.shape[1])), dtype)
    audit.transferred("h2d", out.nbytes)
    return out


def empty(shape: tuple[int, int], dtype: str, fill: float = 0.0) -> TileTensor:
    """A device tensor for ``shape`` (tile-padded), every element ``fill``: kernel outputs and caches.

    Made on the device, not uploaded: ``ttnn.full`` on a device; the simulator has no such op, so there it is
    built through the host with the transfer not counted (:mod:`ttl_kernels.audit` counts it as an allocation)."""
    rows, cols = shape
    b = runtime.backend()
    if b.name == "device" and dtype in ("bf16", "fp32", "bfp8_b"):
        ttnn = runtime.ttnn
        tt = ttnn.full((tiles(rows) * TILE, tiles(cols) * TILE), float(fill), dtype=_ttnn_dtype(dtype),
                       layout=ttnn.TILE_LAYOUT, device=b.device)
        out = TileTensor(tt, (rows, cols), dtype)
    else:
        with audit.suspended():
            out = to_device(torch.full((rows, cols), float(fill)), dtype, pad_value=fill)
    audit.allocated(out.nbytes)
    return out


def to_torch(x: TileTensor, *, padded: bool = False) -> torch.Tensor:
    """Read a device tensor back as float32 values of its declared dtype, cropped to the logical shape
    (or the whole tile-padded storage with ``padded=True``)."""
    raw = runtime.ttnn.to_torch(x.tt)
    audit.transferred("d2h", x.nbytes)
    full = quantize(raw.float().reshape(x.padded_shape), x.dtype)
    if padded:
        return full
    return full[: x.shape[0], : x.shape[1]].contiguous()
