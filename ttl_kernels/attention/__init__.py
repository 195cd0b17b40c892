"""attention kernels (see README)."""
