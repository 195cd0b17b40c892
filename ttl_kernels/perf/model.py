"""Turn counted work (:mod:`.counter`) into time on an n150 or a p150.

Per launch and per core (the three threads of a core overlap)::

    compute  = sum(tiles of kind k x cycles per tile of k) / clock        (math, unpack, pack; serial)
    handoff  = (reserve + wait calls of the compute thread) x hand-off cost
    dm_i     = DRAM stream time of thread i (its bytes, sharing the chip's DRAM bandwidth with every other
               streaming thread, each capped by one core's NoC bandwidth: a fluid / processor-sharing model)
               + transfer batches x DRAM latency + hand-offs x data-movement hand-off cost
               + core-to-core bytes / NoC bandwidth + core-to-core transfers x NoC latency
    core     = max(compute + handoff, dm_0, dm_1)

    body     = max(slowest core, all DRAM bytes of the launch / DRAM bandwidth)
    launch   = body + op-to-op launch gap (+ host dispatch per op when eager)

A kernel call is the sum of its launches.  The binding term of a launch is ``dram`` (the DRAM floor, or a
data-movement thread whose time is mostly DRAM streaming or latency), ``noc`` (mostly core-to-core),
``compute`` or ``handoff`` (the larger part of the compute thread on the slowest core), or ``dispatch``
(launch gap + host dispatch above the body).  The call's ``bound`` is the term that binds the largest share
of its time.

Expected error: the per-op costs are per-tile throughputs measured in isolation (or parameters, see
:mod:`.hardware`), the compute thread is a serial sum (unpack/math/pack pipelining within one store is
ignored: up to ~1.4x pessimistic on pure copy streams, per the MB1 composition note), readers and writers
get ideal DRAM sharing, and dependencies between cores (a merge waiting for partials) are not modelled
beyond "the next launch starts when this one ends".  tt-lang's own ideal-peak estimator lands 1.4-1.7x under
measured times; this model adds hand-offs and SFPU costs, so it should sit closer, still leaning low for
DRAM-bound kernels (spec bandwidth) and for NoC-heavy ones.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from .counter import CallCounts, LaunchCounts, ThreadCounts
from .hardware import CHIPS, DISPATCH_MODES, Figure, figures

TERMS = ("dram", "compute", "handoff", "noc", "dispatch")


def op_cycles(kind: str, fig: dict[str, Figure]) -> tuple[float, str]:
    """(cycles per tile, figure name used) for a counted op kind."""
    if kind.startswith("matmul."):
        parts = kind.split(".")
        cyc = fig[f"matmul.{parts[1]}"].value
        if len(parts) > 2 and parts[2] == "fp32":
            cyc *= fig["matmul.fp32_dest_factor"].value
        return cyc, f"matmul.{parts[1]}"
    if kind in fig:
        return fig[kind].value, kind
    if kind.startswith("sfpu_binary."):
        return fig["sfpu.default"].value, "sfpu.default"
    if kind.startswith("sfpu."):
        return fig["sfpu.default"].value, "sfpu.default"
    return fig["sfpu.default"].value, "sfpu.default"


_OP_FIGURES = ("unpack", "pack", "fill", "transpose", "typecast", "bcast", "reduce")


def is_cost_figure(name: str) -> bool:
    """A cost-table entry (cycles per tile of an op kind), as opposed to a chip figure."""
    return name in _OP_FIGURES or name.startswith(("matmul.", "fpu.", "sfpu.", "sfpu_binary."))


def uncosted_kinds(ops: Counter, chip: str) -> list[str]:
    """Counted kinds that fall back to ``sfpu.default`` (no figure of their own)."""
    fig = figures(chip)
    return sorted(k for k in ops if op_cycles(k, fig)[1] == "sfpu.default" and k != "sfpu.default")


# ------------------------------------------------------------------------------------------ results


@dataclass
class CoreTime:
    core: int
    compute_us: float
    handoff_us: float
    dm_us: dict[str, float]          # thread name -> time
    dram_stream_us: dict[str, float]  # thread name -> DRAM streaming part
    dram_latency_us: dict[str, float]
    noc_us: dict[str, float]
    total_us: float
    bound: str
    ops: dict[str, int] = field(default_factory=dict)
    handoffs: int = 0
    dram_bytes: int = 0


@dataclass
class LaunchModel:
    name: str
    grid: list[int]
    cores: int
    dram_bytes: int
    dram_us: float        # launch's DRAM bytes / DRAM bandwidth (the floor)
    compute_us: float     # slowest core's compute
    handoff_us: float     # slowest core's compute-thread hand-offs
    noc_us: float         # largest core-to-core time of any thread
    dm_us: float          # slowest data-movement thread
    body_us: float
    launch_us: float
    dispatch_us: float
    model_us: float
    bound: str
    slowest_core: int
    per_core: list[CoreTime] = field(default_factory=list)


@dataclass
class KernelModel:
    """The model of one kernel call on one chip (times in microseconds)."""

    chip: str
    dispatch: str
    dram_us: float
    compute_us: float
    handoff_us: float
    noc_us: float
    launch_us: float
    dispatch_us: float
    model_us: float
    bound: str
    dram_bytes: int
    min_bytes: int | None
    useful_gbps: float | None
    ratio_to_dram: float
    launches: list[LaunchModel]
    op_counts: dict[str, int]
    binding_core_ops: dict[str, int]
    uncosted: list[str]
    bound_shares: dict[str, float]

    def as_dict(self, per_core: bool = True) -> dict:
        d = asdict(self)
        if not per_core:
            for launch in d["launches"]:
                launch.pop("per_core")
        return d

    def line(self) -> str:
        u = "" if self.useful_gbps is None else f" useful {self.useful_gbps:.0f} GB/s"
        return (f"{self.chip}: model {self.model_us:.2f} us ({self.bound}) dram {self.dram_us:.2f} compute "
                f"{self.compute_us:.2f} handoff {self.handoff_us:.2f} noc {self.noc_us:.2f} launch "
                f"{self.launch_us + self.dispatch_us:.2f} ratio {self.ratio_to_dram:.2f}{u}")


# ------------------------------------------------------------------------------------------ the model


def fluid_finish(streams: list[float], cap: float, aggregate: float) -> list[float]:
    """Finish times of byte streams sharing ``aggregate`` bandwidth equally, each capped at ``cap``."""
    n = len(streams)
    out = [0.0] * n
    order = sorted(range(n), key=lambda i: streams[i])
    t = done = 0.0
    active = sum(1 for s in streams if s > 0)
    for i in order:
        if streams[i] <= 0:
            continue
        rate = min(cap, aggregate / active)
        t += (streams[i] - done) / rate
        done = streams[i]
        out[i] = t
        active -= 1
    return out


def model_launch(launch: LaunchCounts, chip: str, fig: dict[str, Figure], dispatch: str = "traced") -> LaunchModel:
    ghz = fig["clock_ghz"].value
    dram_bps = fig["dram_gbps"].value * 1e9
    noc_bps = fig["noc_bytes_per_cycle"].value * ghz * 1e9
    hand_us = fig["handoff_cycles"].value / (ghz * 1e3)
    dm_hand_us = fig["dm_handoff_cycles"].value / (ghz * 1e3)
    dram_lat_us = fig["dram_latency_cycles"].value / (ghz * 1e3)
    noc_lat_us = fig["noc_latency_cycles"].value / (ghz * 1e3)

    # DRAM streams: one per data-movement thread (each thread drives its own NoC), sharing the chip's DRAM
    keys: list[tuple[int, str]] = []
    streams: list[float] = []
    for core, threads in launch.cores.items():
        for name, t in threads.items():
            if t.role != "compute" and t.dram_bytes:
                keys.append((core, name))
                streams.append(float(t.dram_bytes))
    finish = dict(zip(keys, fluid_finish(streams, noc_bps, dram_bps))) if streams else {}

    per_core: list[CoreTime] = []
    for core, threads in sorted(launch.cores.items()):
        comp_cyc = 0.0
        hand = 0.0
        ops: Counter = Counter()
        handoffs = 0
        dm, stream, lat, noc = {}, {}, {}, {}
        for name, t in threads.items():
            if t.role == "compute":
                comp_cyc += sum(n * op_cycles(k, fig)[0] for k, n in t.ops.items())
                hand += t.handoffs * hand_us
                ops.update(t.ops)
                handoffs += t.handoffs
            else:
                s = finish.get((core, name), 0.0) * 1e6
                la = t.batches * dram_lat_us if t.dram_bytes else 0.0
                nc = t.noc_bytes / noc_bps * 1e6 + t.noc_transfers * noc_lat_us
                stream[name], lat[name], noc[name] = s, la, nc
                dm[name] = s + la + nc + t.handoffs * dm_hand_us
        comp = comp_cyc / (ghz * 1e3)
        total = max([comp + hand, *dm.values()])
        if comp + hand >= max(dm.values(), default=0.0):
            bound = "compute" if comp >= hand else "handoff"
        else:
            worst = max(dm, key=dm.get)
            bound = "noc" if noc[worst] > stream[worst] + lat[worst] else "dram"
        per_core.append(CoreTime(core, comp, hand, dm, stream, lat, noc, total, bound, dict(ops), handoffs,
                                 sum(t.dram_bytes for t in threads.values())))

    dram_bytes = sum(c.dram_bytes for c in per_core)
    dram_us = dram_bytes / dram_bps * 1e6
    slow = max(per_core, key=lambda c: c.total_us) if per_core else None
    core_us = slow.total_us if slow else 0.0
    body = max(core_us, dram_us)
    bound = "dram" if dram_us >= core_us or slow is None else slow.bound
    launch_us = fig["launch_us"].value
    disp_us = dispatch_cost(fig, dispatch)
    if launch_us + disp_us > body:
        bound = "dispatch"
    return LaunchModel(
        name=launch.name, grid=list(launch.grid), cores=len(per_core), dram_bytes=dram_bytes, dram_us=dram_us,
        compute_us=slow.compute_us if slow else 0.0, handoff_us=slow.handoff_us if slow else 0.0,
        noc_us=max((v for c in per_core for v in c.noc_us.values()), default=0.0),
        dm_us=max((v for c in per_core for v in c.dm_us.values()), default=0.0), body_us=body,
        launch_us=launch_us, dispatch_us=disp_us, model_us=body + launch_us + disp_us, bound=bound,
        slowest_core=slow.core if slow else -1, per_core=per_core)


def dispatch_cost(fig: dict[str, Figure], dispatch: str) -> float:
    if dispatch == "traced":
        return 0.0
    if dispatch == "eager":
        return fig["dispatch_eager_us"].value
    if dispatch == "eager_python":
        return fig["dispatch_eager_python_us"].value
    raise ValueError(f"dispatch must be one of {DISPATCH_MODES}; got {dispatch!r}")


def model(counts: CallCounts, chip: str, *, min_bytes: int | None = None, dispatch: str = "traced",
          overrides: dict[str, float] | None = None) -> KernelModel:
    """Model a counted kernel call on ``chip`` ("n150" or "p150").

    ``min_bytes``: the minimum DRAM traffic of the call (for ``useful_gbps``); ``dispatch``: "traced" (no host
    cost per op), "eager" or "eager_python"; ``overrides``: figure name -> value (see :mod:`.hardware`)."""
    if chip not in CHIPS:
        raise ValueError(f"chip must be one of {CHIPS}; got {chip!r}")
    fig = figures(chip, overrides)
    launches = [model_launch(launch, chip, fig, dispatch) for launch in counts.launches]
    total = sum(m.model_us for m in launches)
    shares = dict.fromkeys(TERMS, 0.0)
    for m in launches:
        if m.bound == "dispatch":
            shares["dispatch"] += m.model_us
        else:
            shares[m.bound] += m.body_us
            shares["dispatch"] += m.launch_us + m.dispatch_us
    bound = max(shares, key=shares.get) if launches else "dispatch"
    dram_us = sum(m.dram_us for m in launches)
    binding = max(launches, key=lambda m: m.body_us, default=None)
    bcore = next((c for c in binding.per_core if c.core == binding.slowest_core), None) if binding else None
    ops = counts.ops()
    return KernelModel(
        chip=chip, dispatch=dispatch, dram_us=dram_us, compute_us=sum(m.compute_us for m in launches),
        handoff_us=sum(m.handoff_us for m in launches), noc_us=sum(m.noc_us for m in launches),
        launch_us=sum(m.launch_us for m in launches), dispatch_us=sum(m.dispatch_us for m in launches),
        model_us=total, bound=bound, dram_bytes=counts.dram_bytes, min_bytes=min_bytes,
        useful_gbps=None if not min_bytes or total <= 0 else min_bytes / (total * 1e-6) / 1e9,
        ratio_to_dram=total / dram_us if dram_us > 0 else float("inf"), launches=launches,
        op_counts=dict(sorted(ops.items())), binding_core_ops=dict(sorted((bcore.ops if bcore else {}).items())),
        uncosted=uncosted_kinds(ops, chip), bound_shares={k: round(v, 4) for k, v in shares.items()})


def sensitivity(counts: CallCounts, chip: str, *, min_bytes: int | None = None, dispatch: str = "traced",
                names: list[str] | None = None, only_used: bool = True) -> list[dict]:
    """Rerun the model with each figure halved and doubled.  Rows: figure, confirmed, source, model_us at x0.5 /
    x1 / x2 and the bound at each.  ``only_used``: skip figures that cannot change this call's result (op
    kinds it never executed)."""
    fig = figures(chip)
    base = model(counts, chip, min_bytes=min_bytes, dispatch=dispatch)
    ops = counts.ops()
    used = {op_cycles(k, fig)[1] for k in ops}
    if any(k.endswith(".fp32") for k in ops):
        used.add("matmul.fp32_dest_factor")
    rows = []
    for name, f in fig.items():
        if names is not None and name not in names:
            continue
        if only_used and is_cost_figure(name) and name not in used:
            continue
        if name in ("grid_x", "grid_y", "dram_gb", "l1_kib", "peak_tflops", "attn_gbps", "matmul_dram_gbps",
                    "matmul_cores"):
            continue  # not inputs of this model (the grid is the one the kernel ran on; the last two: projections)
        if name.startswith("dispatch_eager") and dispatch == "traced":
            continue
        lo = model(counts, chip, min_bytes=min_bytes, dispatch=dispatch, overrides={name: f.value * 0.5})
        hi = model(counts, chip, min_bytes=min_bytes, dispatch=dispatch, overrides={name: f.value * 2.0})
        rows.append(dict(figure=name, value=f.value, unit=f.unit, confirmed=f.confirmed, source=f.source,
                         model_us_half=round(lo.model_us, 3), model_us=round(base.model_us, 3),
                         model_us_double=round(hi.model_us, 3), bound_half=lo.bound, bound=base.bound,
                         bound_double=hi.bound,
                         swing=round(max(abs(lo.model_us - base.model_us), abs(hi.model_us - base.model_us))
                                     / base.model_us, 4) if base.model_us else 0.0))
    rows.sort(key=lambda r: -r["swing"])
    return rows


def thread_summary(t: ThreadCounts) -> str:
    return (f"{t.role}:{t.name} ops={sum(t.ops.values())} handoffs={t.handoffs} dram={t.dram_bytes} "
            f"noc={t.noc_bytes} batches={t.batches}")
