"""Qwen3-MoE decoders through the one decode step (``models/decoder_step.py``): the torch ops against the reference
model, the kernel model (all-experts masked compute, TT-Lang routing) against the reference on the simulator, the
compile-only step at Qwen3-Coder-30B-A3B shapes, the memory footprint, and bad input.

Tolerances:
* TorchOps (reference arithmetic) equals :class:`reference.moe.SparseMoeBlock` / the reference model bit for bit
  here (the same torch calls in the same order; "to fp32 rounding" is the promise), ties included: duplicated
  router rows make equal logits, and ``torch.topk``'s choice among them is reproduced because the same call sees
  the same values;
* kernels, fp32 weights, a tiny random MoE (layers 0 and 2 routed, top-2 of 8 renormalised, expert width 48
  padded to 64; layer 1 dense): 16 greedy tokens equal to the reference's, per-step logits PCC >= 0.999; a
  16-row verification block in ONE step: PCC >= 0.999 and the same argmax;
* bf16 weights and activations: logits PCC >= 0.99 per step (two users at different positions); bfp8_b / bfp4_b
  weights (router and experts included) through the same path: PCC >= 0.99 against the reference holding the same
  quantised weights.
"""

from __future__ import annotations

import pytest
import torch
from _tiny_models import check_two_users_bf16, seeded

from models.decoder_step import MoeWeights, TorchOps, decode_step, moe_block_parts
from models.kernel_model import KernelOps, KernelTarget, ShapeOps
from models.memory import fit_report
from models.targets import TorchTarget
from reference import registry
from reference.config import DecoderConfig
from reference.decoder import KVCache, greedy_generate
from reference.moe import SparseMoeBlock
from reference.qwen3_moe import Qwen3MoeModel
from ttl_kernels import host
from ttl_kernels.testing import pcc


def tiny_moe(seed: int = 0, norm: bool = True, k: int = 2, layers: int = 3, mlp_only=(1,)) -> Qwen3MoeModel:
    cfg = DecoderConfig(arch="qwen3_moe", vocab_size=256, hidden_size=128, intermediate_size=256, num_layers=layers,
                        num_heads=4, num_kv_heads=2, head_dim=64, qk_norm=True, tie_word_embeddings=True,
                        rope_theta=1e6, num_experts=8, num_experts_per_tok=k, moe_intermediate_size=48,
                        decoder_sparse_step=1, mlp_only_layers=tuple(mlp_only), norm_topk_prob=norm)
    return seeded(Qwen3MoeModel, cfg, seed)


@pytest.fixture(scope="module")
def model():
    return tiny_moe()


def test_layers_are_mixed_dense_and_sparse(model):
    ws = TorchOps(model).weights()[0]
    assert [w.moe is not None for w in ws] == [True, False, True]
    assert all(w.wg is None for w in ws if w.moe is not None)
    kw = KernelOps(model, 64, dtype="fp32").weights()[0]
    assert kw[0].moe.gate.shape == (128, 8 * 64) and kw[0].moe.down.shape == (8 * 64, 128)
    assert kw[1].moe is None and kw[1].wg.shape == (128, 256)


@pytest.mark.parametrize("norm", [True, False])
def test_torch_ops_equal_the_reference_including_ties(norm):
    """The block on its own (rows with tied router logits straddling the k-th place) and the whole decode step for
    two users over several steps."""
    m = tiny_moe(seed=1, norm=norm, k=3)
    block = m.layers[0].mlp
    assert isinstance(block, SparseMoeBlock)
    with torch.no_grad():
        block.gate.weight[5] = block.gate.weight[1]  # experts 1, 5, 6 always tie
        block.gate.weight[6] = block.gate.weight[1]
        x = torch.randn(40, 128)
        p = torch.softmax(x @ block.gate.weight.T, -1).sort(-1, descending=True).values
        assert (p[:, 2] == p[:, 3]).any()  # some rows tie across the k-th place
        ops = TorchOps(m)
        mw = ops.weights()[0][0].moe
        want = block(x)
        got = ops.moe(x, mw)
    assert torch.equal(got, want)
    ops = TorchOps(m)
    ws, fn, lm = ops.weights()
    cache, ref = KVCache.empty(m.config, 2, 32), KVCache.empty(m.config, 2, 32)
    ids = [3, 7]
    for _ in range(4):
        a, _ = decode_step(ops, ws, fn, lm, cache, ids, cache.lengths.tolist())
        cache.lengths += 1
        b = m(torch.tensor(ids)[:, None], ref).logits[:, 0]
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
        ids = [int(t) for t in b.argmax(-1)]


