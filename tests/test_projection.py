"""The silicon projection (models/projection.py): built from the cycle model's costs of each step's own kernel
instances (the shipped table), and sane: DFlash's tokens/s grow with tau, tau 1 cannot win (the draft and the
verify block cost more than a decode step), eager dispatch never beats traced, and the table covers the run's
shapes.  No hard-coded speeds."""

from __future__ import annotations

import json

import pytest

from models import projection


@pytest.fixture(scope="module")
def table():
    if not projection.TABLE.is_file():
        pytest.fail(f"{projection.TABLE} is missing: python -m models.projection --build")
    return json.loads(projection.TABLE.read_text())


def test_table_covers_every_setup_chip_and_block(table):
    assert set(table["setups"]) == {label for label, _, _ in projection.SETUPS}
    for entry in table["setups"].values():
        for chip in ("n150", "p150"):
            assert f"decode/1/{chip}" in entry["steps"] and f"select/1/{chip}" in entry["steps"]
            for b in projection.BLOCKS:
                for kind in ("verify", "draft", "select"):
                    s = entry["steps"][f"{kind}/{b}/{chip}"]
                    assert (s.get("kernels_us") or s.get("us")) > 0


def test_projection_is_monotone_and_never_free(table):
    for block in (4, 16):
        low, high = projection.project(1.0, block, table=table), projection.project(6.0, block, table=table)
        for a, b in zip(low, high):
            assert a["speedup"] < 1.0  # tau 1: a draft step and a verify block cost more than a decode step
            assert b["dflash_tok_s"] > a["dflash_tok_s"] and b["plain_tok_s"] == a["plain_tok_s"]
    rows = projection.project(3.0, 8, table=table)
    by = {(r["setup"], r["chip"], r["dispatch"]): r for r in rows}
    for (setup, chip, dispatch), r in by.items():
        if dispatch == "eager":
            assert r["plain_tok_s"] <= by[(setup, chip, "traced")]["plain_tok_s"]
        if chip == "n150":
            assert r["plain_tok_s"] <= by[(setup, "p150", dispatch)]["plain_tok_s"]  # p150: more DRAM bandwidth
