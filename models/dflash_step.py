"""One DFlash draft step, written once over the ``ops`` interface of :func:`models.decoder_step.decode_step`.

A DFlash draft layer is the target's pre-norm Qwen3 layer with two differences (:mod:`models.dflash`): its keys
and values also come from the *context* (the target's hidden states of verified tokens, "KV injection"), and its
block attends non-causally.  So a draft step is

    ctx    = hidden_norm(sum_i tap_i @ W_fc[i])                     C context rows  (matmul, add, rmsnorm)
    per draft layer l:                                             (inject_context: the context's K/V, once)
        K_ctx, V_ctx = rope(k_norm(ctx W_k), ctx positions), ctx W_v  -> the draft cache at ctx positions
    decode_step(block rows [anchor, MASK...] at the block positions, attention: every row at the block's
                LAST position, so each row sees the whole context and the whole block)
    logits = target lm_head(norm(x))                                the rows after the anchor propose

and every line above is an op of the same ``ops`` object the target's decode step uses: :class:`TorchOps`
(reference arithmetic; equal to :class:`models.dflash.DFlashDraft` to fp32 rounding, see
``tests/test_dflash_step.py``) or :class:`models.kernel_model.KernelOps` (TT-Lang kernels, simulator or device).
The block's own K/V are written to the cache at the block positions by the decode step; they lie past the
cache's length, so the next step's context overwrites them (entries past the length are never read).

Context rows arrive as the target's :class:`~models.protocols.TapSegment` s (one per target step, each tapped
layer's ``[rows, H]`` separately, so nothing is concatenated: ``fc`` is applied per tap and summed).  The
verify step yields the taps of all of its T rows; the draft injects all of them and keeps the first ``valid``
(the anchor and the accepted proposals).  The rest are written past the new length and overwritten by the next
segment or this step's block: the shapes stay fixed whatever was accepted, so the step is static.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from reference.decoder import KVCache
from ttl_kernels import audit
from ttl_kernels.host import to_torch
from ttl_kernels.sampling import argmax as device_argmax

from .decoder_step import LayerWeights, TorchOps, decode_step, layer_weights
from .speculative import DFlashRunner


@dataclass
class DraftWeights:
    """A DFlash draft's weights in the ops' tensor type (projections ``[in, out]``)."""

    fc: list  # per tapped layer, [H, H] (the columns of fc.weight that multiply that layer)
    hidden_norm: object
    layers: list[LayerWeights]
    norm: object


def draft_weights(draft, ops) -> DraftWeights:
    """The weights of a :class:`models.dflash.DFlashDraft` through the ops' ``vec`` / ``mat`` converters."""
    H, n = draft.config.hidden_size, len(draft.config.target_layer_ids)
    fc = [ops.mat(draft.fc.weight[:, i * H:(i + 1) * H]) for i in range(n)]
    return DraftWeights(fc=fc, hidden_norm=ops.vec(draft.hidden_norm.weight),
                        layers=layer_weights(draft.layers, ops.vec, ops.mat), norm=ops.vec(draft.norm.weight))


def inject_context(ops, dw: DraftWeights, tap_layers: list, cache, positions: list[int]) -> None:
    """Write every draft layer's K/V of the context rows (``tap_layers``: one ``[C, H]`` per tapped target layer)
    at ``positions`` (one per row).  The context is projected once per verified token, not once per draft step."""
    c = ops.config
    fc = ops.matmul(tap_layers[0], dw.fc[0])
    for t, w in zip(tap_layers[1:], dw.fc[1:]):
        fc = ops.add(fc, ops.matmul(t, w))
    ctx = ops.rmsnorm(fc, dw.hidden_norm)
    for li, w in enumerate(dw.layers):
        k = ops.head_rmsnorm(ops.matmul(ctx, w.wk), w.kn, c.num_kv_heads)
        _, k = ops.rope(k, k, positions)  # K only (rope rotates its two inputs alike)
        ops.kv_update(cache, li, k, ops.matmul(ctx, w.wv), positions)


def draft_step(ops, dw: DraftWeights, lm_head, cache, start: int, context: list, block_ids: list[int]):
    """One draft forward; returns the logits of every block row (the caller proposes from rows 1..).

    ``start``: the cache length (context positions written so far); ``context``: the new context as
    ``(TapSegment, valid)`` pairs in order, the first ``valid`` rows of each real (they take the next positions);
    ``block_ids``: ``[anchor, MASK, ...]``, at the positions right after the context.  Returns ``(logits
    [len(block_ids), V], new cache length)``."""
    pos = start
    for seg, valid in context:
        if not 0 <= valid <= seg.rows:
            raise ValueError(f"valid: expected 0..{seg.rows} context rows; got {valid}")
        inject_context(ops, dw, list(seg.layers), cache, list(range(pos, pos + seg.rows)))
        pos += valid
    positions = list(range(pos, pos + len(block_ids)))
    last = positions[-1]

    def every_row_at_the_end(layer, q, cache_, _positions):  # non-causal block: all rows see 0..last
        return ops.attention(layer, q, cache_, [last] * len(_positions))

    logits, _ = decode_step(ops, dw.layers, dw.norm, lm_head, cache, block_ids, positions,
                            attention=every_row_at_the_end)
    return logits, pos


