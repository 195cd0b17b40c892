#!/usr/bin/env bash
# The drafts of the Qwen3 coder target (after training/run_targets.sh has produced it):
#   checkpoints/tiny-qwen3-coder-dflash-b16   DFlash, block 16, 1 layer (init: the target's last layer)
#   checkpoints/tiny-qwen3-coder-dflash-b8    DFlash, block 8, 1 layer
#   checkpoints/tiny-qwen3-coder-draft        small separate model (2 layers, hidden 128), KL-distilled
# Both DFlash drafts and the small draft train on corpus windows mixed with target-regenerated rows
# (cached in training/data/regen_*.npy).  Budgets: DFLASH_MIN (default 25) and SMALL_MIN (10) minutes each.
# Size budget (all shipped checkpoints <= 20 MB): targets 2 x 7.1 MB, DFlash 2 x 1.6 MB, small draft 2.1 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
NICE=${NICE:-10}
T=checkpoints/tiny-qwen3-coder
mkdir -p training/logs
[ -f "$T/model.safetensors" ] || { echo "no $T: run training/run_targets.sh first" >&2; exit 1; }
REGEN=training/data/regen_tiny-qwen3-coder_8192_256.npy
for B in 16 8; do
  echo "$(date '+%F %T') start dflash b$B" | tee -a training/logs/run_drafts.log
  nice -n "$NICE" "$PY" training/train_dflash.py --target "$T" --block-size "$B" --layers 1 \
    --minutes "${DFLASH_MIN:-25}" --regen-rows 8192 --out "$T-dflash-b$B" > "training/logs/dflash-b$B.log" 2>&1
  echo "$(date '+%F %T') done dflash b$B: $(tail -n 1 training/logs/dflash-b$B.log)" | tee -a training/logs/run_drafts.log
done
echo "$(date '+%F %T') start small draft" | tee -a training/logs/run_drafts.log
nice -n "$NICE" "$PY" training/train_small_draft.py --target "$T" --out "$T-draft" --minutes "${SMALL_MIN:-10}" \
  --regen "$REGEN" > training/logs/small-draft.log 2>&1
echo "$(date '+%F %T') done small draft: $(tail -n 1 training/logs/small-draft.log)" | tee -a training/logs/run_drafts.log