def test_kernel_greedy_16_tokens_equal_reference(model):
    """fp32 weights on the simulator: per-step logits PCC >= 0.999 and 16 greedy tokens equal."""
    kt, tt = KernelTarget(model, max_seq_len=96, dtype="fp32"), TorchTarget(model)
    prompt = list(range(20, 45))
    want = greedy_generate(model, torch.tensor([prompt]), 16)[0, len(prompt):].tolist()
    c1, c2 = kt.new_cache(64), tt.new_cache(64)
    a, _ = kt.forward(prompt, c1)
    b, _ = tt.forward(prompt, c2)
    got, worst = [int(a[-1].argmax())], pcc(a, b)
    for _ in range(15):
        a, _ = kt.forward([got[-1]], c1)
        b, _ = tt.forward([got[-1]], c2)
        worst = min(worst, pcc(a, b))
        got.append(int(a[-1].argmax()))
    print(f"MoE kernel model: worst per-step logits PCC {worst:.6f}")
    assert worst >= 0.999
    assert got == want


def test_kernel_verify_block_of_16_is_one_step(model):
    """A 16-token verification block runs as ONE kernel step (rows of one sequence): logits PCC >= 0.999, same
    argmax per row."""
    kt, tt = KernelTarget(model, max_seq_len=96, dtype="fp32"), TorchTarget(model)
    prompt = list(range(50, 80))
    c1, c2 = kt.new_cache(96), tt.new_cache(96)
    kt.forward(prompt, c1)
    tt.forward(prompt, c2)
    steps = []
    kt.ops.step = (lambda f: (lambda *a, **k: steps.append(len(a[1])) or f(*a, **k)))(kt.ops.step)
    block = [5, 17, 99, 3, 42, 7, 8, 200, 11, 12, 13, 250, 1, 0, 64, 128]
    a, _ = kt.forward(block, c1)
    b, _ = tt.forward(block, c2)
    assert steps == [16]
    assert pcc(a, b) >= 0.999
    assert torch.equal(a.argmax(-1), b.argmax(-1))


def test_kernel_bf16_two_users_at_different_positions(model):
    """bf16 weights and activations, a batch of two users at different lengths: PCC >= 0.99 per user and step."""
    check_two_users_bf16(model, 96)


def quantised_copy(model, dtype: str):
    """The reference model with every projection, router, expert and LM-head weight stored as the kernel model
    stores it in ``dtype`` (``[in, out]``, tile-padded, block-float groups along rows; the embedding untouched)."""
    import copy

    m = copy.deepcopy(model)
    with torch.no_grad():
        for mod in list(m.modules()):
            w = getattr(mod, "weight", None)
            if w is None or w.dim() != 2 or mod is m.model.embed_tokens:
                continue
            q = host.quantize(host.pad_to_tiles(w.detach().float().T), dtype)[: w.shape[1], : w.shape[0]].T
            if mod is m.lm_head:
                m.lm_head.weight = torch.nn.Parameter(q.contiguous())  # unties it from the embedding
            else:
                w.copy_(q)
    return m


@pytest.mark.parametrize("weights_dtype", ["bfp8_b", "bfp4_b"])
def test_kernel_block_float_expert_weights(model, weights_dtype):
    """bfp8_b / bfp4_b weights (router and experts included) through the same path: logits PCC >= 0.99 against the
    reference holding the same quantised weights (the PCC against the fp32 reference is printed: random weights
    flatter nothing, and routing flips under bfp4_b noise)."""
    kt = KernelTarget(model, max_seq_len=64, dtype="bf16", weights_dtype=weights_dtype)
    mw = kt.ops.weights()[0][0].moe
    assert {mw.router.dtype, mw.gate.dtype, mw.up.dtype, mw.down.dtype} == {weights_dtype}
    prompt = list(range(10, 30))
    a, _ = kt.forward(prompt, kt.new_cache(64))
    q = quantised_copy(model, weights_dtype)
    b, _ = TorchTarget(q).forward(prompt, TorchTarget(q).new_cache(64))
    c, _ = TorchTarget(model).forward(prompt, TorchTarget(model).new_cache(64))
    print(weights_dtype, f"prefill logits PCC vs quantised reference {pcc(a, b):.4f}, vs fp32 {pcc(a, c):.4f}")
    assert pcc(a, b) >= 0.99


