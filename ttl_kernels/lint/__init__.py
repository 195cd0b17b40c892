"""Lint for the C++ that tt-lang generates: DST-register dataflow (dead / clobbered results) and the
presence of the operations a kernel is meant to lower to.  CLI: ``ttl-lint`` (``python -m ttl_kernels.lint``)."""

from .dst import Issue, LintReport, lint_file, lint_source, missing_ops

__all__ = ["Issue", "LintReport", "lint_file", "lint_source", "missing_ops"]
