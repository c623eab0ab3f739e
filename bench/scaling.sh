#!/usr/bin/env bash
# Data-parallel scaling on this machine: training images/second of one process using every core against
# `smcl launch --nproc N` (the cores shared out among the N processes), same config, same global batch.
# Usage: bench/scaling.sh [CONFIG] [NPROC...]   (env: SMCL=binary, EPOCHS=2, SET="--set k=v ...")
# e.g. bench/scaling.sh configs/fashion_mnist_lt_drw.yaml 1 2 1 2   (interleaved repetitions)
# Prints one row per process count: images/s of the training steps (summary.json's
# train_images_per_second, evaluation excluded), wall seconds of the whole run, and the last top-1.
set -euo pipefail
cd "$(dirname "$0")/.."
smcl=${SMCL:-build/apps/smcl/smcl}
config=${1:-configs/fashion_mnist_lt_drw.yaml}
shift || true
counts=("$@")
[[ ${#counts[@]} -gt 0 ]] || counts=(1 2)
epochs=${EPOCHS:-2}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-10s %12s %10s %8s\n' processes "images/s" "wall s" "top-1"
run=0
for n in "${counts[@]}"; do
  run=$((run + 1))  # a count may repeat (interleaved repetitions): each run has its own folder
  dir=$out/run$run
  # shellcheck disable=SC2086
  args=(train -c "$config" --set train.epochs="$epochs" --set optim.warmup_epochs=1 ${SET:-} --out "$dir")
  if [[ $n == 1 ]]; then
    "$smcl" "${args[@]}" >"$dir.log" 2>&1 || { tail -20 "$dir.log"; exit 1; }
  else
    "$smcl" launch --nproc "$n" -- smcl "${args[@]}" >"$dir.log" 2>&1 || { tail -20 "$dir.log"; exit 1; }
  fi
  /usr/bin/python3 - "$dir/summary.json" "$n" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:<10} {s['train_images_per_second']:12.1f} {s['wall_seconds']:10.1f} {s['last']['top1']:8.2f}")
PY
done
