"""Markdown pieces of REPORT.md: tables, byte counts, kernel parameters, provenance lines, notes."""

from __future__ import annotations

from collections.abc import Iterable


def md_table(head: list[str], rows: list[list], align: str | None = None) -> str:
    """A Markdown table; ``align`` one letter per column, ``l`` or ``r`` (default: the first left, the rest right)."""
    align = align or "l" + "r" * (len(head) - 1)
    sep = ["---:" if a == "r" else ":---" for a in align]
    out = ["| " + " | ".join(head) + " |", "| " + " | ".join(sep) + " |"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def fmt_bytes(n: float) -> str:
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= div:
            return f"{n / div:.2f} {unit}"
    return f"{n:.0f} B"


def params_str(p: dict) -> str:
    """A kernel instance's parameters in one cell: ``rows=32,cols=4096 (bf16, 2-pass)``."""
    skip = {"dtype", "eps", "passes", "model", "start", "kv_dtype", "chunk_size"}
    s = ",".join(f"{k}={v}" for k, v in p.items() if k not in skip)
    extra = [p["dtype"]] if "dtype" in p else []
    if p.get("passes", 1) != 1:
        extra.append(f"{p['passes']}-pass")
    return s + (f" ({', '.join(extra)})" if extra else "")


def provenance(doc: dict | None, mach: dict, run: dict | None = None) -> str:
    """The line under a table's heading: the command that wrote ``doc``, the machine, the run's exit and time."""
    if doc is None:
        return "_not run (no JSON)._"
    m = doc.get("machine")
    if isinstance(m, dict):
        where = f"{m.get('node')} ({m.get('cpu')}, {m.get('cores')} cores, {m.get('torch_threads')} torch threads)"
    else:
        where = f"{m or mach['node']} ({mach['cpu']}, {mach['cores']} cores)"
    s = f"Command: `{doc.get('command', '?')}` on {where}"
    if run is not None:
        s += f"; exit {run['rc']}, {run['seconds']:.0f} s wall"
    return s + "."


def notes(ns: Iterable[str], before: str = "", after: str = "\n") -> list[str]:
    """Each note as a quoted Markdown line, with ``before`` and ``after`` around it."""
    return [f"{before}> **note:** {n}{after}" for n in ns]


def ratio3(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def yes_no(ok: bool) -> str:
    return "yes" if ok else "NO"
