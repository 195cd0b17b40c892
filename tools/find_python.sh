#!/usr/bin/env bash
# Print the path of a Python 3.12 interpreter (tt-lang 1.1.1 has wheels for 3.12 only).
# Looks where a user would expect one: $PYTHON, python3.12 on PATH, pyenv's versions, then uv's.
set -u
ok() { "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 12) else 1)' >/dev/null 2>&1; }
for c in "${PYTHON:-}" python3.12 python3 python; do
  [ -n "$c" ] || continue
  p=$(command -v "$c" 2>/dev/null) || continue
  if ok "$p"; then echo "$p"; exit 0; fi
done
roots=()
command -v pyenv >/dev/null 2>&1 && roots+=("$(pyenv root)/versions")
roots+=("${PYENV_ROOT:-$HOME/.pyenv}/versions" "$HOME/.local/share/uv/python")
for r in "${roots[@]}"; do
  for p in $(ls -d "$r"/*3.12*/bin/python3.12 2>/dev/null | sort -Vr); do
    if ok "$p"; then echo "$p"; exit 0; fi
  done
done
echo "find_python.sh: no Python 3.12 found (tried \$PYTHON, python3.12 on PATH, pyenv, uv); install one, e.g. 'pyenv install 3.12'" >&2
exit 1
