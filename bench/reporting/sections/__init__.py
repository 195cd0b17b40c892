"""One module per REPORT.md section; each ``section(res, mach, runs) -> (markdown, summary figures)``, and
:mod:`.summary` turns the sections' figures into the summary table at the top."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..md import provenance
from ..results import Results

# (JSON file, heading, name of the command that writes it, writer of the part's body from the document)
Part = tuple[str, str, str, Callable[[Results, dict, dict], list[str]]]


def parts(res: Results, mach: dict, runs: dict, summ: dict, table: Sequence[Part]) -> list[str]:
    """Each part: its heading, the provenance of its JSON document, and the body when the document exists (the writer
    adds its figures to ``summ``)."""
    out = []
    for name, heading, run, body in table:
        doc = res.load(name)
        out += [heading, provenance(doc, mach, runs.get(run))]
        if doc:
            out += body(res, doc, summ)
    return out
