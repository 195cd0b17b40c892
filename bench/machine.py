"""The machine a benchmark ran on, as every bench script records it next to its figures."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine() -> dict:
    """Host name, CPU model, cores, torch threads, Python / torch versions and the load average now (on a
    shared machine, the load says how much the absolute times are worth)."""
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
            "python": platform.python_version(), "torch": torch.__version__, "loadavg": [round(x, 2) for x in os.getloadavg()]}
