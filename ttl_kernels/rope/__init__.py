"""rope kernels (see README)."""
