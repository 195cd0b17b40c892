"""Speculative decoding: lossless at T=0 for every draft kind, distribution-preserving at T>0, DFlash
draft equal to an independent implementation of the published architecture, and bad input."""

from __future__ import annotations

import math

import pytest
import torch
from _tiny_models import V, prompts, seeded, tiny_dflash

from models.dflash import DFlashConfig, DFlashDraft
from models.dflash_step import StepDFlashRunner
from models.sampling import SamplingParams, greedy_verify, probs, verify
from models.speculative import (
    AutoregressiveDraft,
    DFlashRunner,
    layer_skip,
    plain_generate,
    speculative_generate,
)
from models.targets import TorchTarget
from reference.decoder import Decoder, DecoderConfig, greedy_generate


def tiny(arch="qwen3", layers=4, vocab=V, seed=0, scale=0.3) -> Decoder:
    cfg = DecoderConfig(arch=arch, vocab_size=vocab, hidden_size=64, intermediate_size=128, num_layers=layers,
                        num_heads=4, num_kv_heads=2, head_dim=16, qk_norm=arch == "qwen3", tie_word_embeddings=True,
                        rope_theta=1e6)
    return seeded(Decoder, cfg, seed, scale)


@pytest.fixture(scope="module")
def target():
    return tiny()


def drafts(m: Decoder):
    t = TorchTarget(m)
    return {
        "layer-skip(2)": AutoregressiveDraft(layer_skip(m, 2), 4, "layer-skip"),
        "small model": AutoregressiveDraft(tiny(layers=1, seed=7), 3, "small"),
        "self (perfect draft)": AutoregressiveDraft(m, 5, "self"),
        "dflash b8": DFlashRunner(tiny_dflash(m), t),
        "dflash b3": DFlashRunner(tiny_dflash(m, block=3, taps=(1,)), t),
    }


def test_lossless_greedy_every_draft_kind(target):
    """T = 0: speculative output == plain greedy (the reference's own greedy loop) on 20 prompts x 5 drafts."""
    t = TorchTarget(target)
    for name, d in drafts(target).items():
        for p in prompts(20):
            want = greedy_generate(target, torch.tensor([p]), 24)[0, len(p):].tolist()
            got = speculative_generate(t, d, p, 24)
            assert got.tokens == want, (name, p)
            assert 1.0 <= got.tau <= d.k + 1
    perfect = speculative_generate(t, AutoregressiveDraft(target, 5, "self"), prompts(20)[0], 24)
    # a draft identical to the target accepts everything: 6 tokens per step; tau counts only the 23 tokens kept
    # after the prefill's first one (the last step's overshoot past max_new_tokens is dropped)
    assert perfect.acceptance_rate == 1.0 and perfect.verify_steps == 4 and perfect.emitted == 23
    assert perfect.tau == 23 / 4


def test_plain_generate_matches_reference_greedy(target):
    for p in prompts(5):
        want = greedy_generate(target, torch.tensor([p]), 20)[0, len(p):].tolist()
        assert plain_generate(TorchTarget(target), p, 20).tokens == want


def test_stop_tokens_and_max_new_tokens(target):
    t = TorchTarget(target)
    p = prompts(1)[0]
    full = plain_generate(t, p, 30).tokens
    stop = full[10]
    for d in drafts(target).values():
        g = speculative_generate(t, d, p, 30, stop_tokens=[stop])
        assert g.tokens == full[: full.index(stop) + 1]
        assert len(speculative_generate(t, d, p, 7).tokens) == 7


@torch.no_grad()
def _exact_marginals(m: Decoder, prompt: list[int], params: SamplingParams, n_pos: int) -> list[torch.Tensor]:
    """Exact distribution of the generated tokens at positions 0..n_pos-1 under plain sampling."""
    out = []
    dist = {(): 1.0}
    for _ in range(n_pos):
        nxt: dict = {}
        marg = torch.zeros(V, dtype=torch.float64)
        for prefix, w in dist.items():
            logits = m(torch.tensor([prompt + list(prefix)])).logits[0, -1]
            p = probs(logits[None], params)[0]
            marg += w * p
            for tok in torch.nonzero(p > 1e-4).flatten().tolist():
                nxt[prefix + (tok,)] = w * float(p[tok])
        out.append(marg)
        dist = nxt
    return out


