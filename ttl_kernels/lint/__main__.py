"""``ttl-lint``: check generated tt-metal compute kernels.

    ttl-lint kernel.cpp [more.cpp ...] [--expect 'silu_tile' --expect 'mul_(binary_tile|tiles)'] [--json]

Exit status 0 when every file is clean and every ``--expect`` pattern (a regular expression over op names)
is called somewhere in the files, 1 otherwise.  Data-movement kernels can be passed too; they contain no
DST regions and lint clean.  To lint a kernel of your own, compile it with ``TTLANG_COMPILE_ONLY=1`` (the
compiler prints "=== <thread> kernel written to <path> ===") or use ``python -m ttl_kernels.compile``.
"""

from __future__ import annotations

import argparse
import json
import sys

from .dst import lint_file, missing_ops


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="ttl-lint", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", help="generated C++ files")
    ap.add_argument("--expect", action="append", default=[], metavar="REGEX",
                    help="an op that must be called (regex over op names)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    a = ap.parse_args(argv)
    reports = [lint_file(f) for f in a.files]
    ops = set().union(*(r.ops for r in reports))
    missing = missing_ops(ops, a.expect)
    bad = sum(len(r.issues) for r in reports) + len(missing)
    if a.json:
        print(json.dumps({
            "files": {r.path: {"issues": [str(i) for i in r.issues], "ops": sorted(r.ops), "regions": r.regions}
                      for r in reports},
            "missing_ops": missing,
            "clean": bad == 0,
        }, indent=1))
    else:
        for r in reports:
            for i in r.issues:
                print(f"{r.path}:{i}")
        for m in missing:
            print(f"missing op: no call matches {m!r}")
        print(f"ttl-lint: {bad} problem(s) in {len(reports)} file(s); ops: {', '.join(sorted(ops)) or '-'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
