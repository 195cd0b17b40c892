"""The hardware figures the report models with, from :data:`models.alspec.latency.HARDWARE` (one source), and the
roofline arithmetic on them."""

from __future__ import annotations

from models.alspec.latency import HARDWARE

HW_GBPS = {hw: HARDWARE[hw].dram_gbps for hw in ("n150", "p150")}  # DRAM peak per chip
LAUNCH_US = HARDWARE["n150"].launch_us  # fixed cost of one op
TTNN_GBPS = HARDWARE["n150"].attn_gbps  # ttnn's flash decode measured on Wormhole (the anchor)


def roofline_us(nbytes: float, hw: str) -> float:
    """Microseconds to move ``nbytes`` at ``hw``'s DRAM peak."""
    return nbytes / (HW_GBPS[hw] * 1e3)


def useful_gbps(r: dict, hw: str, launch: bool) -> float:
    """K+V minimum bytes / modelled time (traced bytes at the DRAM peak [+ one launch]) of an attention row."""
    b = r["bytes"] if hw == "n150" else r["model_bytes_p150"]
    t = b / (HW_GBPS[hw] * 1e9) + (LAUNCH_US * 1e-6 if launch else 0.0)
    return r["min_bytes"] / t / 1e9
