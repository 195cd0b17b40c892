#!/usr/bin/env bash
# The drafts of the Qwen3 coder target (after training/run_targets.sh has produced it):
#   checkpoints/tiny-qwen3-coder-dflash-b16   DFlash, block 16, 2 layers (init: the target's last 2 layers),
#                                             phase 1: 1:1 corpus / regenerated rows, loss decay gamma 7;
#                                             phase 2: continued on 3:1 regenerated rows with gamma 4 (weight on the
#                                             first positions, which decide tau): tau 2.42 -> 2.75 on held-out prompts
#   checkpoints/tiny-qwen3-coder-draft        small separate model (2 layers, hidden 128), KL-distilled
# Block 8 runs the block-16 draft with --block-size 8 (a second 2-layer draft would break the 20 MB budget,
# and a 1-layer draft cannot relate block row k to row k-1: it accepted 0.33 / 0.02 at positions 1 / 2).
# Both train on corpus windows mixed with target-regenerated rows (cached in training/data/regen_*.npy).
# Budgets: DFLASH_MIN (default 45), DFLASH2_MIN (30) and SMALL_MIN (12) minutes (the shipped drafts used these).
# Size budget (all shipped checkpoints <= 20 MB): targets 2 x 7.1 MB, DFlash 3.2 MB, small draft 2.1 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
NICE=${NICE:-10}
T=checkpoints/tiny-qwen3-coder
mkdir -p training/logs
[ -f "$T/model.safetensors" ] || { echo "no $T: run training/run_targets.sh first" >&2; exit 1; }
ROWS=${REGEN_ROWS:-16384}
REGEN=training/data/regen_tiny-qwen3-coder_${ROWS}_256.npy
echo "$(date '+%F %T') start dflash b16" | tee -a training/logs/run_drafts.log
nice -n "$NICE" "$PY" -m training.train_dflash --target "$T" --block-size 16 --layers 2 \
  --minutes "${DFLASH_MIN:-45}" --regen-rows "$ROWS" --out "$T-dflash-b16" > training/logs/dflash-b16.log 2>&1
echo "$(date '+%F %T') done dflash b16: $(tail -n 1 training/logs/dflash-b16.log)" | tee -a training/logs/run_drafts.log
echo "$(date '+%F %T') start dflash b16 phase 2" | tee -a training/logs/run_drafts.log
nice -n "$NICE" "$PY" -m training.train_dflash --target "$T" --block-size 16 --init "$T-dflash-b16" --gamma 4 --lr 8e-4 \
  --regen-share 0.75 --minutes "${DFLASH2_MIN:-30}" --regen-rows "$ROWS" --seed 1 --out training/data/dflash-b16-phase2 \
  > training/logs/dflash-b16-phase2.log 2>&1
rm -rf "$T-dflash-b16" && cp -r training/data/dflash-b16-phase2 "$T-dflash-b16"
echo "$(date '+%F %T') done dflash b16 phase 2: $(tail -n 1 training/logs/dflash-b16-phase2.log)" | tee -a training/logs/run_drafts.log
echo "$(date '+%F %T') start small draft" | tee -a training/logs/run_drafts.log
nice -n "$NICE" "$PY" -m training.train_small_draft --target "$T" --out "$T-draft" --minutes "${SMALL_MIN:-12}" \
  --regen "$REGEN" > training/logs/small-draft.log 2>&1
echo "$(date '+%F %T') done small draft: $(tail -n 1 training/logs/small-draft.log)" | tee -a training/logs/run_drafts.log
