"""ccl kernels (see README)."""