def test_bad_moe_input_is_rejected(model):
    """experts_per_tok > num_experts, missing expert weights, router shape mismatch: a ValueError naming the part,
    from the kernel path's weight conversion and from the op itself."""
    ops = KernelOps(model, 64, dtype="fp32")
    H = model.config.hidden_size

    def block(change):
        b = tiny_moe(seed=2).layers[0].mlp
        change(b)
        return b

    with pytest.raises(ValueError, match="num_experts_per_tok: expected 1 <= num_experts_per_tok <= num_experts"):
        ops.moe_weights(block(lambda b: setattr(b, "top_k", 9)))
    with pytest.raises(ValueError, match=r"mlp.experts: expected 8 experts"):
        ops.moe_weights(block(lambda b: b.experts.__delitem__(3)))
    with pytest.raises(ValueError, match=r"mlp.experts.2.down_proj.weight: missing expert weight"):
        ops.moe_weights(block(lambda b: delattr(b.experts[2], "down_proj")))
    with pytest.raises(ValueError, match=r"mlp.experts.4.up_proj.weight: expected shape \(48, 128\)"):
        ops.moe_weights(block(lambda b: setattr(b.experts[4].up_proj, "weight",
                                                torch.nn.Parameter(torch.zeros(40, H)))))
    with pytest.raises(ValueError, match=r"mlp.gate.weight: expected the router shape \(8, 128\)"):
        ops.moe_weights(block(lambda b: setattr(b.gate, "weight", torch.nn.Parameter(torch.zeros(8, 64)))))
    with pytest.raises(ValueError, match=r"mlp.gate.weight: expected the router shape \(8, 128\)"):
        ops.moe_weights(block(lambda b: setattr(b.gate, "weight", torch.nn.Parameter(torch.zeros(7, H)))))
    with pytest.raises(ValueError, match="num_experts_per_tok: the router kernel takes at most 32"):
        big = SparseMoeBlock(DecoderConfig(arch="qwen3_moe", vocab_size=64, hidden_size=128, intermediate_size=64,
                                           num_layers=1, num_heads=2, num_kv_heads=1, head_dim=64, qk_norm=True,
                                           num_experts=40, num_experts_per_tok=33, moe_intermediate_size=32))
        ops.moe_weights(big)
    # the op checks the concatenated layout and the router against the activations
    mw = ops.weights()[0][0].moe
    x = host.to_device(torch.randn(1, H), "fp32")
    bad = MoeWeights(router=mw.up, gate=mw.gate, up=mw.up, down=mw.down, num_experts=8, top_k=2,
                     norm_topk_prob=True, inter=48)
    with pytest.raises(ValueError, match=r"moe.router: expected shape \(128, 8\)"):
        ops.moe(x, bad)
    lists = TorchOps(model).weights()[0][0].moe
    with pytest.raises(ValueError, match="moe.gate: expected all 8 experts concatenated"):
        ops.moe(x, MoeWeights(router=mw.router, gate=lists.gate, up=mw.up, down=mw.down, num_experts=8, top_k=2,
                              norm_topk_prob=True, inter=48))
    assert moe_block_parts(model.layers[0].mlp, H)[2:] == (2, True, 48)


def test_shape_ops_build_mixed_layers_at_30b_shapes():
    cfg = registry.config("qwen3-coder-30b-a3b", num_layers=2)
    for path, width in (("all", 128 * 768), ("gathered", 128 * 768)):
        ws = ShapeOps(cfg, 64, moe=path).weights()[0]
        assert all(w.moe is not None for w in ws)
        assert ws[0].moe.gate.shape == (2048, width) and ws[0].moe.top_k == 8
    with pytest.raises(ValueError, match="moe: expected one of"):
        ShapeOps(cfg, 64, moe="sparse")


def test_30b_a3b_footprint_and_minimum_devices():
    """It does not fit one n150 in bf16 (nor in bfp8_b / bfp4_b); the fewest chips per precision."""
    c = registry.config("qwen3-coder-30b-a3b")
    got = {}
    for wdt in ("bf16", "bfp8_b", "bfp4_b"):
        r = fit_report(c, weights_dtype=wdt, max_seq_len=4096)
        got[wdt] = (round(r["gb"], 1), r["fits"]["n150"], r["min_devices"]["n150"], r["min_devices"]["p150"])
    print(got)
    assert got == {"bf16": (61.5, False, 6, 2), "bfp8_b": (33.1, False, 3, 2), "bfp4_b": (18.0, False, 2, 1)}
    dense = fit_report(registry.config("qwen3-8b"))
    assert dense["min_devices"] == {"n150": 2, "p150": 1}
