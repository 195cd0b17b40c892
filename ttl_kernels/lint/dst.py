"""DST-register dataflow lint for the compute kernels tt-lang generates (tt-metal C++).

The tt-lang 1.1.1 compiler accepts some fused forms and silently emits wrong code for them (the dialect
notes list three: ``max(a, a @ b)``, ``x * (a @ b)`` with a multi-tile matmul, and
``(s - broadcast(m)) * fill(c)`` on a multi-tile block).  In each case a value computed into a DST
register is either overwritten before anything reads it, or never read at all.  This lint tracks every
DST register inside each ``tile_regs_acquire() ... tile_regs_release()`` region and reports:

``clobber``  a register holding a value nobody has read is overwritten by a non-accumulating op;
``dead``     a value written to a register is never read (by an op or a pack) before the region ends.

Only registers addressed through compile-time constants are tracked (the compiler emits
``size_t vN = <int>;`` for them).  Accumulating ops (``matmul_block``, ``matmul_tiles``, ``reduce_tile``)
may land on a copied-in value: that is how ``acc.store(prev + a @ b)`` lowers.

It is a heuristic over straight-line code: a region containing its own loops is scanned in text order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CONST = re.compile(r"^\s*(?:size_t|int32_t|uint32_t|int64_t|ptrdiff_t)\s+(v\d+)\s*=\s*(-?\d+)\s*;")
_CALL = re.compile(r"^\s*([A-Za-z_]\w*)(?:<[^;]*?>)?\((.*)\);\s*$")
_ARGSPLIT = re.compile(r",\s*(?![^()]*\))")

ACCUMULATING = {"matmul_block", "matmul_tiles", "reduce_tile"}
# ops that write DST[arg k] from a circular buffer or a constant: name -> index of the DST argument
WRITERS = {
    "copy_tile": 2,
    "unary_bcast": 2,
    "transpose_wh_tile": 2,
    "fill_tile": 0,
    "fill_tile_bitcast": 0,
    "fill_tile_int": 0,
    "add_tiles": 4,
    "sub_tiles": 4,
    "mul_tiles": 4,
    "add_tiles_bcast_rows": 4,
    "add_tiles_bcast_cols": 4,
    "add_tiles_bcast_scalar": 4,
    "sub_tiles_bcast_rows": 4,
    "sub_tiles_bcast_cols": 4,
    "sub_tiles_bcast_scalar": 4,
    "mul_tiles_bcast_rows": 4,
    "mul_tiles_bcast_cols": 4,
    "mul_tiles_bcast_scalar": 4,
}


@dataclass
class Issue:
    line: int
    kind: str  # "clobber" | "dead"
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.kind}: {self.message}"


@dataclass
class _Reg:
    op: str
    line: int
    read: bool = False


@dataclass
class LintReport:
    path: str
    issues: list[Issue] = field(default_factory=list)
    ops: set[str] = field(default_factory=set)
    regions: int = 0

    @property
    def clean(self) -> bool:
        return not self.issues


def _binary_sfpu(name: str) -> bool:
    return name.endswith("_binary_tile") or name in ("binary_max_tile", "binary_min_tile")


def lint_source(text: str, path: str = "<source>") -> LintReport:
    rep = LintReport(path)
    const: dict[str, int] = {}
    for ln in text.splitlines():
        m = _CONST.match(ln)
        if m:
            const[m.group(1)] = int(m.group(2))

    def val(a: str) -> int | None:
        a = a.strip()
        if re.fullmatch(r"-?\d+", a):
            return int(a)
        return const.get(a)

    regs: dict[int, _Reg] | None = None

    def write(i: int | None, op: str, line: int, accumulate: bool = False) -> None:
        if i is None:
            return
        prev = regs.get(i)
        if prev is not None and not prev.read:
            legit_acc = accumulate and prev.op in ACCUMULATING | {"copy_tile"}
            if not legit_acc:
                what = f"DST[{i}] written by {op} overwrites the unread result of {prev.op} (line {prev.line})"
                rep.issues.append(Issue(line, "clobber", what))
        if accumulate and prev is not None and prev.op in ACCUMULATING and not prev.read:
            return  # same accumulation chain continues
        regs[i] = _Reg(op, line)

    def read(i: int | None) -> None:
        if i is not None and i in regs:
            regs[i].read = True

    for lineno, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if s.startswith("tile_regs_acquire"):
            regs = {}
            rep.regions += 1
            continue
        if regs is None:
            continue
        if s.startswith("tile_regs_release"):
            for i, r in sorted(regs.items()):
                if not r.read:
                    rep.issues.append(Issue(r.line, "dead", f"DST[{i}] result of {r.op} is never read or packed"))
            regs = None
            continue
        m = _CALL.match(s)
        if not m:
            continue
        name, args = m.group(1), [a for a in _ARGSPLIT.split(m.group(2)) if a.strip()]
        is_tile_op = "tile" in name or name.startswith("matmul")
        if is_tile_op and not name.endswith("_init") and not name.startswith("tile_regs"):
            rep.ops.add(name)
        if name in WRITERS and len(args) > WRITERS[name]:
            write(val(args[WRITERS[name]]), name, lineno)
        elif _binary_sfpu(name) and len(args) >= 3:
            a, b, o = val(args[0]), val(args[1]), val(args[2])
            read(a)
            read(b)
            # writing in place over one of its own operands is the normal SFPU form
            if o in (a, b):
                regs[o] = _Reg(name, lineno)
            else:
                write(o, name, lineno)
        elif name == "matmul_block" and len(args) >= 8:
            d0, ct, rt = val(args[4]), val(args[6]), val(args[7])
            if None not in (d0, ct, rt):
                for i in range(d0, d0 + ct * rt):
                    write(i, name, lineno, accumulate=True)
        elif name in ("matmul_tiles", "reduce_tile") and len(args) >= 5:
            write(val(args[4]), name, lineno, accumulate=True)
        elif name == "pack_tile" and args:
            read(val(args[0]))
        elif name == "pack_tile_block" and len(args) >= 3:
            d0, n = val(args[0]), val(args[2])
            if None not in (d0, n):
                for i in range(d0, d0 + n):
                    read(i)
        elif name.endswith("_tile") and args and not name.endswith("_init") and not name.startswith(("pack", "cb_")):
            # unary SFPU op: reads and rewrites DST[arg0] in place
            i = val(args[0])
            if i is not None and i in regs:
                regs[i] = _Reg(name, lineno, read=False)
    return rep


def lint_file(path: str) -> LintReport:
    with open(path) as f:
        return lint_source(f.read(), path)


def missing_ops(ops_found: set[str], expected: list[str] | tuple[str, ...]) -> list[str]:
    """Expected op patterns (regular expressions over op names) that no call in the code matches."""
    return [p for p in expected if not any(re.fullmatch(p, o) for o in ops_found)]
