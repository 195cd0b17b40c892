"""ALSpec on the TT-Lang kernel-built Llama-3 / Qwen3 models: kernel-level verify-only mode and the
two-device protocol over a 1x2 mesh (simulator).

Both modes run every per-layer op as a TT-Lang kernel (:class:`models.kernel_model.KernelOps`) and take the
attention from ONE pass of the speculative flash decode
(:mod:`ttl_kernels.attention.speculative_decode`: exact output, speculative sink + recent output, per-user
``dist2`` / ``norm2`` / verdict ``dist2 <= lambda^2 norm2``).  Decisions are made on the device from the
verdict tiles by TT-Lang select kernels; the host reads verdicts back only for statistics.

Verify-only (:class:`KernelALSpecAttention`, an ``attention`` hook of :func:`models.decoder_step.decode_step`)
    one device, one kernel pass per layer: per user the speculative output on a hit and the exact output on
    a miss, chosen by :func:`ttl_kernels.ccl.group_select` with the verdict tile of each user as the
    condition (the decode O layout ``[B * n_kv * 32, D]`` has ``n_kv`` tile rows per user).  This is how the
    paper measured quality; the torch counterpart is :mod:`models.alspec.reference`.

Two-device protocol (:class:`ALSpecProtocol`)
    two replicas of the model (one KV cache and one residual stream per device; in the simulator the
    weight tensors are shared, as replicated weights hold the same values).  Per layer, on BOTH devices,
    in the same order (each op below is called once per device with that device's tensors):

    1. QKV projections, (Qwen3) QK-norm, RoPE, KV-cache update (both caches stay identical, so no
       rollback is ever needed), heads -> groups;
    2. the speculative flash decode (exact O, speculative O, verdict);
    3. *transfer*: the sender ships its speculative output: ``mesh_keep_winner`` with the role tiles as
       priorities (sender 1, receiver 0), so both devices hold the sender's speculative output;
    4. ``group_select(role, shipped speculative O, own exact O)``: the sender continues from its exact
       output, the receiver from the shipped speculative one;
    5. groups -> heads, O-proj, residual add + post-attention norm, MLP, residual add + next norm;
    6. ``speculation_priority(verdict, role)``: ``P = 1 + R - 2 R prod_b verdict_b``: sender 0 on a hit /
       2 on a miss, receiver 1 (the batch decides together, the released proof of concept's rule);
    7. the priorities are exchanged once (``exchange_priority``); both devices keep the residual stream
       and the next layer's normalised input of the device with the higher priority (``mesh_keep_winner``):
       on a hit the receiver's, on a miss the sender's;
    8. roles of the next layer: ``mesh_winner`` of the exchanged priorities (1 on the device that won):
       the winner becomes the sender.  On a hit the receiver won, so roles alternate; on a miss the sender
       won and stays the sender.  Roles carry over from the last layer of a step to the first of the next.

    Nothing of this is decided on the host: the role, verdict and priority tiles never leave the devices
    (the statistics read them back after the fact), and the op sequence is the same whatever the verdicts
    (the tests compare the op logs of all-hit and all-miss runs).

What the simulator shows and what it cannot show
    * Values: every tensor each device would hold, bit for bit as the kernels compute them, and the
      exchange's semantics (ttnn ``all_gather`` + the TT-Lang select each device runs on its own view).
    * Not shown: the two replicas run one after the other in one process (each "device op" is a loop over
      the two replicas), so the overlap ALSpec exists for (the receiver's O-proj / MLP running while the
      sender finishes exact attention) and the latency of the link are not simulated
      (:mod:`models.alspec.latency` models them).  In the simulator a mesh tensor is one global tensor, so
      the per-device tensors are stacked into it (and split back) around each exchange
      (:func:`ttl_kernels.ccl.mesh_from_parts`); on a mesh device they are its shards and nothing moves.
    * Not expressible in TT-Lang 1.1.1: *skipping* work.  tt-metal's ALSpec lets the sender skip the
      post-attention ops on a hit (skip tensor = own priority) and the receiver skip exact attention; a
      1.1.1 kernel cannot read a value from a tensor to drive its control flow (no runtime scalar reads), so
      both devices compute every op and the selects decide which results survive.  The values are the
      same; only the time a skip would save is lost.
    * The receiver also runs the speculative kernel (the identical op sequence needs it, and it cannot
      skip); its own outputs are never used: it continues from the sender's shipped output.

With ``B = 1`` the protocol's output equals the verify-only mode's bit for bit (a hit continues from the
speculative output, a miss from the exact one, through the same kernels); with ``lambda = 0`` (or when every
user's ``P <= 2 S``, where the speculative output *is* the exact one) both equal decoding through the same
kernel's exact output, :class:`KernelALSpecAttention` with ``select=False``.  Plain decoding with the
split-KV :func:`~ttl_kernels.attention.flash_decode` blocks the keys differently, so it agrees to rounding
(same greedy tokens, logits PCC, see the tests), not bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from reference.decoder import Decoder, KVCache
from ttl_kernels import host, runtime
from ttl_kernels.attention import make_speculative_decode, per_user
from ttl_kernels.ccl import (
    check_mesh,
    default_mesh,
    exchange_priority,
    group_select,
    mesh_from_parts,
    mesh_keep_winner,
    mesh_parts,
    mesh_winner,
    speculation_priority,
)
from ttl_kernels.layout import groups_to_heads, heads_to_groups

from ..decoder_step import decode_step
from ..kernel_model import KernelCache, KernelOps, run_in_chunks
from ..protocols import CacheCopies, ReferenceHead, TapSegment
from .reference import ALSpecStats, check_chunk, check_lambda

TILE = 32
MAX_CHUNK = 128  # the speculative kernel's score block is at most 4 tiles wide
N_DEVICES = 2


def check_kernel_chunk(chunk) -> int:
    """ALSpec's S for the kernels: a positive multiple of 32 (:func:`models.alspec.reference.check_chunk`) up to 128."""
    check_chunk(chunk)
    if chunk > MAX_CHUNK:
        raise ValueError(
            f"chunk: the speculative flash-decode kernel takes S up to {MAX_CHUNK} (4 tiles of keys per block); got "
            f"{chunk}"
        )
    return chunk


