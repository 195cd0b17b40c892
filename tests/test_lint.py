"""The generated-code lint: synthetic C++ (fast) and the three real 1.1.1 miscompiles (compiled here)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ttl_kernels.compile import compile_cases
from ttl_kernels.lint import lint_source, missing_ops

HEAD = "void kernel_main() {\n  size_t v0 = 0;\n  size_t v1 = 1;\n  size_t v2 = 2;\n"


def _src(body: str) -> str:
    return (HEAD + "  tile_regs_acquire();\n" + body + "  tile_regs_commit();\n  tile_regs_wait();\n"
            + "  tile_regs_release();\n}\n")


def test_clean_region():
    rep = lint_source(_src("  copy_tile(c0, v0, v0);\n  exp_tile(v0);\n  pack_tile<true>(v0, c1, v0);\n"))
    assert rep.clean and rep.ops == {"copy_tile", "exp_tile", "pack_tile"}


def test_dead_result_is_flagged():
    rep = lint_source(_src("  copy_tile(c0, v0, v0);\n  copy_tile(c0, v1, v1);\n  binary_max_tile(v0, v1, v1);\n"
                           "  pack_tile<true>(v0, c1, v0);\n"))
    assert [i.kind for i in rep.issues] == ["dead"]


def test_clobber_is_flagged():
    rep = lint_source(_src("  fill_tile(v1, 5);\n  copy_tile(c0, v0, v1);\n  pack_tile<true>(v1, c1, v0);\n"))
    assert [i.kind for i in rep.issues] == ["clobber"]


def test_accumulate_onto_copied_value_is_the_documented_idiom():
    rep = lint_source(_src("  copy_tile(c0, v0, v0);\n  matmul_block(c1, c2, v0, v0, v0, v0, v1, v1, v1);\n"
                           "  pack_tile<true>(v0, c3, v0);\n"))
    assert rep.clean


def test_missing_ops():
    assert missing_ops({"silu_tile", "mul_binary_tile"}, ["silu_tile", "mul_(binary_tile|tiles)"]) == []
    assert missing_ops({"silu_tile"}, ["silu_tile", "mul_(binary_tile|tiles)"]) == ["mul_(binary_tile|tiles)"]


def test_cli_exit_status(tmp_path):
    good, bad = tmp_path / "good.cpp", tmp_path / "bad.cpp"
    good.write_text(_src("  copy_tile(c0, v0, v0);\n  silu_tile(v0);\n  pack_tile<true>(v0, c1, v0);\n"))
    bad.write_text(_src("  fill_tile(v1, 5);\n  copy_tile(c0, v0, v1);\n  pack_tile<true>(v1, c1, v0);\n"))
    run = lambda *a: subprocess.run([sys.executable, "-m", "ttl_kernels.lint", *a], capture_output=True, text=True)  # noqa: E731
    assert run(str(good), "--expect", "silu_tile").returncode == 0
    assert run(str(good), "--expect", "exp_tile").returncode == 1
    r = run(str(bad))
    assert r.returncode == 1 and "clobber" in r.stdout


@pytest.mark.compile
@pytest.mark.parametrize("arch", ["n150", "p150"])
def test_lint_catches_the_real_miscompiles(arch):
    """C1-C3 compiled by the real compiler are flagged; the stored-alone controls are clean."""
    cases = [f"tests.pitfall_kernels:run:kind={k}" for k in (1, 2, 3, 4, 5)]
    res = {r.case[-1]: r for r in compile_cases(cases, arch)}
    assert all(r.ok for r in res.values()), [r.line() for r in res.values()]
    for bad in "123":
        assert res[bad].issues, f"lint missed miscompile C{bad}: {res[bad].line()}"
    for good in "45":
        assert not res[good].issues, res[good].line()
