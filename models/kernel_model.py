"""Llama-3 / Qwen3 decoders whose every per-layer op runs as a TT-Lang kernel (simulator or device).

:class:`KernelOps` supplies the ops of :func:`models.decoder_step.decode_step` on device tensors:

    op                     kernel / call
    rmsnorm                ttl_kernels.norm.rms_norm               (TT-Lang)
    add_rmsnorm            ttl_kernels.norm.add_rms_norm           (TT-Lang; residual add + norm fused)
    head_rmsnorm (Qwen3)   ttl_kernels.norm.head_rms_norm          (TT-Lang)
    rope                   ttl_kernels.rope.rope                   (TT-Lang; tables on the device)
    kv_update              ttl_kernels.layout.kv_update            (TT-Lang; in place in the device cache)
    attention              heads_to_groups -> flash_decode -> groups_to_heads   (TT-Lang)
    silu_mul               ttl_kernels.eltwise.silu_mul            (TT-Lang)
    moe (Qwen3-MoE)        router logits (ttnn.matmul) -> ttl_kernels.moe.router_topk (TT-Lang: softmax, top-k,
                           renormalisation) -> all-experts gate/up (ttnn.matmul) -> silu_mul -> expert_scale
                           (TT-Lang: the routing weights) -> down (ttnn.matmul: the weighted sum)
    matmul                 ttnn.matmul                             (projections and LM head)
    embed                  ttnn.embedding (only the ids cross; the simulator's shim looks up on the host)

The code is the same for the simulator and a device: ``ttl_kernels.runtime`` picks the binding, and the
only simulator-specific code is the shim list in :mod:`ttl_kernels.ttnn_ops`.

Mixture of experts (:meth:`KernelOps.moe`).  Which expert weights a row needs depends on the routing decision;
the router logits, softmax, top-k and renormalisation do not (they run on every row, on the device).  A traced
(static) step cannot branch on the decision (TT-Lang 1.1.1 has no runtime scalar reads), so this step computes
EVERY expert for every row: the experts' gate / up / down weights are stored concatenated (``[H, E * Ip]``,
``[E * Ip, H]``, each expert zero-padded to ``Ip`` = a whole number of tiles), the router's dense weights (0 for
the experts a row did not pick) scale each expert's SwiGLU output, and the down matmul over all experts is the
weighted sum.  Exact for the selected experts, but it reads all ``E`` experts' weights every step: right for tiny
shapes, 16x the selected experts' bytes at Qwen3-Coder-30B-A3B (1.2 GB per layer in bf16).  A real-shape step
gathers instead: the router kernel also writes each row's ``k`` expert ids and weights (``topw``, ``ids``) on the
device (its dense weights are the mask ttnn's ``sparse_matmul`` takes as ``sparsity``), and a gather matmul
driven by them (``ttnn.sparse_matmul``, or a tt-metal data-movement kernel per expert slot reading the id from
DRAM) computes only the selected experts into ``[rows, k * Ip]`` slots, which go through
the same ``silu_mul`` and ``expert_scale`` (slot weights ``topw``) and a gathered down projection; every shape
stays static (``k`` slots per row) and nothing is read back.  :func:`compile_step` with ``moe="gathered"``
lowers those kernel instances; ``ttl_kernels/moe/README.md`` has both paths' modelled costs.

:class:`KernelTarget` is the speculative loop's target (:class:`models.protocols.Target`): everything after
loading runs on the kernels.  The prompt goes through the block step in chunks of 32 rows (each row causal at
its own position), a decode token through one step, a verification block of T tokens in ONE step (T query rows
sharing the sequence's cache, each at its own position).  The taps stay on the device for a kernel draft.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from reference.decoder import Decoder, KVCache
from ttl_kernels import audit, host
from ttl_kernels.attention import flash_decode
from ttl_kernels.attention._layout import kv_cache_to_tiles
from ttl_kernels.eltwise import residual_add, silu_mul
from ttl_kernels.layout import groups_to_heads, heads_to_groups, kv_update
from ttl_kernels.moe import expert_scale, router_topk
from ttl_kernels.moe._plan import MAX_TOP_K
from ttl_kernels.norm import add_rms_norm, head_rms_norm, rms_norm
from ttl_kernels.rope import RopeTables, rope
from ttl_kernels.sampling import argmax as device_argmax
from ttl_kernels.sampling import greedy_accept_ids
from ttl_kernels.ttnn_ops import EmbeddingTable, embedding, matmul

from .decoder_step import LayerWeights, MoeWeights, decode_step, layer_weights, moe_block_parts, shared_block
from .protocols import ReferenceHead, TapSegment
from .sampling import Selectable

TILE = 32
PREFILL_CHUNK = 32  # prompt rows per kernel step in prefill (one tile row of activations)
WEIGHT_DTYPES = ("fp32", "bf16", "bfp8_b", "bfp4_b")  # projections and LM head; norms stay in the activation dtype


@dataclass
class KernelCache:
    """Per-layer device KV caches ``[B * n_kv * S_max, D]`` (decode-attention layout) and per-user lengths.
    Entries at or past a user's length are never read (attention masks beyond the position), so
    :meth:`crop` only changes lengths."""

    k: list[host.TileTensor]
    v: list[host.TileTensor]
    lengths: torch.Tensor
    max_seq_len: int

    def crop(self, new_lengths) -> KernelCache:
        nl = torch.as_tensor(new_lengths, dtype=torch.long)
        nl = nl.expand(self.lengths.shape[0]) if nl.dim() == 0 else nl
        if bool((nl < 0).any()) or bool((nl > self.lengths).any()):
            raise ValueError(
                f"new_lengths: expected 0 <= new_lengths <= lengths={self.lengths.tolist()}; got {nl.tolist()}"
            )
        self.lengths.copy_(nl)
        return self


class KernelOps:
    """:func:`decode_step` ops on device tensors (see the module docstring)."""

    def __init__(
        self, model: Decoder, max_seq_len: int, dtype: str = "bf16", kv_dtype: str = "bf16", chunk_size: int = 128,
        weights_dtype: str | None = None,
    ):
        self._setup(model.config, max_seq_len, dtype, kv_dtype, chunk_size, weights_dtype)
        self.model = model
        self._table = EmbeddingTable(model.embed(torch.arange(model.config.vocab_size)), self.dtype)

    def _setup(self, config, max_seq_len: int, dtype: str, kv_dtype: str, chunk_size: int,
               weights_dtype: str | None = None) -> None:
        if dtype not in ("bf16", "fp32"):
            raise ValueError(f"dtype: expected 'bf16' or 'fp32'; got {dtype!r}")
        weights_dtype = weights_dtype or dtype
        if weights_dtype not in WEIGHT_DTYPES:
            raise ValueError(f"weights_dtype: expected one of {WEIGHT_DTYPES}; got {weights_dtype!r}")
        self.weights_dtype = weights_dtype
        if kv_dtype not in ("bf16", "bfp8_b"):
            raise ValueError(f"kv_dtype: expected 'bf16' or 'bfp8_b'; got {kv_dtype!r}")
        self.model, self.config, self.dtype, self.kv_dtype = None, config, dtype, kv_dtype
        self.eps = config.rms_norm_eps
        # the KV chunk S of the attention kernels: at most chunk_size, and no wider than the (tile-rounded) cache
        self.chunk = min(chunk_size, -(-max_seq_len // TILE) * TILE)
        self.max_seq_len = -(-max_seq_len // self.chunk) * self.chunk  # whole chunks
        self.tables = RopeTables.from_config(config.head_dim, config.rope_theta, config.rope_scaling,
                                             self.max_seq_len, dtype)
        self._weights = None

    @classmethod
    def for_draft(cls, draft, target_ops: KernelOps, max_seq_len: int | None = None) -> KernelOps:
        """Ops for a DFlash draft (:class:`models.dflash.DFlashDraft`): its layers, RoPE and final norm, the
        target's embedding table and LM head (the same device tensors as ``target_ops``); same dtypes and chunk."""
        ops = cls.__new__(cls)
        ops._setup(draft.config.layer_config(), max_seq_len or target_ops.max_seq_len, target_ops.dtype,
                   target_ops.kv_dtype, target_ops.chunk, target_ops.weights_dtype)
        ops._table = target_ops._table
        ops._weights = (layer_weights(draft.layers, ops.vec, ops.mat), ops.vec(draft.norm.weight),
                        target_ops.weights()[2])
        return ops

    # -- weights, converted once ---------------------------------------------------------------------

    def vec(self, t) -> host.TileTensor:
        """A norm weight as a (1, n) device tensor."""
        return host.to_device(t.detach().float()[None], self.dtype)

    def mat(self, t) -> host.TileTensor:
        """A projection ``[out, in]`` (torch Linear layout) as an ``[in, out]`` device matrix in the weights'
        dtype (block-float formats share an exponent along rows of the ``[in, out]`` storage)."""
        return host.to_device(t.detach().float().T.contiguous(), self.weights_dtype)

    def moe_weights(self, block) -> MoeWeights:
        """A routed-experts block (:class:`reference.moe.SparseMoeBlock`) as device tensors for the all-experts
        compute: the router ``[H, E]`` and every expert's gate / up ``[H, E * Ip]`` and down ``[E * Ip, H]``
        concatenated, each expert zero-padded from ``I`` to ``Ip`` (whole tiles), in the weights' dtype.  Bad blocks
        are rejected (:func:`models.decoder_step.moe_block_parts`)."""
        H = self.config.hidden_size
        router, parts, top_k, norm, inter = moe_block_parts(block, H)
        if top_k > MAX_TOP_K:
            raise ValueError(f"num_experts_per_tok: the router kernel takes at most {MAX_TOP_K}; got {top_k}")
        E, ip = len(parts), -(-inter // TILE) * TILE
        gate, up, down = torch.zeros(H, E * ip), torch.zeros(H, E * ip), torch.zeros(E * ip, H)
        for e, (g, u, d) in enumerate(parts):
            gate[:, e * ip:e * ip + inter] = g.detach().float().T
            up[:, e * ip:e * ip + inter] = u.detach().float().T
            down[e * ip:e * ip + inter] = d.detach().float().T
        dt = self.weights_dtype
        return MoeWeights(router=self.mat(router), gate=host.to_device(gate, dt), up=host.to_device(up, dt),
                          down=host.to_device(down, dt), num_experts=E, top_k=top_k, norm_topk_prob=norm,
                          inter=inter)

    def weights(self) -> tuple[list[LayerWeights], host.TileTensor, host.TileTensor]:
        if self._weights is None:
            self._weights = (layer_weights(self.model.layers, self.vec, self.mat), self.vec(self.model.norm.weight),
                             self.mat(self.model.lm_head.weight))
        return self._weights

    def new_cache(self, batch: int) -> KernelCache:
        c = self.config
        shape = (batch * c.num_kv_heads * self.max_seq_len, c.head_dim)
        return KernelCache([host.empty(shape, self.kv_dtype) for _ in range(c.num_layers)],
                           [host.empty(shape, self.kv_dtype) for _ in range(c.num_layers)],
                           torch.zeros(batch, dtype=torch.long), self.max_seq_len)

    def load_cache(self, cache: KernelCache, ref: KVCache) -> None:
        """Hand a reference (host) KV cache over to the device cache (after a host prefill)."""
        n = ref.max_seq_len
        if n > self.max_seq_len:
            raise ValueError(f"ref: cache of {n} positions does not fit the device cache ({self.max_seq_len})")
        for i in range(self.config.num_layers):
            for dst, src in ((cache.k, ref.k[i]), (cache.v, ref.v[i])):
                full = torch.zeros(src.shape[0], src.shape[1], self.max_seq_len, src.shape[3])
                full[:, :, :n] = src.float()
                dst[i] = host.to_device(kv_cache_to_tiles(full), self.kv_dtype)
        cache.lengths.copy_(ref.lengths)

    # -- ops ----------------------------------------------------------------------------------------

    def embed(self, ids):
        return embedding(self._table, ids, self.dtype)

    def matmul(self, x, w):
        return matmul(x, w, self.dtype)

    def rmsnorm(self, x, w):
        return rms_norm(x, w, self.eps)

    def add_rmsnorm(self, x, r, w):
        return add_rms_norm(x, r, w, self.eps)

    def head_rmsnorm(self, x, w, n_heads):
        return head_rms_norm(x, w, self.eps)

    def rope(self, q, k, positions):
        return rope(q, k, self.tables, positions)

    @staticmethod
    def shared(cache, rows: int) -> bool:
        """Several rows against a one-user cache: a block of one sequence (:func:`shared_block`)."""
        return shared_block(int(cache.lengths.shape[0]), rows)

    def kv_update(self, cache, layer, k, v, positions):
        kv_update(
            cache.k[layer],
            cache.v[layer],
            k,
            v,
            positions,
            self.config.num_kv_heads,
            shared=self.shared(cache, k.shape[0]),
        )

    def attention(self, layer, q, cache, positions):
        c = self.config
        qg = heads_to_groups(q, c.num_kv_heads, c.head_dim, out_dtype="bf16")  # the attention kernels take bf16 Q
        og = flash_decode(qg, cache.k[layer], cache.v[layer], positions, chunk_size=self.chunk, kv_dtype=self.kv_dtype,
                          shared_kv=self.shared(cache, q.shape[0]))
        return groups_to_heads(og, q.shape[0], c.num_heads, c.num_kv_heads, out_dtype=self.dtype)

    def silu_mul(self, g, u):
        return silu_mul(g, u)

    def moe(self, x, mw: MoeWeights):
        """The routed-experts MLP, all experts masked (module docstring): router logits (ttnn matmul), the routing
        kernel's dense weights ``[rows, E]``, every expert's SwiGLU (``silu_mul`` on ``[rows, E * Ip]``), scaled by
        its weight (``expert_scale``: 0 for experts a row did not pick), summed by the down matmul."""
        E, ip = mw.num_experts, -(-mw.inter // TILE) * TILE
        if tuple(mw.router.shape) != (x.shape[1], E):
            raise ValueError(f"moe.router: expected shape ({x.shape[1]}, {E}) [hidden, num_experts]; "
                             f"got {tuple(mw.router.shape)}")
        for name, w, want in (("gate", mw.gate, (x.shape[1], E * ip)), ("up", mw.up, (x.shape[1], E * ip)),
                              ("down", mw.down, (E * ip, x.shape[1]))):
            if isinstance(w, list) or tuple(w.shape) != want:
                raise ValueError(f"moe.{name}: expected all {E} experts concatenated, shape {want}; got "
                                 f"{'a list' if isinstance(w, list) else tuple(w.shape)}")
        weights, _, _ = router_topk(self.matmul(x, mw.router), mw.top_k, mw.norm_topk_prob)
        a = self.silu_mul(self.matmul(x, mw.gate), self.matmul(x, mw.up))
        return self.matmul(expert_scale(a, weights), mw.down)

    # -- a whole step ---------------------------------------------------------------------------------

    def step(self, cache: KernelCache, ids: list[int], taps=(), attention=None):
        """One decode step on the device: one token per user at each user's length, or (:meth:`shared`) a block of
        one user's sequence, row i at ``length + i`` attending causally (verification, a prefill chunk).
        Returns ``(logits TileTensor [rows, V], [tap TileTensor [rows, H], ...])``; advances the lengths."""
        if self.shared(cache, len(ids)):
            positions = [int(cache.lengths[0]) + i for i in range(len(ids))]
        else:
            positions = [int(p) for p in cache.lengths.tolist()]
        if any(p >= self.max_seq_len for p in positions):
            raise ValueError(f"cache: full (max_seq_len {self.max_seq_len}); positions {positions}")
        ws, fn, lm = self.weights()
        logits, tapped = decode_step(self, ws, fn, lm, cache, list(ids), positions, taps, attention)
        cache.lengths += len(ids) if self.shared(cache, len(ids)) else 1
        return logits, tapped

    def decode(
        self, cache: KernelCache, ids: list[int], taps=(), attention=None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """:meth:`step` with its results read back: (logits ``[rows, V]`` fp32, taps ``[rows, H]`` each)."""
        logits, tapped = self.step(cache, ids, taps, attention)
        return host.to_torch(logits), [host.to_torch(t) for t in tapped]

    def add(self, a, b):
        return residual_add(a, b)


class KernelTarget(ReferenceHead):
    """The speculative loop's target (:class:`models.protocols.Target`) on the TT-Lang kernel model, one
    sequence of up to ``max_seq_len`` positions (default: the config's ``max_position_embeddings``)."""

    def __init__(self, model: Decoder, max_seq_len: int | None = None, dtype: str = "bf16", kv_dtype: str = "bf16",
                 chunk_size: int = 128, *, weights_dtype: str | None = None, select_on_device: bool = False,
                 name: str = "kernel", stop_tokens=(), mask_token_id: int | None = None):
        from ttl_kernels import runtime

        max_seq_len = model.config.max_position_embeddings if max_seq_len is None else max_seq_len
        if isinstance(max_seq_len, bool) or not isinstance(max_seq_len, int) or max_seq_len < 1:
            raise ValueError(f"max_seq_len: expected a positive int; got {max_seq_len!r}")
        self.backend = runtime.backend_name()
        self.model = model
        self.config = model.config
        self.ops = KernelOps(model, max_seq_len, dtype, kv_dtype, chunk_size, weights_dtype)
        self.select_on_device = bool(select_on_device)  # forward returns DeviceLogits (greedy selection there)
        self._set_info(name, stop_tokens, mask_token_id)

    def new_cache(self, max_len: int) -> KernelCache:
        if max_len > self.ops.max_seq_len:
            raise ValueError(
                f"max_len: {max_len} positions exceed the kernel model's max_seq_len {self.ops.max_seq_len} "
                "(raise --max-seq-len)"
            )
        return self.ops.new_cache(1)

    @torch.inference_mode()
    def forward(self, ids: list[int], cache: KernelCache, taps=()) -> tuple[torch.Tensor, list | None]:
        """``ids`` after the cached tokens, all on the kernels: a prompt goes through the block step in chunks of
        :data:`PREFILL_CHUNK` rows (causal per-row positions: the verification path), a decode token or a
        verification block in one step.  Logits come back to the host (the last chunk's rows); the taps stay on
        the device: one :class:`~models.protocols.TapSegment` per step."""
        taps = tuple(taps)
        ids = list(ids)
        kind = "prefill" if int(cache.lengths[0]) == 0 and len(ids) > 1 else ("decode" if len(ids) == 1 else "verify")
        with audit.scope(kind):
            return self._forward(ids, cache, taps)

    def _forward(self, ids: list[int], cache: KernelCache, taps: tuple) -> tuple[torch.Tensor, list | None]:
        return run_in_chunks(self.ops, cache, ids, taps, on_device=self.select_on_device)


class DeviceLogits(Selectable):
    """A step's logits ``[rows, V]`` left on the device: greedy selection runs there (the exact argmax and the
    greedy accept kernels of :mod:`ttl_kernels.sampling`) and only the selected ids come back (one small tile);
    :meth:`to_host` reads them all (sampling at T > 0)."""

    def __init__(self, tile: host.TileTensor):
        self.tile = tile

    def last_argmax(self) -> int:
        with audit.scope("select"):
            return int(host.to_torch(device_argmax(self.tile))[-1, 0])

    def greedy_accept(self, proposal: list[int]) -> tuple[int, int]:
        with audit.scope("select"):
            r = greedy_accept_ids(self.tile, proposal)
        return r.n, r.ids[-1]

    def to_host(self) -> torch.Tensor:
        return host.to_torch(self.tile)


def run_in_chunks(ops: KernelOps, cache: KernelCache, ids: list[int], taps=(), on_device: bool = False):
    """``ids`` of one sequence through :meth:`KernelOps.step` in blocks of at most :data:`PREFILL_CHUNK` rows
    (each row causal at its own position): the kernels' prefill, and one block when ``ids`` is a decode token or a
    verification block.  Returns the last block's logits (read back to the host, or left on the device as
    :class:`DeviceLogits` with ``on_device``) and one device :class:`TapSegment` per block."""
    segments = []
    for i in range(0, len(ids), PREFILL_CHUNK):
        chunk = ids[i:i + PREFILL_CHUNK]
        logits, tapped = ops.step(cache, chunk, taps)
        segments.append(TapSegment(tapped, len(chunk)))
    return (DeviceLogits(logits) if on_device else host.to_torch(logits)), (segments if taps else None)


# ---------------------------------------------------------------------------------------- compile-only


class _ShapeOnly:
    """Stands in for a weight matrix when only its shape matters (compile-only runs)."""

    def __init__(self, rows: int, cols: int, dtype: str):
        self.shape, self.dtype = (rows, cols), dtype


class ShapeOps(KernelOps):
    """KernelOps for the compile-only backend: real TT-Lang kernel calls (which the compiler lowers), but
    projection weights are shape-only stand-ins and ``ttnn.matmul`` is skipped, so full-size models need no
    weights in memory.  Sparse (MoE) layers take the all-experts path (``moe="all"``, what :class:`KernelOps`
    runs) or the gathered one (``moe="gathered"``: ``k`` expert slots per row filled by a gather matmul, shape-only
    here, see the module docstring)."""

    MOE_PATHS = ("all", "gathered")

    def __init__(self, config, max_seq_len: int, dtype: str = "bf16", kv_dtype: str = "bf16", chunk_size: int = 128,
                 moe: str = "all"):
        if moe not in self.MOE_PATHS:
            raise ValueError(f"moe: expected one of {self.MOE_PATHS}; got {moe!r}")
        self._setup(config, max_seq_len, dtype, kv_dtype, chunk_size)
        self.moe_path = moe

    def weights(self):
        if self._weights is None:
            c, dt = self.config, self.dtype
            vec = lambda n: host.to_device(torch.ones(1, n), dt)  # noqa: E731
            mat = lambda i, o: _ShapeOnly(i, o, dt)  # noqa: E731
            q, kv, h, f = c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim, c.hidden_size, c.intermediate_size
            common = dict(ln1=vec(h), wq=mat(h, q), wk=mat(h, kv), wv=mat(h, kv), wo=mat(q, h), ln2=vec(h),
                          qn=vec(c.head_dim) if c.qk_norm else None, kn=vec(c.head_dim) if c.qk_norm else None)
            dense = LayerWeights(**common, wg=mat(h, f), wu=mat(h, f), wd=mat(f, h))
            sparse = None
            if c.is_moe:
                E, ip = c.num_experts, -(-c.moe_intermediate_size // TILE) * TILE
                moe = MoeWeights(router=mat(h, E), gate=mat(h, E * ip), up=mat(h, E * ip), down=mat(E * ip, h),
                                 num_experts=E, top_k=c.num_experts_per_tok, norm_topk_prob=c.norm_topk_prob,
                                 inter=c.moe_intermediate_size)
                sparse = LayerWeights(**common, wg=None, wu=None, wd=None, moe=moe)
            layers = [sparse if c.is_sparse_layer(i) else dense for i in range(c.num_layers)]
            self._weights = (layers, vec(h), mat(h, c.vocab_size))
        return self._weights

    def moe(self, x, mw: MoeWeights):
        if self.moe_path == "all":
            return super().moe(x, mw)
        # gathered: the router's ids drive a gather matmul into k slots per row (ttnn, shape-only here)
        k, ip, h = mw.top_k, -(-mw.inter // TILE) * TILE, x.shape[1]
        _, topw, _ids = router_topk(self.matmul(x, mw.router), k, mw.norm_topk_prob)
        slots_in, slots_out = _ShapeOnly(h, k * ip, self.dtype), _ShapeOnly(k * ip, h, self.dtype)
        a = self.silu_mul(self.matmul(x, slots_in), self.matmul(x, slots_in))
        return self.matmul(expert_scale(a, topw), slots_out)

    def embed(self, ids):
        return host.empty((len(ids), self.config.hidden_size), self.dtype)

    def matmul(self, x, w):
        return host.empty((x.shape[0], w.shape[1]), self.dtype)


def compile_step(
    model: str = "tiny-qwen3", batch: int = 1, position: int = 100, layers: int = 1, kv_dtype: str = "bf16",
    block: int = 0, moe: str = "all",
) -> None:
    """Lower every TT-Lang kernel instance one decode step of ``model`` (a :mod:`reference.registry` name, MoE
    configs included) uses, for ``batch`` users at ``position`` (``layers`` layers: every layer of a kind uses the
    same instances), or with ``block`` > 0 one verification block of that many rows of one sequence
    (positions ``position .. position + block - 1``, the block path of :meth:`KernelOps.step`).  ``moe``: the
    path of sparse layers, ``"all"`` (all experts masked, what :class:`KernelOps` runs) or ``"gathered"``
    (:class:`ShapeOps`).  For the compile driver:
    ``python -m ttl_kernels.compile models.kernel_model:compile_step:model=qwen3-coder-30b-a3b,block=16``."""
    from reference import registry

    cfg = registry.config(model, num_layers=layers)
    rows = block if block > 0 else batch
    ops = ShapeOps(cfg, max_seq_len=position + rows, kv_dtype=kv_dtype, moe=moe)
    cache = ops.new_cache(1 if block > 0 else batch)
    cache.lengths.fill_(position)
    positions = [position + i for i in range(block)] if block > 0 else [position] * batch
    ws, fn, lm = ops.weights()
    decode_step(ops, ws, fn, lm, cache, [0] * rows, positions)


compile_step.expected_ops = ("rsqrt_tile", "silu_tile", "exp_tile", "matmul_block", "transpose_wh_tile")
