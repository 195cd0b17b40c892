"""Environment variables of the project: every name, its default and its meaning, in one place.

Entry points (``models/*.py``, ``bench/*.py``, ``training/*.py``, the test suite) call :func:`apply_defaults`
first, before torch is imported, so the process-wide defaults below hold whichever way a program starts
(``make run``, ``python models/qwen3_dflash.py``, ``python -m models.qwen3_dflash`` from an installed
package).  Libraries never write the environment when imported; they read it through :func:`get`.

This module imports nothing heavy (no torch, no tt-lang), so importing it first costs nothing.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Variable:
    name: str
    default: str | None  # None: unset unless the user sets it
    meaning: str
    process_default: bool = False  # True: apply_defaults() sets it (setdefault) for the whole process


VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in (
        Variable("TTL_KERNELS_BACKEND", "auto", "kernel binding: auto (device if /dev/tenstorrent exists, else sim), "
                 "sim, device, compile"),
        Variable("TTL_KERNELS_ARCH", "n150", "mock target of the compile backend: n150 or p150"),
        Variable("TTL_KERNELS_GRID", None, "X,Y: override the core grid (default: n150's 8x8 on the simulator, "
                 "13x10 for p150)"),
        Variable("TTL_KERNELS_CHECKPOINTS", None, "directory of the shipped tiny checkpoints (default: checkpoints/ "
                 "of the checkout, else <prefix>/share/ttl-kernels/checkpoints of an installed package)"),
        Variable("TTL_HYPOTHESIS_PROFILE", "ci", "hypothesis example budget of the tests: ci or thorough"),
        Variable("OMP_WAIT_POLICY", "PASSIVE", "OpenMP threads sleep instead of spinning: keeps torch usable on "
                 "2-core machines when other work runs", process_default=True),
        Variable("HF_HUB_OFFLINE", "1", "no Hugging Face hub access, ever (checkpoints load from local "
                 "directories)", process_default=True),
        Variable("TRANSFORMERS_OFFLINE", "1", "transformers' own offline switch", process_default=True),
        Variable("LOGURU_LEVEL", "INFO", "loguru's level: ttnn logs its whole config at DEBUG when it is imported",
                 process_default=True),
    )
}


def get(name: str) -> str | None:
    """The variable's value, or its documented default when unset or blank."""
    var = VARIABLES[name]
    value = os.environ.get(name, "").strip()
    return value or var.default


def apply_defaults() -> None:
    """Set the process-wide defaults (``setdefault``: a value the user set wins).  Call it before
    importing torch: OpenMP reads ``OMP_WAIT_POLICY`` when the library loads."""
    for var in VARIABLES.values():
        if var.process_default and var.default is not None:
            os.environ.setdefault(var.name, var.default)


def repo_root() -> Path | None:
    """The checkout this package runs from (editable install or a source tree), or None when installed."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def machine() -> dict:
    """Host name, CPU model, cores, torch threads, Python / torch versions and the load average now (on a
    shared machine, the load says how much absolute times are worth): recorded next to every benchmark."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"node": platform.node(), "cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "torch": torch.__version__,
            "loadavg": [round(x, 2) for x in os.getloadavg()]}


def markdown_table() -> str:
    """The variables as a Markdown table (README.md shows it)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for v in VARIABLES.values():
        rows.append(f"| `{v.name}` | {('`' + v.default + '`') if v.default else '-'} | {v.meaning} |")
    return "\n".join(rows)
