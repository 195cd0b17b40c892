"""Llama-3 and Qwen3 models built from the TT-Lang kernels, and speculative decoding."""
