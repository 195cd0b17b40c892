"""Host-side layouts, constant tiles and position masks shared by the decode-attention kernels.

Layouts (2-D tile tensors; a tile is 32 x 32):

``Q`` for decode: ``[B * n_kv * 32, D]``
    Tile row ``b * n_kv + h`` holds the ``G = n_q / n_kv`` query heads that share KV head ``h`` of user
    ``b`` in its first ``G`` rows (query head ``h * G + g`` in row ``g``); rows ``G .. 31`` are padding.
    Every row is an independent softmax row, so padding rows never mix into valid ones (they only need
    to stay finite; zeros or the test sentinel are fine).  :func:`decode_q_to_tiles` builds it.
``O`` (exact and speculative output): the same layout as Q; :func:`decode_o_from_tiles` reads it back
    as ``[B, n_q, D]``.
KV cache: ``[B * n_kv * S_max, D]``
    Row ``(b * n_kv + h) * S_max + s`` is token ``s`` of KV head ``h`` of user ``b`` (the natural
    ``[B, n_kv, S_max, D]`` cache flattened); ``S_max`` is a multiple of the chunk size.
    :func:`kv_cache_to_tiles` builds it.  K is *not* stored transposed: the kernel transposes each
    ``(S/32) x (D/32)``-tile K chunk in L1.
Position mask: ``[B * 32, n_slots * S]`` (bf16)
    Tile row ``b`` holds user ``b``'s additive masks (0 = visible, ``NEG`` = hidden), one S-wide slot per
    masked chunk role, the same in all 32 rows (so no broadcast of a computed value is needed).
Per-user scalars (``dist2``, ``norm2``, ``verdict``): ``[B * 32, 32]`` fp32, tile row ``b`` filled with the
    value (every element of the tile is equal).

Constant tiles (:func:`const_tiles`, one bf16 tensor per (S, D, G)): the cyclic column shift P_1 for the
portable row max, the tile selectors, the identity, ones and the valid-row selector (``C_*`` offsets).
The partial-attention op reads ``4 Ct + 2`` of them per busy core (18 at S = 128) and derives the others.
"""

from __future__ import annotations

from functools import cache

import torch

from .. import host, runtime

TILE = 32
NEG = -1.0e30  # additive mask value and initial running max: exp(NEG - m) underflows to exactly 0
MAX_CT = 4  # the score block is at most 4 tiles wide (S <= 128): one selector buffer per tile, 32 buffers max
SHIFTS = (16, 8, 4, 2, 1)  # butterfly steps of the portable row max

# tile-column offsets of the constants in const_tiles()
C_PERM = 0  # 1 tile P_1: (x @ P_k)[r, c] = x[r, (c + k) % 32]; the kernel derives P_2 .. P_16 = P_1^k
C_SEL_TILE = 1  # MAX_CT blocks of (Ct x 1) tiles: block i is the identity in tile row i (row 0 for i >= Ct)
C_EYE = C_SEL_TILE + MAX_CT  # 1 tile: identity
C_ONES_DT = C_EYE + 1  # (Dt x 1) tiles of ones: x @ ONES = row sums over head_dim
C_VALID = C_ONES_DT + 1  # 1 tile: [i, k] = 1 for k < G (sums over the G valid query rows of a tile)
N_CONST_COLS = C_VALID + 1


