"""The results directory the report reads (every bench script's JSON and plots) and the checkout it describes."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "bench" / "results"


@dataclass(frozen=True)
class Results:
    """A results directory: ``bench/results/`` unless ``--results`` names another."""

    dir: Path = DEFAULT_DIR

    def path(self, name: str) -> Path:
        return self.dir / name

    def load(self, name: str) -> dict | None:
        """The JSON document ``name``, or None when it is missing or not JSON."""
        return load_json(self.dir / name)


def load_json(p: Path) -> dict | None:
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text())
    except ValueError:
        return None


def rel(p: Path) -> str:
    """``p`` relative to the checkout's root when it lies inside it."""
    try:
        return str(Path(p).resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


def git_rev() -> str:
    """The checkout's short commit, marked when tracked files have uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    try:
        rev = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
        return rev + (" (+ uncommitted changes)" if dirty else "")
    except OSError:
        return "?"