def _ops_for(model: Decoder, chunk: int, max_seq_len: int, dtype: str, kv_dtype: str) -> KernelOps:
    if isinstance(max_seq_len, bool) or not isinstance(max_seq_len, int) or max_seq_len < 1:
        raise ValueError(f"max_seq_len: expected a positive int; got {max_seq_len!r}")
    ops = KernelOps(model, max(max_seq_len, chunk), dtype, kv_dtype, chunk)
    assert ops.chunk == chunk, (ops.chunk, chunk)
    return ops


def _record(stats: ALSpecStats, layer: int, r, active: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Statistics only: read the per-user verdicts / distances back and record them."""
    hit = per_user(r.verdict)
    d2, n2 = per_user(r.l2_dist_sq).double(), per_user(r.l2_norm_sq).double()
    rel = torch.where(n2 > 0, (d2 / n2.clamp_min(1e-300)).sqrt(), torch.zeros_like(d2))
    users = [b for b in range(hit.shape[0]) if active is None or bool(active[b])]
    stats.record(layer, users, [bool(hit[b] > 0.5) for b in users], [float(rel[b]) for b in users])
    return hit, rel


# ------------------------------------------------------------------------------------------ verify-only


class KernelALSpecAttention:
    """Verify-only ALSpec as an ``attention`` hook of :func:`models.decoder_step.decode_step` on :class:`KernelOps`.

    Per layer: heads -> groups, the speculative flash decode (one pass: exact + speculative + verdict),
    ``group_select(verdict, exact, speculative)`` on the device (per user: speculative on a hit), groups ->
    heads.  ``select=False`` returns the kernel's exact output for every user (decoding through the same
    kernel with every verdict ignored: the all-miss path, the bit-exact baseline of ``lambda = 0``).

    ``stats``: per (layer, user) verdicts (read back after the fact); ``last``: the kernel outputs of the
    most recent call per layer (TileTensors, for tests); ``active``: optional bool ``[B]`` of users to record."""

    def __init__(self, ops: KernelOps, lambda_: float, chunk: int = 128, select: bool = True, record: bool = True):
        self.lambda_ = check_lambda(lambda_)
        self.chunk = check_kernel_chunk(chunk)
        if not isinstance(ops, KernelOps):
            raise ValueError(f"ops: expected a models.kernel_model.KernelOps; got {type(ops).__name__}")
        if ops.chunk != self.chunk:
            raise ValueError(
                f"chunk: {self.chunk} differs from the kernel model's KV chunk size {ops.chunk} (build KernelOps "
                "with chunk_size=chunk)"
            )
        self.ops = ops
        self.select = bool(select)
        self.record = bool(record)
        self.kernel = make_speculative_decode(self.lambda_, self.chunk)
        self.stats = ALSpecStats(ops.config.num_layers)
        self.active: torch.Tensor | None = None
        self.last: dict[int, Any] = {}

    def __call__(self, layer: int, q, cache: KernelCache, positions):
        c = self.ops.config
        if KernelOps.shared(cache, q.shape[0]):
            raise ValueError(
                "q: ALSpec speculates one token per user per step; a block of one sequence is not speculated"
            )
        qg = heads_to_groups(q, c.num_kv_heads, c.head_dim, out_dtype="bf16")
        r = self.kernel(qg, cache.k[layer], cache.v[layer], positions, n_q=c.num_heads, kv_dtype=self.ops.kv_dtype)
        og = (
            group_select(r.verdict, r.full_output, r.speculative_output, group=c.num_kv_heads)
            if self.select
            else r.full_output
        )
        self.last[layer] = r
        if self.record and runtime.executes():
            _record(self.stats, layer, r, self.active)
        return groups_to_heads(og, q.shape[0], c.num_heads, c.num_kv_heads, out_dtype=self.ops.dtype)


# ------------------------------------------------------------------------------------- two-device protocol


class Pair(tuple):
    """One value per device (device 0, device 1)."""

    def __new__(cls, items):
        items = tuple(items)
        if len(items) != N_DEVICES:
            raise ValueError(f"expected {N_DEVICES} per-device values; got {len(items)}")
        return super().__new__(cls, items)


@dataclass
class ProtocolState(CacheCopies):
    """What the two devices hold between decode steps: a KV cache each and each device's role tile for the
    next layer to run (bf16 ``[32, 32]``, 1 = sender).  Has the cache interface of the speculative loop
    (``lengths``, ``max_seq_len``, ``crop``)."""

    caches: Pair
    role: Pair


@dataclass
class ProtocolStats(ALSpecStats):
    """:class:`ALSpecStats` (per (layer, user) verdicts of the sender) plus the protocol's layer decisions:
    ``kept_receiver[l]`` / ``decisions[l]`` (how often layer ``l`` kept the receiver's result, i.e. every user
    hit) and ``senders`` (per decode step, the sender device of each layer)."""

    kept_receiver: list[int] = field(default_factory=list)
    layer_decisions: list[int] = field(default_factory=list)
    senders: list[list[int]] = field(default_factory=list)

    def __post_init__(self):
        super().__post_init__()
        if not self.kept_receiver:
            self.kept_receiver = [0] * self.num_layers
            self.layer_decisions = [0] * self.num_layers

    def layer_accept_rates(self) -> list[float | None]:
        return [k / n if n else None for k, n in zip(self.kept_receiver, self.layer_decisions)]

    def accept_rate(self) -> float | None:
        n = sum(self.layer_decisions)
        return sum(self.kept_receiver) / n if n else None

    def role_switches(self) -> int:
        seq = [s for step in self.senders for s in step]
        return sum(a != b for a, b in zip(seq, seq[1:]))

    def summary(self) -> dict:
        return {**super().summary(), "accept_rate": self.accept_rate(), "layer_accept_rates": self.layer_accept_rates(),
                "role_switches": self.role_switches(), "senders": self.senders}


class ALSpecProtocol:
    """The two-device ALSpec protocol on replicated kernel-built models over a 1x2 mesh (module docstring).

    ``lambda_`` >= 0 and ``chunk`` (S, a multiple of 32 up to 128) are fixed per instance (compile-time
    constants of the speculative kernel); ``mesh`` must be a 1x2 mesh device (default: the process's).
    ``dtype`` is the activations' / weights' dtype (``"bf16"`` or ``"fp32"``), ``kv_dtype`` the caches'."""

    def __init__(self, model: Decoder, lambda_: float, chunk: int = 128, *, max_seq_len: int = 512, dtype: str = "bf16",
                 kv_dtype: str = "bf16", mesh: Any = None):
        self.lambda_ = check_lambda(lambda_)
        self.chunk = check_kernel_chunk(chunk)
        if mesh is not None:
            check_mesh(mesh, "mesh")
        if not runtime.is_sim():
            raise RuntimeError(
                f"ALSpecProtocol runs on the simulator's 1x2 mesh (the kernels' runtime opens one device; "
                f"backend {runtime.backend_name()!r})"
            )
        self.ops = _ops_for(model, self.chunk, max_seq_len, dtype, kv_dtype)
        self.model, self.config = model, model.config
        self.mesh = mesh if mesh is not None else default_mesh()
        self.kernel = make_speculative_decode(self.lambda_, self.chunk)
        self.stats = ProtocolStats(self.config.num_layers)
        self.op_log: list[tuple] = []  # (op, per-device argument shapes), one entry per op both devices ran
        self.log_ops = False

    # -- state ------------------------------------------------------------------------------------------

    def new_state(self, batch: int = 1) -> ProtocolState:
        """Empty caches on both devices; device 0 is the sender of the first layer."""
        one, zero = torch.ones(TILE, TILE), torch.zeros(TILE, TILE)
        role = Pair(host.to_device(r, "bf16") for r in (one, zero))
        return ProtocolState(Pair(self.ops.new_cache(batch) for _ in range(N_DEVICES)), role)

    def load_cache(self, state: ProtocolState, ref: KVCache) -> None:
        """Both devices receive the (host-prefilled) reference cache: replicas start identical."""
        for c in state.caches:
            self.ops.load_cache(c, ref)

    # -- per-device ops and exchanges --------------------------------------------------------------------

    def _each(self, name: str, fn, *args) -> Pair:
        """Run ``fn`` once per device: arguments that are :class:`Pair` s are taken per device, others shared."""
        if self.log_ops:
            self.op_log.append((name, tuple(_shape(a[0]) if isinstance(a, Pair) else _shape(a) for a in args)))
        return Pair(fn(*(a[d] if isinstance(a, Pair) else a for a in args)) for d in range(N_DEVICES))

    def _mesh(self, p: Pair):
        return mesh_from_parts(list(p), self.mesh)

    def _exchange(self, name: str, fn, *args):
        if self.log_ops:
            self.op_log.append((name, tuple(_shape(a[0]) if isinstance(a, Pair) else type(a).__name__ for a in args)))
        return fn(*args)

    # -- one decode step --------------------------------------------------------------------------------

    def decode(
        self,
        state: ProtocolState,
        ids: Sequence[int],
        taps=(),
        *,
        record: bool = True,
        trace: list | None = None,
        active: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One token per user (``len(ids)`` = the state's batch) through every layer on both devices; returns
        device 0's logits ``[B, V]`` (fp32; both devices end every layer with the same residual stream, so
        device 1's are identical) and the tapped residuals (device 0).

        The layer sequence is :func:`models.decoder_step.decode_step` itself, run on :class:`PairOps` (every
        op once per device) with the protocol's two hooks: the attention (steps 2-4 of the module docstring)
        and the end-of-layer exchange (steps 6-8).

        ``record``: read verdicts back afterwards for :attr:`stats` (``active``: the users to count).
        ``trace``: a list to append one dict per layer of per-device tensors read back (tests)."""
        B = int(state.lengths.shape[0])
        if len(ids) != B:
            raise ValueError(f"ids: expected one token per user ({B}); got {len(ids)}")
        positions = [int(p) for p in state.lengths.tolist()]
        if any(p >= state.max_seq_len for p in positions):
            raise ValueError(f"state: cache full (max_seq_len {state.max_seq_len}); positions {positions}")
        step = _ProtocolStep(self, state, record, trace, active)
        ws, final_norm, lm_head = self.ops.weights()
        logits, tapped = decode_step(PairOps(self), ws, final_norm, lm_head, state, list(ids), positions, taps,
                                     attention=step.attention, after_layer=step.after_layer)
        for cch in state.caches:
            cch.lengths += 1
        if record:
            self.stats.senders.append(step.senders)
        return host.to_torch(logits[0]), [host.to_torch(t[0]) for t in tapped]

    # -- statistics and traces (host read-backs after the fact) ------------------------------------------

    def _record_layer(self, li: int, info: dict, sender: int, active) -> None:
        hit, _ = _record(self.stats, li, info["res"][sender], active)
        self.stats.layer_decisions[li] += 1
        self.stats.kept_receiver[li] += int(bool((hit > 0.5).all()))

    def _trace_layer(self, info: dict, role: Pair, sender: int, h: Pair, x: Pair) -> dict:
        t = host.to_torch
        res = info["res"]
        return {
            "sender": sender,
            "role": [float(t(r)[0, 0]) for r in role],
            "q": [t(qq) for qq in info["qg"]],
            "verdict": [per_user(r.verdict) for r in res],
            "dist2": [per_user(r.l2_dist_sq) for r in res],
            "norm2": [per_user(r.l2_norm_sq) for r in res],
            "full": [t(r.full_output) for r in res],
            "spec": [t(r.speculative_output) for r in res],
            "shipped": [t(s) for s in info["shipped"]],
            "attn": [t(a) for a in info["attn"]],
            "h_pre": [t(a) for a in info["h2"]],
            "x_pre": [t(a) for a in info["x2"]],
            "prio": [float(t(p)[0, 0]) for p in info["p16"]],
            "h": [t(a) for a in h],
            "x": [t(a) for a in x],
        }


class PairOps:
    """The decode step's ops (:class:`models.kernel_model.KernelOps`) on both replicas: every op runs once
    per device, :class:`Pair` arguments taken per device and the rest shared; ops returning two tensors
    return two :class:`Pair` s.  Each call is one entry of the protocol's op log."""

    def __init__(self, protocol: ALSpecProtocol):
        self.protocol, self.ops, self.config = protocol, protocol.ops, protocol.config

    def _run(self, name: str, *args):
        out = self.protocol._each(name, getattr(self.ops, name), *args)
        return tuple(Pair(parts) for parts in zip(*out)) if isinstance(out[0], tuple) else out

    def embed(self, ids):
        return self._run("embed", list(ids))

    def matmul(self, x, w):
        return self._run("matmul", x, w)

    def rmsnorm(self, x, w):
        return self._run("rmsnorm", x, w)

    def add_rmsnorm(self, x, r, w):
        return self._run("add_rmsnorm", x, r, w)

    def head_rmsnorm(self, x, w, n_heads):
        return self._run("head_rmsnorm", x, w, n_heads)

    def rope(self, q, k, positions):
        return self._run("rope", q, k, positions)

    def silu_mul(self, g, u):
        return self._run("silu_mul", g, u)

    def kv_update(self, state: ProtocolState, layer, k, v, positions):
        self.protocol._each("kv_update", self.ops.kv_update, state.caches, layer, k, v, positions)


class _ProtocolStep:
    """The protocol's two hooks into :func:`decode_step` for one decode step, and what they saw."""

    def __init__(self, protocol: ALSpecProtocol, state: ProtocolState, record: bool, trace: list | None, active):
        self.p, self.state, self.record, self.trace, self.active = protocol, state, record, trace, active
        self.senders: list[int] = []
        self.info: dict = {}

    def attention(self, li: int, q: Pair, state: ProtocolState, positions: list[int]) -> Pair:
        p, c = self.p, self.p.config
        role = state.role
        if self.record or self.trace is not None:
            self.senders.append(int(host.to_torch(role[1])[0, 0] > 0.5))  # statistics only (after the fact)
        qg = p._each("heads_to_groups", lambda t: heads_to_groups(t, c.num_kv_heads, c.head_dim, out_dtype="bf16"), q)
        # 2. one pass of the speculative flash decode
        res = p._each("speculative_decode", lambda qq, cache: p.kernel(qq, cache.k[li], cache.v[li], positions,
                                                                        n_q=c.num_heads, kv_dtype=p.ops.kv_dtype),
                      qg, state.caches)
        full = Pair(r.full_output for r in res)
        spec = Pair(r.speculative_output for r in res)
        # 3. the sender ships its speculative output (role tiles as priorities: sender 1 > receiver 0)
        role_pair = p._exchange("exchange_priority(role)", exchange_priority, p._mesh(role))
        shipped = Pair(mesh_parts(p._exchange("keep_winner(spec)", mesh_keep_winner, p._mesh(spec), role_pair)))
        # 4. sender: own exact output; receiver: the shipped speculative output
        attn = p._each("group_select(role)", lambda r, s, f: group_select(r, s, f), role, shipped, full)
        self.info = dict(role=role, qg=qg, res=res, shipped=shipped, attn=attn)
        B = len(positions)
        return p._each("groups_to_heads",
                       lambda t: groups_to_heads(t, B, c.num_heads, c.num_kv_heads, out_dtype=p.ops.dtype), attn)

    def after_layer(self, li: int, h2: Pair, x2: Pair) -> tuple[Pair, Pair]:
        p, state, info = self.p, self.state, self.info
        B = int(state.lengths.shape[0])
        # 6. priorities: sender 0 hit / 2 miss, receiver 1
        verdict = Pair(r.verdict for r in info["res"])
        pr = p._each("speculation_priority", lambda vv, r: speculation_priority(vv, r, batch=B), verdict, info["role"])
        p16, p32 = Pair(x[0] for x in pr), Pair(x[1] for x in pr)
        # 7. exchange the priorities once; both keep the winner's residual stream and next-layer input
        pair16 = p._exchange("exchange_priority", exchange_priority, p._mesh(p16))
        pair_h = (
            pair16 if p.ops.dtype == "bf16" else p._exchange("exchange_priority(fp32)", exchange_priority, p._mesh(p32))
        )
        h = Pair(mesh_parts(p._exchange("keep_winner(h)", mesh_keep_winner, p._mesh(h2), pair_h)))
        x = Pair(mesh_parts(p._exchange("keep_winner(x)", mesh_keep_winner, p._mesh(x2), pair_h)))
        # 8. the winner is the next layer's sender (hit: roles alternate; miss: the sender stays)
        state.role = Pair(mesh_parts(p._exchange("winner(role)", mesh_winner, pair16)))
        info.update(h2=h2, x2=x2, p16=p16)
        if self.record:
            p._record_layer(li, info, self.senders[-1], self.active)
        if self.trace is not None:
            self.trace.append(p._trace_layer(info, info["role"], self.senders[-1], h, x))
        return h, x


def _shape(a) -> Any:
    if isinstance(a, host.TileTensor):
        return (a.shape, a.dtype)
    if isinstance(a, KernelCache):
        return ("cache", tuple(a.k[0].shape), a.k[0].dtype)
    if isinstance(a, (list, tuple)):
        return ("seq", len(a))
    return type(a).__name__


# ---------------------------------------------------------------------------------------------- targets


class ALSpecKernelTarget(ReferenceHead):
    """The speculative loop's target (:class:`models.protocols.Target`; like
    :class:`models.kernel_model.KernelTarget`) for ALSpec on the kernels, one sequence:

    ``mode="protocol"``: the two-device protocol (:class:`ALSpecProtocol`);
    ``mode="verify"``:   verify-only on one device (:class:`KernelALSpecAttention`);
    ``mode="exact"``:    the same kernel's exact output for every layer (the all-miss path, ``lambda`` unused).

    The prompt is prefilled on the kernels (exact attention, :func:`models.kernel_model.run_in_chunks`, on every
    replica: ALSpec speculates decode attention only); every later token is one decode step.  ``stats`` holds the
    verdicts.  Several tokens on a non-empty cache (a verification block) are refused: ALSpec speculates
    one token per step."""

    MODES = ("protocol", "verify", "exact")

    def __init__(
        self,
        model: Decoder,
        lambda_: float = 0.1,
        chunk: int = 128,
        mode: str = "protocol",
        *,
        max_seq_len: int = 512,
        dtype: str = "bf16",
        kv_dtype: str = "bf16",
        mesh: Any = None,
        name: str = "alspec",
        stop_tokens=(),
        mask_token_id: int | None = None,
    ):
        if mode not in self.MODES:
            raise ValueError(f"mode: expected one of {self.MODES}; got {mode!r}")
        self.mode, self.model, self.config = mode, model, model.config
        self._set_info(name, stop_tokens, mask_token_id)
        self.backend = runtime.backend_name()
        if mode == "protocol":
            self.protocol = ALSpecProtocol(
                model, lambda_, chunk, max_seq_len=max_seq_len, dtype=dtype, kv_dtype=kv_dtype, mesh=mesh
            )
            self.ops = self.protocol.ops
            self.stats: ALSpecStats = self.protocol.stats
        else:
            check_lambda(lambda_)
            check_kernel_chunk(chunk)
            if mesh is not None:
                check_mesh(mesh, "mesh")
            self.ops = _ops_for(model, chunk, max_seq_len, dtype, kv_dtype)
            self.hook = KernelALSpecAttention(self.ops, lambda_, chunk, select=mode == "verify")
            self.stats = self.hook.stats

    def new_cache(self, max_len: int):
        if max_len > self.ops.max_seq_len:
            raise ValueError(f"max_len: {max_len} exceeds the kernel model's max_seq_len {self.ops.max_seq_len}")
        return self.protocol.new_state(1) if self.mode == "protocol" else self.ops.new_cache(1)

    @torch.inference_mode()
    def forward(self, ids: list[int], cache, taps=()) -> tuple[torch.Tensor, torch.Tensor | None]:
        taps = tuple(taps)
        if int(cache.lengths[0]) == 0 and len(ids) > 1:  # the prompt: plain (exact) kernel steps on every replica
            caches = cache.caches if self.mode == "protocol" else (cache,)
            outs = [run_in_chunks(self.ops, c, list(ids), taps) for c in caches]
            return outs[0]
        if len(ids) != 1:
            raise ValueError(f"ids: ALSpec decodes one token per step; got {len(ids)} for a non-empty cache")
        if self.mode == "protocol":
            logits, tapped = self.protocol.decode(cache, list(ids), taps)
        else:
            logits, tapped = self.ops.decode(cache, list(ids), taps, attention=self.hook)
        return logits, ([TapSegment(tapped, 1)] if taps else None)


__all__ = ["ALSpecKernelTarget", "ALSpecProtocol", "KernelALSpecAttention", "Pair", "ProtocolState", "ProtocolStats",
           "check_kernel_chunk"]
