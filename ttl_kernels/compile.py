"""Compile-only checks with the real tt-lang compiler against a mock n150 or p150.

    python -m ttl_kernels.compile --arch p150 silu_mul:rows=32,cols=14336,dtype=bf16 [CASE ...] [--keep DIR] [--json]

A CASE is ``kernel[:k=v,...]`` for a kernel in :mod:`ttl_kernels.registry`, or
``package.module:function[:k=v,...]`` for any function of yours that calls kernels (it receives the
``k=v`` pairs as keyword arguments, values parsed as Python literals where possible).

The compiles run in a child process (``TTL_KERNELS_BACKEND=compile``): the compiler cannot share a
process with the simulator, and some compiler failures abort the whole process.  The child runs the cases
in order and brackets each one with marker lines; if it dies, the case it was in is reported as a crash
and a fresh child carries on with the rest.  The parent collects the C++ the compiler wrote for every
thread of every case ("=== <thread> kernel written to <path> ==="), lints it (:mod:`ttl_kernels.lint`)
and checks that the ops the kernel is meant to lower to are there.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .lint.dst import lint_source, missing_ops

_BEGIN = "@@TTLK-BEGIN "
_END = "@@TTLK-END "
_WRITTEN = re.compile(r"^=== (\w+) kernel written to (\S+) ===$")
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class CompileResult:
    case: str
    arch: str
    ok: bool = False
    error: str = ""
    seconds: float = 0.0
    files: dict[str, str] = field(default_factory=dict)  # thread name (#n for the n-th kernel) -> generated C++
    issues: list[str] = field(default_factory=list)  # lint findings
    ops: list[str] = field(default_factory=list)  # compute ops called in the generated code
    missing_ops: list[str] = field(default_factory=list)
    expected_ops: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.ok and not self.issues and not self.missing_ops

    def line(self) -> str:
        if not self.ok:
            return f"COMPILE {self.arch} {self.case}: FAIL {self.error[:300]}"
        lint = "clean" if not self.issues else f"{len(self.issues)} issue(s): {self.issues[:3]}"
        miss = "" if not self.missing_ops else f" MISSING OPS {self.missing_ops}"
        return (f"COMPILE {self.arch} {self.case}: ok {self.seconds:.2f}s threads={len(self.files)} lint={lint} "
                f"ops={','.join(self.ops)}{miss}")


def parse_case(case: str) -> tuple[str, dict]:
    """``name[:k=v,...]`` -> (name, params).  ``name`` may itself be ``module:function``."""
    parts = case.split(":")
    if len(parts) >= 2 and "." in parts[0]:
        name, rest = f"{parts[0]}:{parts[1]}", parts[2:]
    else:
        name, rest = parts[0], parts[1:]
    params: dict = {}
    if rest and rest[0]:
        for kv in ":".join(rest).split(","):
            k, _, v = kv.partition("=")
            try:
                params[k.strip()] = ast.literal_eval(v.strip())
            except (ValueError, SyntaxError):
                params[k.strip()] = v.strip()
    return name, params


def format_case(name: str, params: dict) -> str:
    return name + (":" + ",".join(f"{k}={v}" for k, v in params.items()) if params else "")


def _resolve(name: str):
    """(callable taking **params, expected op patterns)."""
    if ":" in name:
        mod, fn = name.split(":")
        import importlib

        f = getattr(importlib.import_module(mod), fn)
        return f, list(getattr(f, "expected_ops", []))
    from .registry import get_kernel

    spec = get_kernel(name)
    return spec.compile_run, list(spec.ops)


# ---------------------------------------------------------------------------------------------- child


def _forget_compiled_kernels() -> None:
    """Drop every cached kernel factory result of the project so the next case compiles (and reports) all
    the kernels it uses, even those an earlier case in this child already compiled."""
    import functools
    import gc

    for obj in gc.get_objects():
        if not isinstance(obj, functools._lru_cache_wrapper):
            continue
        if getattr(obj, "__module__", "").startswith(("ttl_kernels", "models", "tests")):
            obj.cache_clear()


def _child(arch: str, cases: list[str]) -> int:
    from . import runtime

    runtime.use_backend("compile", arch)
    runtime.backend()
    for case in cases:
        _forget_compiled_kernels()
        print(_BEGIN + case, flush=True)
        t0 = time.perf_counter()
        rec = {"case": case, "ok": True, "error": ""}
        try:
            name, params = parse_case(case)
            fn, _ = _resolve(name)
            fn(**params)
        except Exception as e:  # noqa: BLE001 - reported to the parent, which decides
            rec["ok"] = False
            rec["error"] = f"{type(e).__name__}: {' | '.join(str(e).strip().splitlines()[:15])}"
        rec["seconds"] = time.perf_counter() - t0
        sys.stdout.flush()
        print(_END + json.dumps(rec), flush=True)
    return 0


# --------------------------------------------------------------------------------------------- parent


def _child_env(arch: str) -> dict:
    env = dict(os.environ)
    env.pop("TTLANG_SIM_ONLY", None)  # set by any ttl.sim import in the parent; it empties the compiler
    env["TTL_KERNELS_BACKEND"] = "compile"
    env["TTL_KERNELS_ARCH"] = arch
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _run_child(arch: str, cases: list[str], timeout: float) -> tuple[list[dict], str]:
    """Run cases in one child; returns per-case records (with 'files') for the cases it reached, and the
    tail of its output."""
    cmd = [sys.executable, "-m", "ttl_kernels.compile", "--child", "--arch", arch, *cases]
    try:
        p = subprocess.run(cmd, env=_child_env(arch), capture_output=True, text=True, timeout=timeout)
        out, rc = p.stdout, p.returncode
        tail = (p.stdout[-3000:] + "\n" + p.stderr[-3000:]).strip()
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        rc, tail = -9, f"timeout after {timeout}s"
    recs: list[dict] = []
    cur: dict | None = None
    for ln in out.splitlines():
        if ln.startswith(_BEGIN):
            cur = {"case": ln[len(_BEGIN):], "files": {}, "ok": False, "error": f"child died (exit {rc})"}
            recs.append(cur)
        elif ln.startswith(_END) and cur is not None:
            cur.update(json.loads(ln[len(_END):]))
            cur = None
        elif cur is not None:
            m = _WRITTEN.match(ln.strip())
            if m:  # a case may launch several kernels: number repeated thread names
                name, n = m.group(1), 1
                while name in cur["files"]:
                    n += 1
                    name = f"{m.group(1)}#{n}"
                cur["files"][name] = m.group(2)
    if cur is not None:
        cur["error"] += ": " + tail[-1500:]
    return recs, tail


def compile_cases(cases: list[str], arch: str, keep: str | os.PathLike | None = None,
                  timeout: float = 900) -> list[CompileResult]:
    """Compile every case for ``arch`` in child processes and lint what the compiler generated."""
    if arch not in ("n150", "p150"):
        raise ValueError(f"arch must be 'n150' or 'p150'; got {arch!r}")
    results: dict[str, dict] = {}
    cases = list(dict.fromkeys(cases))  # a repeated case would hit the compiler's cache and write nothing
    todo = list(cases)
    while todo:
        recs, tail = _run_child(arch, todo, timeout)
        if not recs:  # the child died before its first case: report the rest with its output
            for c in todo:
                results[c] = {"case": c, "ok": False, "error": f"child failed to start: {tail[-1500:]}", "files": {}}
            break
        for r in recs:  # the child runs the cases in order, so these are a prefix of todo
            results[r["case"]] = r
        todo = todo[len(recs):]
    out = []
    for c in cases:
        r = results[c]
        name, _ = parse_case(c)
        try:
            expected = _resolve(name)[1]
        except Exception:  # noqa: BLE001 - unknown kernels already failed in the child
            expected = []
        res = CompileResult(case=c, arch=arch, ok=bool(r.get("ok")), error=r.get("error", ""),
                            seconds=float(r.get("seconds", 0.0)), files=dict(r.get("files", {})),
                            expected_ops=expected)
        if res.ok:
            ops: set[str] = set()
            for thread, path in res.files.items():
                rep = lint_source(Path(path).read_text(), path)
                res.issues += [f"{thread}: {i}" for i in rep.issues]
                ops |= rep.ops
            res.ops = sorted(ops)
            res.missing_ops = missing_ops(ops, expected)
            if not res.files:
                res.ok, res.error = False, "the compiler wrote no kernel files"
            if keep:
                d = Path(keep) / arch / re.sub(r"[^\w.=-]+", "_", c)
                d.mkdir(parents=True, exist_ok=True)
                for thread, path in res.files.items():
                    shutil.copy(path, d / f"{thread}.cpp")
        out.append(res)
    return out


def main(argv: list[str] | None = None) -> int:
    from . import env

    env.apply_defaults()  # before torch / ttnn load (OMP_WAIT_POLICY, loguru level, HF offline)
    ap = argparse.ArgumentParser(prog="python -m ttl_kernels.compile", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cases", nargs="+")
    ap.add_argument("--arch", default="n150", choices=["n150", "p150"])
    ap.add_argument("--keep", help="copy the generated C++ of every case under this folder")
    ap.add_argument("--json", help="write the results as JSON to this file")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        return _child(a.arch, a.cases)
    res = compile_cases(a.cases, a.arch, keep=a.keep)
    for r in res:
        print(r.line())
    if a.json:
        Path(a.json).write_text(json.dumps([asdict(r) for r in res], indent=1))
    return 0 if all(r.clean for r in res) else 1


if __name__ == "__main__":
    sys.exit(main())
