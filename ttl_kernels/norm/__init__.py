"""norm kernels (see README)."""
