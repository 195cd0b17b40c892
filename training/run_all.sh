#!/usr/bin/env bash
# Everything from scratch: tokenizer -> corpus token files -> the two targets -> the Qwen3 drafts (see training/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
"$PY" -m training.tokenizer
"$PY" -m training.corpus
bash training/run_targets.sh
bash training/run_drafts.sh
