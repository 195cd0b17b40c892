"""The report's own plot: the modelled decode-attention bandwidth vs context (``attention_bandwidth.png``)."""

from __future__ import annotations

from pathlib import Path

from .hardware import HW_GBPS, LAUNCH_US, TTNN_GBPS, useful_gbps


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def attention_plot(rows: list[dict], path: Path) -> bool:
    """Plot flash-decode rows (sorted by context) to ``path``; False when there are none."""
    if not rows:
        return False
    plt = pyplot()
    ctx = [r["context"] for r in rows]
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    for hw, c in (("n150", "tab:blue"), ("p150", "tab:green")):
        ax.plot(ctx, [useful_gbps(r, hw, False) for r in rows], color=c, ls=":", marker=".",
                label=f"{hw}: traced bytes at DRAM peak (roofline)")
        ax.plot(ctx, [useful_gbps(r, hw, True) for r in rows], color=c, marker="o",
                label=f"{hw}: roofline + {LAUNCH_US:g} us launch")
        ax.axhline(HW_GBPS[hw], color=c, lw=0.8, ls="--", alpha=0.6)
        ax.text(ctx[0], HW_GBPS[hw] * 1.01, f"{hw} DRAM peak {HW_GBPS[hw]:g} GB/s", fontsize=7, color=c, va="bottom")
    ax.axhline(TTNN_GBPS, color="tab:red", lw=2)
    ax.text(ctx[-1], TTNN_GBPS * 0.97, f"ttnn flash decode measured on Wormhole: ~{TTNN_GBPS:g} GB/s (anchor)",
            fontsize=7, color="tab:red", va="top", ha="right")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ctx, [f"{c // 1024}K" for c in ctx])
    ax.set(xlabel="context (tokens)", ylabel="useful bandwidth = K+V bytes / modelled time (GB/s)", ylim=(0, 560),
           title="Decode attention (flash_decode), Llama-3.1-8B, batch 1, bf16 KV: modelled bandwidth")
    ax.title.set_fontsize(9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, 0.93))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