@pytest.mark.parametrize("params", [SamplingParams(1.0, top_k=4), SamplingParams(0.8, top_p=0.7)])
def test_distribution_preserved_chi_square(params):
    """T > 0 with a deliberately poor draft: the emitted tokens at speculative positions follow the target."""
    m = tiny(scale=0.6, seed=3)
    poor = AutoregressiveDraft(tiny(layers=1, seed=11, scale=0.6), 2, "poor")
    t = TorchTarget(m)
    prompt = [5, 17, 42]
    exact = _exact_marginals(m, prompt, params, 3)
    n = 1500
    counts = [torch.zeros(V) for _ in range(3)]
    acc = 0
    for s in range(n):
        g = speculative_generate(t, poor, prompt, 3, params, seed=s)
        acc += g.accepted
        for i in range(3):
            counts[i][g.tokens[i]] += 1
    assert 0 < acc < 2 * n * 2  # the draft is poor but not useless: both paths of the rejection rule run
    for i in (1, 2):  # position 0 comes from the prefill; 1 and 2 are decided by speculation
        e = exact[i] * n
        keep = e >= 5
        other_e, other_c = e[~keep].sum(), counts[i][~keep].sum()
        chi2 = float((((counts[i][keep] - e[keep]) ** 2) / e[keep]).sum())
        dof = int(keep.sum()) - 1
        if other_e >= 5:
            chi2 += float((other_c - other_e) ** 2 / other_e)
            dof += 1
        # p-value from the chi-square survival function (Wilson-Hilferty approximation), fixed seeds
        z = ((chi2 / dof) ** (1 / 3) - (1 - 2 / (9 * dof))) / math.sqrt(2 / (9 * dof))
        p_value = 0.5 * math.erfc(z / math.sqrt(2))
        print(f"chi-square {params}: position {i}: chi2 {chi2:.1f}, dof {dof}, p {p_value:.3f}, "
              f"{acc} draft tokens accepted over {n} runs")
        assert p_value > 0.001, (i, chi2, dof, p_value)


def test_verify_rule_greedy_and_residual():
    p = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    assert verify([1, 0], p, None, None) == (2, 2)   # both proposals are the argmax: bonus from p[2]
    assert verify([1, 2], p, None, None) == (1, 0)   # second rejected: the correction is the argmax
    # T>0: q puts all mass on a token p never picks -> always rejected, resampled from p
    pp = torch.tensor([[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]], dtype=torch.float64)
    qq = torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    assert all(verify([2], pp, qq, g)[0] == 0 for _ in range(50))


def test_greedy_verify_equals_the_rejection_rule_at_temperature_zero():
    """The greedy fast path (argmax comparison) gives what verify() gives on one-hot distributions, for
    proposals that match the target's argmax for 0..k tokens, with ties in the logits."""
    g = torch.Generator().manual_seed(0)
    for trial in range(200):
        k, V = 1 + trial % 7, 11
        logits = torch.randint(0, 4, (k + 1, V), generator=g).float()  # many ties: argmax takes the lowest id
        best = logits.argmax(-1).tolist()
        n_match = trial % (k + 1)
        proposal = best[:n_match] + [int(t) for t in torch.randint(0, V, (k - n_match,), generator=g)]
        want = verify(proposal, probs(logits, SamplingParams()), None, None)
        assert greedy_verify(proposal, logits) == want
        assert want[0] >= n_match


def test_probs_top_k_top_p():
    logits = torch.tensor([[3.0, 2.0, 1.0, 0.0]])
    assert torch.count_nonzero(probs(logits, SamplingParams(1.0, top_k=2))) == 2
    p = probs(logits, SamplingParams(1.0, top_p=0.5))
    assert torch.count_nonzero(p) == 1 and p[0, 0] == 1.0  # the top token alone already covers 0.5 (0.64)
    assert torch.equal(probs(logits, SamplingParams()), torch.tensor([[1.0, 0, 0, 0]], dtype=torch.float64))
    with pytest.raises(ValueError, match="temperature"):
        SamplingParams(-1.0)
    with pytest.raises(ValueError, match="top_p"):
        SamplingParams(1.0, top_p=0.0)


