"""The hardware figures the report quotes, from :mod:`ttl_kernels.perf.hardware` (the project's one source, each figure
with its source there), and the roofline arithmetic on them."""

from __future__ import annotations

from ttl_kernels.perf.hardware import CHIPS, figures

_F = {c: figures(c) for c in CHIPS}
HW_GBPS = {c: _F[c]["dram_gbps"].value for c in CHIPS}  # DRAM peak per chip
MATMUL_GBPS = {c: _F[c]["matmul_dram_gbps"].value for c in CHIPS}  # decode matmuls' measured DRAM rate (n150)
LAUNCH_US = _F["n150"]["launch_us"].value  # traced op-to-op gap per launch (the cycle model's launch term)
DISPATCH_US = _F["n150"]["dispatch_eager_us"].value  # eager host dispatch per op
TTNN_GBPS = _F["n150"]["attn_gbps"].value  # ttnn's flash decode measured on Wormhole (the anchor)
DRAM_GB = {c: _F[c]["dram_gb"].value for c in CHIPS}


def roofline_us(nbytes: float, hw: str) -> float:
    """Microseconds to move ``nbytes`` at ``hw``'s DRAM peak."""
    return nbytes / (HW_GBPS[hw] * 1e3)
