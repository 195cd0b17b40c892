"""Greedy token selection on the device: the argmax id of every row of ``logits [rows, V]``, exact for any
vocabulary below 2^24 ids (Qwen3's 151,936 and Llama-3's 128,256 included).

Two operations, like split-KV decode attention (partials through DRAM, then a merge; a many-to-one pipe
gather is racy on hardware in 1.1.1):

1. :mod:`._argmax_partial`: the ``V / 32`` column tiles of each tile row are cut into units of at most 256
   consecutive tiles, one unit per core of the whole grid where possible; each unit streams its tiles once and
   writes one fp32 tile: its row max, the tile and the column that hold it;
2. :mod:`._argmax_merge`: per tile row, the units' partials in column order give the row's id tile.

Result layout (the family's id tile, :mod:`._plan`): an fp32 device tensor of logical shape ``[rows, 1]``
(storage ``RT x 1`` tiles); row ``r`` holds the id ``i`` in column 0, ``i // 1024`` in column 1 and
``i % 1024`` in column 2 (the parts :func:`.greedy_accept` compares), 0 in the other columns.  Torch in,
torch out: a float32 ``[rows, 1]`` tensor of ids.

Exactness.  No index is ever rounded:

* on the simulator every value is an fp32 value and every id an integer below 2^24, formed by exact fp32
  arithmetic;
* on silicon, every tile a kernel of the family loads into a register (from a dataflow buffer, for an
  element-wise op, a matmul or a transpose) holds 0 / 1, an integer below 2048 (unit-local tile numbers
  ``< 256``, columns ``< 32``, unit numbers, the ``HI`` and ``LO`` parts of an id for ``V <= 2^21``) or a logit
  value.  All of them are exact in tf32, the 19-bit format of a Tensix source register (1.1.1 unpacks only one
  buffer per kernel straight into the fp32 DST; the others go through the source registers, and the FPU's
  ``add/sub/mul_tiles`` always do), so the zoecarver-style rounding (ids through bf16, here it would be
  through tf32 above 2048) cannot happen.  Full ids exist only inside DST registers, where the SFPU computes
  in fp32, and are packed to fp32 dataflow buffers that are written out, never loaded again.  Matmuls (the
  butterfly shifts and column selectors) produce single products with weight 1 (HiFi4, ttnn's default).
* the values: bf16 logits are exact in tf32 and in fp32 (cast in L1); fp32 logits are compared exactly on the
  simulator, on silicon at the precision the unpacker gives them (tf32 unless the compiler unpacks them to
  DST in fp32; not checked here).  Comparisons are ``sign`` of an fp32 difference, zero iff the operands are
  equal (gradual underflow; a device flushing subnormal differences to zero would call two logits below
  2^-125 apart a tie).

Ties and special values (the rules of :func:`reference.sampling.argmax`):

* ties go to the lowest id, as ``torch.argmax``;
* values are compared after clamping to ``[-FLT_MAX, FLT_MAX]``: ``+inf`` ties with ``FLT_MAX`` and ``-inf``
  with ``-FLT_MAX`` (lowest id wins); a row of all ``-inf`` gives 0, like torch;
* padding columns of the last tile (V not a multiple of 32) never win, whatever finite or infinite value
  they hold: the kernel caps them at ``-FLT_MAX``, and every real column has a lower id;
* NaN: a row with a NaN anywhere in its storage (padding included) gets the id NaN (torch would return the
  index of the first NaN).  NaN cannot be removed by the arithmetic 1.1.1 offers (``max`` / ``min`` / products
  propagate it, there is no ``where``), so the kernel propagates it instead and the host, reading the
  small result, rejects it (:func:`~ttl_kernels.sampling.greedy_accept_ids` raises).  Semantics are the
  simulator's (torch); SFPU NaN handling on silicon is not checked.

DRAM traffic (``trace_traffic``, V = 151,936, 32 rows, bf16, 8 x 8 grid): 10,393,600 B against a minimum of
9,728,000 B (logits read once, ids written once), 1.068x: per busy core one 2 KB constant tile, per unit one
4 KB partial written and read back, 10 KB of merge constants.  The op-count model (:mod:`ttl_kernels.perf`)
calls both operations compute-bound (about 9 SFPU tile ops per logit tile against 0.47 us of DRAM time per
tile and core on n150).
"""

from __future__ import annotations

from .. import runtime
from .._api import as_tile, check_2d, device_constant, result, tensor_info, wants_torch
from ..host import TILE, empty
from ._argmax_merge import make_argmax_merge
from ._argmax_partial import make_argmax_partial
from ._plan import argmax_consts, plan_argmax

DTYPES = ("bf16", "fp32")
MAX_VOCAB = 1 << 24  # ids are exact fp32 integers below 2^24

def argmax_plan(rows: int, vocab: int, dtype: str = "bf16"):
    """The (partial, merge) plans :func:`argmax` uses for ``[rows, vocab]`` logits on the active grid."""
    return plan_argmax(rows, vocab, dtype, runtime.grid())


def argmax(logits):
    """Argmax id of every row of ``logits [rows, V]`` (bf16 or fp32), ties to the lowest id.

    Torch in: a float32 ``[rows, 1]`` tensor of ids.  TileTensor in: an fp32 TileTensor ``[rows, 1]`` left on
    the device (every column of its tiles holds the id).  Rules for ties, infinities, padding and NaN: module
    docstring.  Padding of torch inputs is 0.0 (any non-NaN value would do)."""
    shape, dtype = tensor_info(logits, "logits", DTYPES)
    rows, vocab = check_2d(shape, "logits")
    if vocab > MAX_VOCAB:
        raise ValueError(f"logits: at most {MAX_VOCAB} columns (ids must be exact fp32 integers); got {vocab}")
    pplan, mplan = argmax_plan(rows, vocab, dtype)
    t = as_tile(logits, dtype, pad_value=0.0)
    part = empty((pplan.rows_t * TILE, 2 * pplan.nuc * TILE), "fp32")
    out = empty((rows, 1), "fp32")
    backend = runtime.backend_name()
    consts = device_constant(argmax_consts, "bf16")
    lg16, lg32 = (t.tt, part.tt) if dtype == "bf16" else (consts.tt, t.tt)  # stand-ins: see _argmax_partial
    make_argmax_partial(pplan, backend)(lg16, lg32, consts.tt, part.tt)
    make_argmax_merge(mplan, backend)(part.tt, consts.tt, out.tt)
    return result(out, wants_torch(logits))
