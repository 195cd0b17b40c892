"""PyTorch references for every kernel and for whole Llama-3 / Qwen3 models.

Immune to ttl.sim's process-wide rebinding of ``torch.bfloat16`` to float32: references never spell
``torch.bfloat16``; they use :data:`BF16`, captured through ``Tensor.bfloat16()``, which always yields the
real dtype.
"""

import torch

BF16: torch.dtype = torch.zeros(0).bfloat16().dtype
FP32: torch.dtype = torch.float32

__all__ = ["BF16", "FP32"]
