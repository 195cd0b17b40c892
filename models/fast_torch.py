"""The torch backend's fast path: the same models as :mod:`reference.decoder` and :mod:`models.dflash`, run for
speed on the CPU (the reference stays the golden model the fast path is tested against).

What makes it fast, for a target step of T tokens and for a DFlash draft step (profiled on the tiny coder, where
the per-op overhead of eager torch dominates):

* one matmul for Q, K and V (their weights concatenated once) and one for gate and up;
* fused ``F.rms_norm`` and ``F.scaled_dot_product_attention`` (GQA without ``repeat_interleave``; no mask at all
  for one decode token or a non-causal draft block, a slice of one precomputed causal mask for a block);
* RoPE from a cos/sin table computed once for the whole cache;
* static preallocated caches, written in place; taps are views of the residual stream, not copies;
* the LM head only on the rows that are needed (the prompt's last row after a prefill);
* the DFlash draft writes its block's K/V right after the context in its cache (no concatenation) and projects
  the context K/V once per accepted token.

Plain decoding uses the same :class:`FastTorchTarget` as speculation, so their comparison stays fair.  At
temperature 0 speculation is lossless by construction (the target's own argmax decides); a block of T rows and T
single steps compute the same values up to the order of floating-point additions, so a near-tie could in
principle flip an argmax: ``tests/test_fast_torch.py`` and every run check the outputs against plain decoding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from reference.decoder import Decoder, KVCache

from .dflash import DFlashDraft
from .protocols import ReferenceHead, TapSegment
from .speculative import DFlashRunner

__all__ = ["FastDFlashRunner", "FastTorchTarget"]


@dataclass
class _Layer:
    ln1: torch.Tensor
    qkv: torch.Tensor  # [H, (n_q + 2 n_kv) D]
    qkn: torch.Tensor | None  # [n_q + n_kv, D]: q_norm's weight for the q heads, k_norm's for the k heads
    wo: torch.Tensor  # [n_q D, H]
    ln2: torch.Tensor
    gu: torch.Tensor  # [H, 2 I]
    wd: torch.Tensor  # [I, H]


def _layers(layers, n_q: int, n_kv: int) -> list[_Layer]:
    out = []
    for layer in layers:
        a, m = layer.self_attn, layer.mlp
        w = lambda t: t.detach()  # noqa: E731
        qkn = None
        if a.q_norm is not None:  # QK-norm of the q and k heads at once: unweighted RMSNorm, then these weights
            qkn = torch.cat([w(a.q_norm.weight).expand(n_q, -1), w(a.k_norm.weight).expand(n_kv, -1)]).contiguous()
        out.append(_Layer(
            ln1=w(layer.input_layernorm.weight),
            qkv=torch.cat([w(a.q_proj.weight), w(a.k_proj.weight), w(a.v_proj.weight)]).T.contiguous(),
            qkn=qkn,
            wo=w(a.o_proj.weight).T.contiguous(), ln2=w(layer.post_attention_layernorm.weight),
            gu=torch.cat([w(m.gate_proj.weight), w(m.up_proj.weight)]).T.contiguous(),
            wd=w(m.down_proj.weight).T.contiguous()))
    return out


def _rotation(d: int, dtype: torch.dtype) -> torch.Tensor:
    """``R [D, D]`` with ``x @ R = rotate_half(x) = cat(-x[D/2:], x[:D/2])``: RoPE in one matmul instead of four ops."""
    half = d // 2
    r = torch.zeros(d, d, dtype=dtype)
    r[torch.arange(half) + half, torch.arange(half)] = -1.0
    r[torch.arange(half), torch.arange(half) + half] = 1.0
    return r


class _Blocks:
    """The layer math shared by the target and the draft (pre-norm Qwen3 / Llama layers)."""

    def __init__(self, layers, n_q: int, n_kv: int, head_dim: int, eps: float, dtype: torch.dtype):
        self.layers = _layers(layers, n_q, n_kv)
        self.n_q, self.n_kv, self.d, self.eps = n_q, n_kv, head_dim, eps
        self.rot = _rotation(head_dim, dtype)

    def qkv(self, w: _Layer, a: torch.Tensor, cos, sin):
        """``a [1, T, H]`` -> q ``[1, n_q, T, D]``, k, v ``[1, n_kv, T, D]`` (QK-normed and RoPE'd q and k, rotated
        together as one ``[1, n_q + n_kv, T, D]`` tensor)."""
        T, nq, nkv, d = a.shape[1], self.n_q, self.n_kv, self.d
        x = a @ w.qkv
        qk = x[..., : (nq + nkv) * d].view(1, T, nq + nkv, d)
        if w.qkn is not None:
            qk = F.rms_norm(qk, (d,), None, self.eps) * w.qkn
        qk = qk.transpose(1, 2)
        qk = qk * cos + (qk @ self.rot) * sin
        v = x[..., (nq + nkv) * d:].view(1, T, nkv, d).transpose(1, 2)
        return qk[:, :nq], qk[:, nq:], v

    def finish(self, w: _Layer, h: torch.Tensor, o: torch.Tensor) -> torch.Tensor:
        """Residual + O-proj, then the SwiGLU block: ``h [1, T, H]``, ``o [1, n_q, T, D]``."""
        T = h.shape[1]
        h = h + o.transpose(1, 2).reshape(1, T, self.n_q * self.d) @ w.wo
        gu = F.rms_norm(h, (h.shape[-1],), w.ln2, self.eps) @ w.gu
        g, u = gu.chunk(2, -1)
        return h + (F.silu(g) * u) @ w.wd


class _Rope:
    """cos / sin ``[S, D]`` for every position of a cache, computed once (grown when a longer cache comes)."""

    def __init__(self, inv_freq: torch.Tensor, dtype: torch.dtype):
        self.inv_freq, self.dtype = inv_freq.float(), dtype
        self.cos = self.sin = torch.zeros(0, 2 * inv_freq.shape[0])

    def __call__(self, start: int, end: int):
        if end > self.cos.shape[0]:
            n = max(end, 2 * self.cos.shape[0], 256)
            f = torch.outer(torch.arange(n, dtype=torch.float32), self.inv_freq)
            emb = torch.cat((f, f), -1)
            self.cos, self.sin = emb.cos().to(self.dtype), emb.sin().to(self.dtype)
        return self.cos[start:end], self.sin[start:end]


class FastTorchTarget(ReferenceHead):
    """:class:`models.protocols.Target` on the reference model's weights, fast (see the module docstring)."""

    backend = "torch"

    def __init__(self, model: Decoder, *, name: str = "reference", stop_tokens=(), mask_token_id: int | None = None):
        c = model.config
        self.model, self.config = model, c
        self._set_info(name, stop_tokens, mask_token_id)
        self.blocks = _Blocks(model.layers, c.num_heads, c.num_kv_heads, c.head_dim, c.rms_norm_eps, model.dtype)
        self.rope = _Rope(model._inv_freq, model.dtype)
        self.norm = model.norm.weight.detach()
        self.head = model.lm_head.weight.detach()
        self._tri = torch.ones(0, 0, dtype=torch.bool)

    def new_cache(self, max_len: int) -> KVCache:
        return KVCache.empty(self.config, 1, max_len, self.model.dtype)

    def _causal(self, start: int, end: int) -> torch.Tensor:
        """Rows ``start .. end - 1`` of the causal mask over keys ``0 .. end - 1`` (a slice, no new tensor)."""
        if end > self._tri.shape[0]:
            n = max(end, 2 * self._tri.shape[0], 256)
            self._tri = torch.ones(n, n, dtype=torch.bool).tril()
        return self._tri[start:end, :end]

    @torch.inference_mode()
    def forward(self, ids, cache: KVCache, taps=()) -> tuple[torch.Tensor, list[TapSegment] | None]:
        ids = list(ids)
        T, start = len(ids), int(cache.lengths[0])
        end = start + T
        if end > cache.max_seq_len:
            raise ValueError(f"cache: {end} positions exceed max_seq_len {cache.max_seq_len}")
        B = self.blocks
        cos, sin = self.rope(start, end)
        mask = None if T == 1 else self._causal(start, end)
        h = self.model.embed(torch.tensor([ids]))
        want, tapped = set(taps), {}
        for li, w in enumerate(B.layers):
            q, k, v = B.qkv(w, F.rms_norm(h, (h.shape[-1],), w.ln1, B.eps), cos, sin)
            ck, cv = cache.k[li], cache.v[li]
            ck.narrow(2, start, T).copy_(k)
            cv.narrow(2, start, T).copy_(v)
            o = F.scaled_dot_product_attention(q, ck.narrow(2, 0, end), cv.narrow(2, 0, end), attn_mask=mask,
                                               enable_gqa=True)
            h = B.finish(w, h, o)
            if li in want:
                tapped[li] = h[0]
        cache.lengths.fill_(end)
        rows = h[:, -1:] if start == 0 and T > 1 else h  # a prompt: only its last row is decoded from
        logits = (F.rms_norm(rows, (h.shape[-1],), self.norm, B.eps) @ self.head.T)[0].float()
        return logits, ([TapSegment([tapped[t] for t in taps], T)] if taps else None)