def tiles(n: int) -> int:
    return -(-n // TILE)


def decode_q_to_tiles(q: torch.Tensor, n_kv: int, pad_value: float = 0.0) -> torch.Tensor:
    """``q [B, n_q, D]`` -> the decode Q layout ``[B * n_kv * 32, D]`` (float32), padding rows ``pad_value``."""
    B, n_q, D = q.shape
    g = n_q // n_kv
    out = torch.full((B, n_kv, TILE, D), float(pad_value), dtype=torch.float32)
    out[:, :, :g, :] = q.float().reshape(B, n_kv, g, D)
    return out.reshape(B * n_kv * TILE, D)


def decode_o_from_tiles(o: torch.Tensor, batch: int, n_q: int, n_kv: int) -> torch.Tensor:
    """The decode O layout ``[B * n_kv * 32, D]`` -> ``[B, n_q, D]`` (drops the padding rows)."""
    D = o.shape[-1]
    g = n_q // n_kv
    return o.reshape(batch, n_kv, TILE, D)[:, :, :g, :].reshape(batch, n_q, D)


def kv_cache_to_tiles(cache: torch.Tensor) -> torch.Tensor:
    """``[B, n_kv, S_max, D]`` -> ``[B * n_kv * S_max, D]`` (a view when contiguous)."""
    B, n_kv, s_max, D = cache.shape
    return cache.reshape(B * n_kv * s_max, D)


def perm_tile(k: int) -> torch.Tensor:
    """32 x 32 cyclic column shift: ``(x @ P)[r, c] = x[r, (c + k) % 32]``."""
    p = torch.zeros(TILE, TILE)
    c = torch.arange(TILE)
    p[(c + k) % TILE, c] = 1.0
    return p


def const_tensor(ct: int, dt: int, g: int) -> torch.Tensor:
    """The constant tiles as one float32 tensor of ``max(Ct, Dt)`` x ``N_CONST_COLS`` tiles."""
    rows = max(ct, dt)
    c = torch.zeros(rows * TILE, N_CONST_COLS * TILE)

    def put(tile_row: int, tile_col: int, t: torch.Tensor) -> None:
        c[tile_row * TILE:(tile_row + 1) * TILE, tile_col * TILE:(tile_col + 1) * TILE] = t

    eye = torch.eye(TILE)
    put(0, C_PERM, perm_tile(1))
    for i in range(MAX_CT):
        put(i if i < ct else 0, C_SEL_TILE + i, eye)  # selectors past Ct pick tile 0 again (max unchanged)
    put(0, C_EYE, eye)
    for i in range(dt):
        put(i, C_ONES_DT, torch.ones(TILE, TILE))
    valid = torch.zeros(TILE, TILE)
    valid[:, :g] = 1.0
    put(0, C_VALID, valid)
    return c


_device_consts: dict = {}


def _cache_key(*key) -> tuple:
    """Device tensors are cached per backend (and, on the simulator, per precision mode: its tensors keep
    the arithmetic dtype they were created under)."""
    name = runtime.backend_name()
    return (name, runtime.sim_precision() if name == "sim" else "", *key)


def const_tiles(ct: int, dt: int, g: int) -> host.TileTensor:
    """The constant tiles on the device (bf16, exact), uploaded once per process and shape."""
    key = _cache_key(ct, dt, g)
    if key not in _device_consts:
        _device_consts[key] = host.to_device(const_tensor(ct, dt, g), "bf16")
    return _device_consts[key]


def fp32_like(ct: int, dt: int) -> host.TileTensor:
    """A never-read fp32 tensor the kernels' float32 intermediate buffers take their dtype from (the 1.1.1
    simulator also wants the 'like' tensor to hold at least as many tiles as the buffer's block)."""
    key = _cache_key("fp32_like", ct, dt)
    if key not in _device_consts:
        n = max(ct, dt, 1)
        _device_consts[key] = host.empty((n * TILE, n * TILE), "fp32")
    return _device_consts[key]


@cache
def _arange(n: int) -> torch.Tensor:
    return torch.arange(n)


def chunk_mask(start: int, size: int, lo: int, hi: int) -> torch.Tensor:
    """Additive mask row for the keys ``[start, start + size)``: 0 where ``lo <= key <= hi``, NEG elsewhere."""
    k = _arange(size) + start
    return torch.where((k >= lo) & (k <= hi), 0.0, NEG)


def mask_tensor(rows: list[list[torch.Tensor]], chunk: int) -> host.TileTensor:
    """Upload per-user mask slots: ``rows[b][slot]`` is a ``chunk``-long additive row; each user's row is
    repeated over the 32 rows of its tile row.  Result ``[B * 32, n_slots * chunk]`` bf16."""
    n_slots = len(rows[0])
    m = torch.zeros(len(rows), TILE, n_slots * chunk)
    for b, slots in enumerate(rows):
        for s, r in enumerate(slots):
            m[b, :, s * chunk:(s + 1) * chunk] = r
    return host.to_device(m.reshape(len(rows) * TILE, n_slots * chunk), "bf16")