class StepDFlashRunner(DFlashRunner):
    """A :class:`~models.protocols.Draft` that runs the DFlash draft through :func:`draft_step` on the target's
    own backend: :class:`~models.decoder_step.TorchOps` next to a host target, the TT-Lang kernels
    (:meth:`models.kernel_model.KernelOps.for_draft`: the same dtypes, the target's embedding and LM head on the
    device) next to a :class:`~models.kernel_model.KernelTarget`.  The draft's context cache lives where its ops
    run; the target's taps are consumed where they are (on the device they never come back to the host)."""

    def __init__(self, draft, target, block_size: int | None = None, name: str = "dflash"):
        super().__init__(draft, target, block_size, name)
        from .kernel_model import KernelOps, KernelTarget

        if isinstance(target, KernelTarget):
            self.ops = KernelOps.for_draft(draft, target.ops)
            self.lm_head = target.ops.weights()[2]
        else:
            self.ops = TorchOps.for_parts(draft.config.layer_config(), target.embed, draft.rope)
            self.lm_head = TorchOps.mat(target.model.lm_head.weight)
        self.dw = draft_weights(draft, self.ops)

    def start(self, prompt: list[int], prefill_taps, max_len: int) -> None:
        if hasattr(self.ops, "new_cache"):
            self.cache = self.ops.new_cache(1)
        else:
            self.cache = KVCache.empty(self.draft.config.layer_config(), 1, max_len)
        self.context = [(seg, seg.rows) for seg in prefill_taps]

    def propose(self, tokens: list[int], params, gen) -> tuple[list[int], torch.Tensor | None]:
        block = [tokens[-1]] + [self.draft.config.mask_token_id] * self.k
        with audit.scope("draft"):
            logits, length = draft_step(self.ops, self.dw, self.lm_head, self.cache, int(self.cache.lengths[0]),
                                        self.context, block)
            self.cache.lengths.fill_(length)
            self.context = []
            if isinstance(logits, torch.Tensor):
                host_logits = logits
            elif params.greedy:  # the proposals are chosen on the device; only their ids come back
                return [int(i) for i in to_torch(device_argmax(logits))[1:, 0].tolist()], None
            else:
                host_logits = to_torch(logits)
        return self.choose(host_logits[1:], params, gen)

    def accepted(self, n_tokens: int, n_accepted: int, verify_taps) -> None:
        self.context = [(verify_taps[-1], n_accepted + 1)]  # the anchor and the accepted proposals


# ---------------------------------------------------------------------------------------------- compile-only


def compile_dflash_step(draft: str = "tiny-qwen3-dflash-b16", position: int = 200, block: int = 0, layers: int = 1,
                        draft_layers: int = 1, kv_dtype: str = "bf16") -> None:
    """Lower every TT-Lang kernel instance of one full DFlash step: the target's verification of a block of
    ``block`` tokens at ``position`` (0: the draft's own block size) and the draft forward that follows it (its
    context injection from the verify step's taps, then the block).  ``draft`` is a :data:`reference.registry.DRAFTS`
    name; its target's shape comes from the registry too.  ``layers`` / ``draft_layers``: every layer uses the same
    kernel instances, so one of each is enough to compile them all.  For the compile driver::

        ttl-compile --arch p150 models.dflash_step:compile_dflash_step:draft=qwen3-8b-dflash-b16
    """
    import dataclasses

    from reference import registry
    from ttl_kernels import host

    from .dflash import DFlashConfig
    from .kernel_model import ShapeOps, _ShapeOnly
    from .protocols import TapSegment

    target_name, raw = registry.draft_dict(draft)
    dcfg = DFlashConfig.from_hf(raw)
    B = block or dcfg.block_size
    tcfg = registry.config(target_name, num_layers=layers)
    span = position + 2 * B + 1
    # the target's verify block: B rows of one sequence at position .. position + B - 1, causal
    tops = ShapeOps(tcfg, max_seq_len=span, kv_dtype=kv_dtype)
    cache = tops.new_cache(1)
    cache.lengths.fill_(position)
    ws, fn, lm = tops.weights()
    decode_step(tops, ws, fn, lm, cache, [0] * B, list(range(position, position + B)))
    # the draft: inject the verify block's B context rows, then its own block right after them
    dops = ShapeOps(dataclasses.replace(dcfg.layer_config(), num_layers=draft_layers), max_seq_len=span,
                    kv_dtype=kv_dtype)
    H = dcfg.hidden_size
    layer_ws, norm, _ = dops.weights()
    dw = DraftWeights(fc=[_ShapeOnly(H, H, dops.dtype)] * len(dcfg.target_layer_ids),
                      hidden_norm=host.empty((1, H), dops.dtype), layers=layer_ws, norm=norm)
    dcache = dops.new_cache(1)
    taps = TapSegment([host.empty((B, H), dops.dtype)] * len(dcfg.target_layer_ids), B)
    draft_step(dops, dw, lm, dcache, position, [(taps, B)], [0] * B)


compile_dflash_step.expected_ops = ("rsqrt_tile", "silu_tile", "exp_tile", "matmul_block")
