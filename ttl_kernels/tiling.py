"""How a kernel spreads a tiled 2-D tensor over the core grid.

A tensor of ``rows_t x cols_t`` tiles is cut into blocks of ``br x bc`` tiles (the unit a dataflow buffer
holds).  Blocks are numbered row-major and dealt round-robin over the *flattened* grid: core
``k = y * GX + x`` processes blocks ``k, k + NC, k + 2 NC, ...`` (NC = GX * GY).  Using the flattened
id matters: a split that reads only one grid coordinate makes every row of cores repeat the same work.

Blocks are as large as the L1 budget allows (fewer, larger blocks move the same bytes with fewer DFB
round trips, and the simulator's cost grows with the number of block operations), but are split further
until every core has work when the tensor is large enough to give it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .host import TILE_BYTES
from .runtime import ttl

# Bytes of dataflow-buffer space a kernel may plan for per core.  Wormhole has 1464 KiB of L1 per core
# and the simulator warns above 1336 KiB; half of that leaves room for the runtime and other buffers.
L1_BUDGET = 640 * 1024


def _divisors_desc(n: int) -> list[int]:
    return [d for d in range(n, 0, -1) if n % d == 0]


class ItemsOnGrid:
    """Mixin for compile-time plans that deal ``n_items`` work items round-robin over a ``gx x gy`` grid:
    item ``i`` runs on core ``i mod n_cores`` of the flattened grid (core ``k = y * gx + x``), so core ``k``
    takes items ``k, k + n_cores, ...`` (the kernels' ``for i in range(core, n_items, n_cores)``)."""

    gx: int
    gy: int

    @property
    def n_cores(self) -> int:
        return self.gx * self.gy

    @property
    def items_per_core(self) -> int:
        """Most items any core runs."""
        return -(-self.n_items // self.n_cores)

    @property
    def cores_used(self) -> int:
        return min(self.n_items, self.n_cores)

    def items_of_core(self, k: int) -> list[int]:
        return list(range(k, self.n_items, self.n_cores))

    def load_balance(self) -> float:
        """max / mean items per used core (1.0 is perfect)."""
        counts = [len(self.items_of_core(k)) for k in range(self.cores_used)]
        return max(counts) / (sum(counts) / len(counts))


@dataclass(frozen=True)
class BlockSplit(ItemsOnGrid):
    """A tensor of ``rows_t x cols_t`` tiles cut into ``br x bc``-tile blocks, the work items."""

    rows_t: int
    cols_t: int
    br: int
    bc: int
    gx: int
    gy: int

    @property
    def nbr(self) -> int:
        return self.rows_t // self.br

    @property
    def nbc(self) -> int:
        return self.cols_t // self.bc

    @property
    def n_blocks(self) -> int:
        return self.nbr * self.nbc

    @property
    def n_items(self) -> int:
        return self.n_blocks


def split_blocks(
    rows_t: int,
    cols_t: int,
    grid: tuple[int, int],
    *,
    dtype: str,
    n_buffers: int,
    slots: int = 2,
    max_block_tiles: int = 32,
    max_bc: int = 8,
) -> BlockSplit:
    """Choose a block shape for a tensor of ``rows_t x cols_t`` tiles on a ``grid``.

    ``n_buffers`` dataflow buffers of ``slots`` blocks each must fit the L1 budget.  The block width is at
    most ``max_bc`` tiles (one DST sub-block row of work the compiler unrolls), the block at most
    ``max_block_tiles`` tiles; both dims divide the tensor exactly so no block is ragged.
    """
    if rows_t <= 0 or cols_t <= 0:
        raise ValueError(f"tensor must have at least one tile in each dim; got {rows_t}x{cols_t} tiles")
    gx, gy = grid
    per_block_cap = L1_BUDGET // (n_buffers * slots * TILE_BYTES[dtype])
    cap = max(1, min(max_block_tiles, per_block_cap))
    n_cores = gx * gy
    best = None
    for bc in _divisors_desc(cols_t):
        if bc > max_bc or bc > cap:
            continue
        for br in _divisors_desc(rows_t):
            if br * bc > cap:
                continue
            n_blocks = (rows_t // br) * (cols_t // bc)
            # prefer: every core busy (when possible), then the largest block, then wide blocks
            busy = min(n_blocks, n_cores)
            key = (busy, br * bc, bc)
            if best is None or key > best[0]:
                best = (key, br, bc)
    _, br, bc = best
    fx, fy = fit_grid((rows_t // br) * (cols_t // bc), grid)
    return BlockSplit(rows_t, cols_t, br, bc, fx, fy)


class HeadGroupsOnGrid(ItemsOnGrid):
    """Mixin for the per-head kernels' plans (per-head RMSNorm, RoPE): the heads of a tile row are split
    into ``groups`` groups of ``heads_per_group`` consecutive heads (the last one may be shorter), and a
    work item is one tile row times one group.  A plan provides ``tile_rows``, ``n_heads`` and ``groups``."""

    tile_rows: int
    n_heads: int
    groups: int

    @property
    def heads_per_group(self) -> int:
        return -(-self.n_heads // self.groups)

    @property
    def n_items(self) -> int:
        return self.tile_rows * self.groups


def head_groups(tile_rows: int, n_heads: int, minimum_tiles: float, tiles_per_item: int, n_cores: int,
                budget: float) -> int:
    """How many head groups (:class:`HeadGroupsOnGrid`) to cut each tile row's heads into: the most whose
    extra reads (``tiles_per_item`` per item: per-core constants, table lookups) stay within ``budget`` of
    the call's ``minimum_tiles`` of traffic, with no more items than cores, at least one group and no
    empty group."""
    cores_allowed = max(1, int(budget * minimum_tiles // max(1, tiles_per_item)))
    groups = max(1, min(n_heads, cores_allowed // tile_rows, n_cores // tile_rows))
    return -(-n_heads // -(-n_heads // groups))


def fit_grid(n_units: int, grid: tuple[int, int]) -> tuple[int, int]:
    """The smallest grid (x, y) within ``grid`` that still gives every one of ``n_units`` work units its own
    core when it can: (n, 1) for n <= gx, else full rows of gx.  Cores without work cost nothing on a
    device but do cost the simulator (it runs every core's threads), so kernels launch on this grid."""
    gx, gy = grid
    n = max(1, int(n_units))
    if n <= gx:
        return n, 1
    return gx, min(gy, -(-n // gx))


def buffers_like(like, count: int, shape: tuple[int, int] = (1, 1), block_count: int = 1) -> list:
    """Trace time (call it in an operation's body): ``count`` dataflow buffers of ``like``'s dtype, each of
    ``block_count`` blocks of ``shape`` tiles, created in order -- a run of alike buffers in one line, e.g.
    ``one_dfb, c32_dfb = buffers_like(out, 2)``.  Bind them to the names the threads use."""
    return [ttl.make_dataflow_buffer_like(like, shape=shape, block_count=block_count) for _ in range(count)]


def buffers_of(tensors, shape: tuple[int, int] = (1, 1), block_count: int = 1) -> list:
    """Trace time: one dataflow buffer of each tensor's dtype, each of ``block_count`` blocks of ``shape`` tiles,
    created in order, e.g. ``a_dfb, b_dfb = buffers_of((a, b), block_count=2)``."""
    return [ttl.make_dataflow_buffer_like(t, shape=shape, block_count=block_count) for t in tensors]


def block_writer(out, out_dfb, GX: int, NC: int, N_BLOCKS: int, NBC: int, BR: int, BC: int):
    """Trace time (call it in an operation's body): the writer thread of a kernel whose results are blocks of
    ``BR x BC`` tiles dealt round-robin over the flattened grid.  Core ``k`` drains blocks ``k, k + NC, ...``
    from ``out_dfb`` in that order; block ``blk`` goes to tile rows ``[(blk // NBC) BR, + BR)`` and tile
    columns ``[(blk % NBC) BC, + BC)`` of ``out`` (``NBC`` blocks per block row).  The operation must call its
    result buffer ``out_dfb``: the simulator keys buffers by the name the threads capture them under."""

    @ttl.datamovement()
    def writer():
        x, y = ttl.node(dims=2)
        for blk in range(y * GX + x, N_BLOCKS, NC):  # blocks core, core + NC, ...
            r0 = (blk // NBC) * BR  # first tile row and column of the block
            c0 = (blk % NBC) * BC
            with out_dfb.wait() as ob:
                tw = ttl.copy(ob, out[r0:r0 + BR, c0:c0 + BC])
                tw.wait()

    return writer
