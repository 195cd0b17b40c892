#!/usr/bin/env bash
# Train the two tiny targets one after the other (they would only slow each other down on a small CPU):
#   checkpoints/tiny-qwen3-coder  (Qwen3: QK-norm, GQA)      then
#   checkpoints/tiny-llama3       (Llama-3: llama3 rope scaling, GQA)
# Needs the corpus token files (python -m training.tokenizer && python -m training.corpus; run_all.sh does both).
# Logs: training/logs/<name>.log (progress lines) and training/logs/<name>.out (stdout/stderr, tqdm bar).
# RESUME=1 continues interrupted runs from training/data/runs/<name>/state.pt.
# ARCHS picks which to train (default "qwen3 llama").
# STEPS overrides the step budget (default 2800 steps x 4096 tokens = 11.5M tokens, ~5.2 epochs).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
STEPS=${STEPS:-2800}
NICE=${NICE:-10}
mkdir -p training/logs
resume=(); [[ "${RESUME:-0}" == 1 ]] && resume=(--resume)
# same recipe for both: 4L, H256, 4 q / 2 kv heads of 64, SwiGLU 512, tied embeddings (3.41M params, 6.8 MB bf16)
recipe=(--layers 4 --hidden 256 --heads 4 --kv-heads 2 --head-dim 64 --ffn 512
        --seq 512 --bs 8 --lr 2e-3 --min-lr-frac 0.1 --warmup 100 --wd 0.1 --dropout 0.1 --attn-dropout 0.0
        --steps "$STEPS" --seed 0 --eval-every 250 --eval-windows 128)
for arch in ${ARCHS:-qwen3 llama}; do
  name=$([[ $arch == qwen3 ]] && echo tiny-qwen3-coder || echo tiny-llama3)
  echo "$(date '+%F %T') start $name" | tee -a training/logs/run_targets.log
  nice -n "$NICE" "$PY" -m training.train_target --arch "$arch" --name "$name" "${recipe[@]}" "${resume[@]}" \
    > "training/logs/$name.out" 2>&1
  echo "$(date '+%F %T') done $name: $(tail -n 1 training/logs/$name.log)" | tee -a training/logs/run_targets.log
done
