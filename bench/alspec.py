"""ALSpec figures that need no model: the two-device swap's traffic on the simulator and the latency table.

    python bench/alspec.py [--hw n300] [--hit 0,0.5,0.875,1] [--out bench/results]

1. ``bench/results/alspec_swap_traffic.json`` (the format of ``bench/traffic.py``: kernel, params, bytes,
   min_bytes, ratio, ...): ``mesh_swap`` / ``mesh_swap_with_priority`` of the residual stream
   ``[32, hidden]`` (bf16) for each model hidden size on the simulator's 1x2 mesh, with the select's DRAM
   traffic from the copy trace (per device view; the all_gather is a host emulation on the simulator and
   moves nothing the trace can see).  Minimum = the gathered pair read once + the two priority tiles once
   + the output written once.  Each value checked bit-exact against the expected tensors.
2. ``bench/results/alspec_latency.json``: :mod:`models.alspec.latency` for Llama-3.1-8B, context 1K..128K,
   at the given hit rates, with every ``bench/results/*.json`` traffic record applied.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ttl_kernels import env

env.apply_defaults()  # before torch loads (OMP_WAIT_POLICY)

import torch

from models.alspec import latency as lat
from ttl_kernels import host, runtime
from ttl_kernels.ccl import default_mesh, from_mesh, mesh_swap, mesh_swap_with_priority, priority_tiles, to_mesh
from ttl_kernels.registry import model_dims
from ttl_kernels.shapes import DECODE_ROWS
from ttl_kernels.trace import trace_traffic

RESULTS = Path(__file__).resolve().parent / "results"


def swap_traffic(rows: int, cols: int, with_priority: bool) -> dict:
    mesh = default_mesh()
    g = torch.Generator().manual_seed(cols)
    a, b = torch.randn(rows, cols, generator=g), torch.randn(rows, cols, generator=g)
    x = to_mesh([a, b], mesh, "bf16")
    prio = priority_tiles(2, 1, mesh, "bf16")
    t0 = time.perf_counter()
    with trace_traffic() as t:
        out = mesh_swap_with_priority(x, prio) if with_priority else mesh_swap(x)
    wall = time.perf_counter() - t0
    qa, qb = host.quantize(a, "bf16"), host.quantize(b, "bf16")
    expect = [qa, qa] if with_priority else [qb, qa]
    exact = all(torch.equal(p, q) for p, q in zip(from_mesh(out), expect))
    tile = host.TILE_BYTES["bf16"]
    n_out = host.tiles(rows) * host.tiles(cols)
    views = 2  # the simulator runs both device views in one op call
    minimum = views * (2 * n_out + 2 + n_out) * tile
    return {"kernel": "mesh_select", "op": "mesh_swap_with_priority" if with_priority else "mesh_swap",
            "params": {"rows": rows, "cols": cols, "dtype": "bf16"}, "bytes": t.total_bytes, "min_bytes": minimum,
            "ratio": round(t.total_bytes / minimum, 4), "cores": t.cores, "exact": exact, "sim_wall_s": round(wall, 3),
            "per_device_link_bytes": n_out * tile, "traffic": t.as_dict()}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hw", default="n300", choices=sorted(k for k, v in lat.HARDWARE.items() if v.link_gbps))
    ap.add_argument("--hit", default="0,0.5,0.875,1")
    ap.add_argument("--out", default=str(RESULTS),
                    help="where the two JSON files go (and the traffic records are read from)")
    a = ap.parse_args(argv)
    results = Path(a.out)
    results.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python bench/alspec.py", *argv])
    mach = env.machine()
    recs = []
    for h in model_dims("hidden"):
        for prio in (False, True):
            r = swap_traffic(DECODE_ROWS, h, prio)
            recs.append(r)
            print(f"{r['op']:<24} [{DECODE_ROWS}, {h:>4}] bf16: {r['bytes']:>8} B (min {r['min_bytes']:>8}, ratio "
                  f"{r['ratio']:.3f}) cores {r['cores']:>2} exact {r['exact']} sim {r['sim_wall_s']:.2f} s")
    (results / "alspec_swap_traffic.json").write_text(json.dumps(
        {"command": command, "machine": mach, "backend": runtime.backend_name(),
         "grid": list(runtime.grid()), "results": recs}, indent=1))
    measured = lat.load_measured(sorted(results.glob("*.json")))
    hits = [float(x) for x in a.hit.split(",")]
    shape, hw = lat.MODELS["llama-3.1-8b"], lat.HARDWARE[a.hw]
    rows = lat.latency_table(shape, hw, hits, measured=measured)
    print(f"\n{shape.name} on a {hw.name} pair vs one chip, S=128, batch 1; measured traffic ratios {measured.ratio}")
    print(lat.format_table(rows))
    (results / "alspec_latency.json").write_text(json.dumps(
        {"command": command, "machine": mach, "hw": hw.__dict__, "model": shape.__dict__, "paper": lat.PAPER,
         "measured": {"ratio": measured.ratio, "sources": measured.sources}, "rows": rows}, indent=1))
    print(f"\nwrote {results / 'alspec_swap_traffic.json'} and {results / 'alspec_latency.json'}")
    return 0 if all(r["exact"] for r in recs) else 1


if __name__ == "__main__":
    sys.exit(main())