class FastDFlashRunner(DFlashRunner):
    """:class:`models.speculative.DFlashRunner` with the draft run fast (same weights, same results to fp32
    rounding): the context K/V projected once per accepted token, the block's K/V written after them."""

    def __init__(self, draft: DFlashDraft, target: FastTorchTarget, block_size: int | None = None,
                 name: str = "dflash"):
        super().__init__(draft, target, block_size, name)
        c = draft.config
        self.blocks = _Blocks(draft.layers, c.num_heads, c.num_kv_heads, c.head_dim, c.rms_norm_eps, draft.dtype)
        self.rope = _Rope(draft._inv_freq, draft.dtype)
        self.fc = draft.fc.weight.detach().T.contiguous()
        self.hidden_norm = draft.hidden_norm.weight.detach()
        self.norm = draft.norm.weight.detach()

    def start(self, prompt: list[int], prefill_taps, max_len: int) -> None:
        c = self.draft.config
        shape = (1, c.num_kv_heads, max_len + self.k + 1, c.head_dim)
        self.ck = [torch.zeros(shape, dtype=self.draft.dtype) for _ in range(c.num_layers)]
        self.cv = [torch.zeros(shape, dtype=self.draft.dtype) for _ in range(c.num_layers)]
        self.length = 0
        self.pending = [(seg, seg.rows) for seg in prefill_taps]  # (TapSegment, rows that are context)

    @torch.inference_mode()
    def propose(self, tokens: list[int], params, gen):
        B, eps = self.blocks, self.blocks.eps
        n0 = self.length
        # the new context rows (verified tokens), fc + hidden_norm once; each layer projects their K/V together
        # with the block's own rows (KV injection uses the same weights), in one matmul
        parts = [torch.cat(list(seg.layers), -1)[:rows] for seg, rows in self.pending]
        ctx = torch.cat(parts, 0)[None] if parts else None
        C = 0 if ctx is None else ctx.shape[1]
        x_ctx = None
        if C:
            x_ctx = F.rms_norm(ctx.to(self.fc.dtype) @ self.fc, (self.fc.shape[1],), self.hidden_norm, eps)
        block = [tokens[-1]] + [self.draft.config.mask_token_id] * self.k
        end = n0 + C + len(block)
        cos, sin = self.rope(n0, end)  # context rows, then the block right after them
        h = self.target.embed(torch.tensor([block])).to(self.fc.dtype)
        for li, w in enumerate(B.layers):
            a = F.rms_norm(h, (h.shape[-1],), w.ln1, eps)
            q, k, v = B.qkv(w, a if x_ctx is None else torch.cat((x_ctx, a), 1), cos, sin)
            ck, cv = self.ck[li], self.cv[li]
            ck.narrow(2, n0, end - n0).copy_(k)  # the block's K/V lie past the length: the next context overwrites them
            cv.narrow(2, n0, end - n0).copy_(v)
            o = F.scaled_dot_product_attention(q[:, :, C:], ck.narrow(2, 0, end), cv.narrow(2, 0, end),
                                               enable_gqa=True)  # non-causal: every block row sees 0 .. end - 1
            h = B.finish(w, h, o)
        self.length = n0 + C
        x = F.rms_norm(h[0, 1:], (h.shape[-1],), self.norm, eps)
        self.pending = []
        return self.choose(self.target.lm_head(x), params, gen)

    def accepted(self, n_tokens: int, n_accepted: int, verify_taps) -> None:
        self.pending = [(verify_taps[-1], n_accepted + 1)]  # the anchor and the accepted proposals
