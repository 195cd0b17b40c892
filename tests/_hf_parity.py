"""What the HF-parity tests share (test_reference_models.py, test_reference_moe.py, test_reference_loader.py):
tiny random transformers models with every parameter re-randomised, a fixture that builds each checkpoint once,
the fp32 tolerance, and the prefill + decode-step loop that runs our model beside HF's.

Re-randomised weights: norm weights ``1 + 0.3 N(0, 1)`` (a misplaced norm cannot hide behind weight 1),
embeddings ``0.7 N(0, 1)``, attention and MLP outputs (``o_proj``, ``down_proj``, the MoE experts' stacked
``down_proj``) ``3 N(0, 1) / sqrt(fan_in)``: strong layer outputs, because with a tied head a weak residual update
makes the model repeat its input token forever and greedy-generation tests would then prove little; MoE routers
``2 N(0, 1) / sqrt(fan_in)`` (logits O(1-3), so top-k picks vary token to token); the rest ``N(0, 1) / sqrt(fan_in)``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import pytest
import torch

from reference import BF16, FP32
from reference.decoder import KVCache, greedy_generate
from ttl_kernels.host import SENTINEL
from ttl_kernels.testing import pcc

ATOL_FP32 = 1e-5
RTOL_FP32 = 1e-4

_STRONG = ("o_proj.weight", "down_proj.weight", "experts.down_proj")


def hf_model(cfg_cls, model_cls, kwargs: dict, seed: int = 0):
    """``model_cls`` of ``cfg_cls(**kwargs)`` in fp32 with eager attention, every parameter re-randomised (module
    docstring) from ``seed``, in eval mode."""
    cfg = cfg_cls(**copy.deepcopy(kwargs))
    torch.manual_seed(seed)
    model = model_cls._from_config(cfg, attn_implementation="eager")
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for pname, p in model.named_parameters():  # tied weights appear once
            if pname.endswith("norm.weight"):
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in pname:
                p.copy_(0.7 * torch.randn(p.shape, generator=g))
            else:
                scale = 3.0 if pname.endswith(_STRONG) else 2.0 if pname.endswith("mlp.gate.weight") else 1.0
                p.copy_(scale * torch.randn(p.shape, generator=g) / math.sqrt(p.shape[-1]))
    return model.eval()


def save(model, path, sharded: bool) -> None:
    """``save_pretrained`` into ``path``, in 40 KB shards when ``sharded`` (several files and an index)."""
    model.save_pretrained(str(path), max_shard_size="40KB" if sharded else "5GB")


def built_once(build: Callable[[str, object], tuple]):
    """A module-scoped fixture returning ``get(name)``: ``build(name, fresh tmp dir)``, computed once per name for
    the whole session."""
    built: dict[str, tuple] = {}

    @pytest.fixture(scope="module")
    def fixture(tmp_path_factory):
        def get(name: str):
            if name not in built:
                built[name] = build(name, tmp_path_factory.mktemp(name))
            return built[name]

        return get

    return fixture


def report(name: str, what: str, ours: torch.Tensor, ref: torch.Tensor) -> None:
    """A ``PARITY`` line (seen with ``pytest -s``): max abs and relative error against the reference."""
    err = (ours.float() - ref.float()).abs()
    rel = (err / ref.float().abs().clamp_min(1e-3)).max().item()
    print(f"PARITY {name:26s} {what:34s} max_abs={err.max().item():.3e} max_rel={rel:.3e} "
          f"(|ref|max={ref.abs().max().item():.2f})")


def close(ours: torch.Tensor, ref: torch.Tensor) -> None:
    """fp32 bound: rtol 1e-4, atol 1e-5 scaled by the tensor's magnitude (max(1, max|ref|))."""
    atol = ATOL_FP32 * max(1.0, ref.float().abs().max().item())
    torch.testing.assert_close(ours.float(), ref.float(), rtol=RTOL_FP32, atol=atol)


