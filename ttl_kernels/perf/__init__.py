"""Performance model of TT-Lang kernel calls on Wormhole n150 and Blackhole p150.

Counts what a call executes on the simulator (per launch, core and thread: tile ops by kind, dataflow-buffer
hand-offs, DRAM and core-to-core bytes; :mod:`.counter`), then turns the counts into time per chip
(:mod:`.model`) with the figures of :mod:`.hardware`, the one place every hardware figure of the project
lives, each with its source.

From Python::

    from ttl_kernels.perf import model_call, model_case
    res = model_call(silu_mul, g, u, min_bytes=...)          # {"n150": KernelModel, "p150": KernelModel}
    res = model_case("flash_decode", dict(batch=1, n_q=32, n_kv=8, head_dim=128, s_max=32768, pos=32767))

From the shell: ``ttl-perf KERNEL:k=v,... [--chip n150|p150|both] [--json OUT] [--sensitivity]``,
``ttl-perf validate``, ``ttl-perf figures``.
"""

from .counter import CallCounts, LaunchCounts, OpCounter, ThreadCounts
from .hardware import CHIPS, ETHERNET, HARDWARE, Figure, Hardware, figure_table, figures
from .model import KernelModel, LaunchModel, model, sensitivity
from .run import chip_grid, count_call, count_case, model_call, model_case

__all__ = [
    "CHIPS",
    "ETHERNET",
    "HARDWARE",
    "CallCounts",
    "Figure",
    "Hardware",
    "KernelModel",
    "LaunchCounts",
    "LaunchModel",
    "OpCounter",
    "ThreadCounts",
    "chip_grid",
    "count_call",
    "count_case",
    "figure_table",
    "figures",
    "model",
    "model_call",
    "model_case",
    "sensitivity",
]