def test_bad_input(target):
    t = TorchTarget(target)
    with pytest.raises(ValueError, match="vocab_size"):
        AutoregressiveDraft(tiny(vocab=V + 1), 3, "x", target_vocab=V)
    with pytest.raises(ValueError, match="block_size"):
        DFlashRunner(tiny_dflash(target), t, block_size=1)
    with pytest.raises(ValueError, match="block_size"):
        DFlashRunner(tiny_dflash(target), t, block_size=65)
    with pytest.raises(ValueError, match="target_layer_ids"):
        DFlashRunner(tiny_dflash(target, taps=(0, 4)), t)
    with pytest.raises(ValueError, match="mask_token_id"):
        d = tiny_dflash(target)
        d.config.mask_token_id = V + 5
        DFlashRunner(d, t)
    wide = tiny_dflash(target)
    wide.config.hidden_size = 128
    with pytest.raises(ValueError, match="hidden_size"):
        DFlashRunner(wide, t)
    with pytest.raises(ValueError, match="mask_token_id"):
        DFlashConfig.from_hf({**tiny_dflash(target).config.to_hf(), "dflash_config": {"target_layer_ids": [1]}})
    with pytest.raises(ValueError, match="n_layers"):
        layer_skip(target, 4)


class _Tok:
    def __init__(self, vocab):
        self._v = vocab

    def get_vocab(self):
        return self._v


def test_tokenizer_mismatch_is_rejected():
    from models.speculative import check_vocab

    with pytest.raises(ValueError, match="tokenizer"):
        check_vocab(V, V, _Tok({"a": 0}), _Tok({"b": 0}))
    check_vocab(V, V, _Tok({"a": 0}), _Tok({"a": 0}))


def test_lossless_greedy_on_the_simulator_backend():
    """The same loop with the target on the TT-Lang kernels (simulator): every draft kind stays lossless
    against plain greedy decoding of the kernel target (a smaller set: 3 prompts x 3 drafts x 8 tokens)."""
    from models.kernel_model import KernelTarget

    cfg = DecoderConfig(arch="qwen3", vocab_size=V, hidden_size=128, intermediate_size=256, num_layers=2, num_heads=4,
                        num_kv_heads=2, head_dim=64, qk_norm=True, tie_word_embeddings=True, rope_theta=1e6)
    m = seeded(Decoder, cfg, 0, 0.3)
    kt = KernelTarget(m, max_seq_len=128, dtype="fp32")
    draft_kinds = {
        "layer-skip(1)": AutoregressiveDraft(layer_skip(m, 1), 3, "layer-skip"),
        "self": AutoregressiveDraft(m, 3, "self"),
        "dflash b4 (host draft)": DFlashRunner(_dflash_for(m, block=4), kt),
        "dflash b4 (draft on the kernels)": StepDFlashRunner(_dflash_for(m, block=4), kt),
    }
    dev = KernelTarget(m, max_seq_len=128, dtype="fp32", select_on_device=True)  # argmax + accept on the device
    for p in prompts(3, seed=5):
        want = plain_generate(kt, p, 8).tokens
        assert want == greedy_generate(m, torch.tensor([p]), 8)[0, len(p):].tolist()  # kernel target == reference here
        for name, draft in draft_kinds.items():
            g = speculative_generate(kt, draft, p, 8)
            assert g.tokens == want, (name, p)
        assert plain_generate(dev, p, 8).tokens == want
        g = speculative_generate(dev, StepDFlashRunner(_dflash_for(m, block=4), dev), p, 8)
        assert g.tokens == want, ("device selection", p)


def _dflash_for(target: Decoder, block: int) -> DFlashDraft:
    cfg = DFlashConfig.for_target(target.config, block_size=block, target_layer_ids=[0, 1], mask_token_id=1)
    torch.manual_seed(2)
    return DFlashDraft(cfg).eval()