def random_ids(cfg, *shape: int, seed: int) -> torch.Tensor:
    """Random token ids ``shape`` below ``cfg.vocab_size``."""
    return torch.randint(0, cfg.vocab_size, shape, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def prefill_and_decode(hf, ours, tokens: torch.Tensor, prefill: int, cache):
    """HF (its own cache) and our model (``cache``) on ``tokens[:, :prefill]``, then on each later token alone:
    ``(our logits, HF logits as float, HF's past_key_values)``, the logits one entry per forward, prefill first."""
    ref = hf(tokens[:, :prefill], use_cache=True)
    got, exp = [ours(tokens[:, :prefill], cache).logits], [ref.logits.float()]
    pkv = ref.past_key_values
    for t in range(prefill, tokens.shape[1]):
        ref = hf(tokens[:, t:t + 1], past_key_values=pkv, use_cache=True)
        pkv = ref.past_key_values
        got.append(ours(tokens[:, t:t + 1], cache).logits)
        exp.append(ref.logits.float())
    return got, exp, pkv


def check_fp32_against_hf(name: str, hf, ours, cfg, prefill: int = 12, steps: int = 20, users: int = 2):
    """Our fp32 model against HF on random ids of ``users`` users: a prefill of ``prefill`` tokens and ``steps``
    decode steps, every forward's logits within the fp32 bound (:func:`close`).  Returns the ids, our cache and
    HF's ``past_key_values``."""
    tokens = random_ids(cfg, users, prefill + steps, seed=1)
    cache = KVCache.empty(cfg, users, prefill + steps, FP32, fill=SENTINEL)
    got, exp, pkv = prefill_and_decode(hf, ours, tokens, prefill, cache)
    report(name, "fp32 prefill logits", got[0], exp[0])
    for ours_step, ref_step in zip(got, exp):
        close(ours_step, ref_step)
    report(name, f"fp32 {steps} decode steps logits", torch.cat(got[1:], 1), torch.cat(exp[1:], 1))
    assert cache.lengths.tolist() == [prefill + steps] * users
    return tokens, cache, pkv


def hf_greedy(hf, tokens: torch.Tensor, n: int, eos: int | None = None, pad: int = 0) -> torch.Tensor:
    """HF ``generate(do_sample=False)`` of ``n`` new tokens (eos ``eos``, padding ``pad``)."""
    return hf.generate(tokens, attention_mask=torch.ones_like(tokens), do_sample=False, max_new_tokens=n,
                       eos_token_id=eos, pad_token_id=pad)


def check_bf16_against_hf(name: str, d, ours, cfg, n_greedy: int) -> None:
    """Our bf16 model ``ours`` (loaded from checkpoint ``d``) against HF ``from_pretrained(dtype=bfloat16)`` of the
    same checkpoint: a prefill of 16 tokens and 5 decode steps of 2 users, logits PCC >= 0.999 and max abs error
    within one bf16 ulp of the largest logit (2**-7 relative: a real bf16 discrepancy is far larger), then
    ``n_greedy`` greedy tokens equal to HF ``generate``."""
    from transformers import AutoModelForCausalLM

    hf16 = AutoModelForCausalLM.from_pretrained(str(d), dtype=BF16, attn_implementation="eager").eval()
    tokens = random_ids(cfg, 2, 21, seed=4)
    got, exp, _ = prefill_and_decode(hf16, ours, tokens, 16, KVCache.empty(cfg, 2, 21, BF16, fill=SENTINEL))
    got, exp = torch.cat(got, 1), torch.cat(exp, 1)
    report(name, "bf16 prefill+5 decode logits", got, exp)
    assert got.dtype == FP32
    assert pcc(got, exp) >= 0.999
    assert (got - exp).abs().max().item() <= 2.0 ** -7 * exp.abs().max().item()
    hf16.generation_config.eos_token_id = None
    with torch.no_grad():
        mine = greedy_generate(ours, tokens[:, :6], n_greedy)
    assert torch.equal(mine, hf_greedy(hf16, tokens[:, :6], n_greedy))
