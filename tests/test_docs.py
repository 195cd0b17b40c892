"""The docs do not drift from their one source: README's environment table is ttl_kernels.env's, and every
relative link of the READMEs points at a file that exists."""

from __future__ import annotations

import re
from pathlib import Path

from ttl_kernels import env

ROOT = Path(__file__).resolve().parent.parent
READMES = ["README.md", "ttl_kernels/README.md", "models/README.md", "reference/README.md", "training/README.md"]


def test_readme_environment_table_is_env_modules():
    assert env.markdown_table() in (ROOT / "README.md").read_text()


def test_readme_links_resolve():
    for name in READMES:
        path = ROOT / name
        for target in re.findall(r"\]\(([^)#:]+)\)", path.read_text()):
            assert (path.parent / target).exists(), f"{name}: broken link {target}"
