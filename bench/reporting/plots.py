"""The report's own plot: the modelled decode-attention bandwidth vs context (``attention_bandwidth.png``)."""

from __future__ import annotations

from pathlib import Path

from .hardware import HW_GBPS, TTNN_GBPS, roofline_us


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def attention_plot(rows: list[dict], path: Path) -> bool:
    """Plot flash-decode rows (sorted by context; bf16 and bfp8_b caches) to ``path``; False when there are none."""
    if not rows:
        return False
    plt = pyplot()
    ctx = sorted({r["context"] for r in rows})
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    for hw, c in (("n150", "tab:blue"), ("p150", "tab:green")):
        for kv, ls in (("bf16", "-"), ("bfp8_b", "--")):
            rs = sorted((r for r in rows if r.get("kv_dtype", "bf16") == kv and hw in r), key=lambda r: r["context"])
            if not rs:
                continue
            x = [r["context"] for r in rs]
            ax.plot(x, [r[hw]["useful_gbps"] for r in rs], color=c, ls=ls, marker="o",
                    label=f"{hw}, {kv} KV: cycle model")
            if kv == "bf16":
                ax.plot(x, [r["min_bytes"] / roofline_us(r["bytes"] if hw == "n150" else r["model_bytes_p150"], hw)
                            / 1e3 for r in rs], color=c, ls=":", marker=".", alpha=0.6,
                        label=f"{hw}, {kv} KV: traced bytes at the DRAM peak (roofline)")
        ax.axhline(HW_GBPS[hw], color=c, lw=0.8, ls="--", alpha=0.6)
        ax.text(ctx[0], HW_GBPS[hw] * 1.01, f"{hw} DRAM peak {HW_GBPS[hw]:g} GB/s", fontsize=7, color=c, va="bottom")
    ax.axhline(TTNN_GBPS, color="tab:red", lw=2)
    ax.text(ctx[-1], TTNN_GBPS * 0.97, f"ttnn flash decode measured on Wormhole: ~{TTNN_GBPS:g} GB/s (anchor)",
            fontsize=7, color="tab:red", va="top", ha="right")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ctx, [f"{c // 1024}K" for c in ctx])
    ax.set(xlabel="context (tokens)", ylabel="useful bandwidth = K+V bytes / modelled time (GB/s)", ylim=(0, 560),
           title="Decode attention (flash_decode), Llama-3.1-8B, batch 1: modelled bandwidth (ttl_kernels.perf)")
    ax.title.set_fontsize(9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, 0.93))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
