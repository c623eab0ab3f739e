#!/usr/bin/env bash
# The Fashion-MNIST-LT runs of issue 3 (ratio 100, n_max 6000, ResNet-8, 20 epochs, masking and DRW from
# epoch 16): SCL, SMCL, DRW+SMCL and DRW+SMCL with the saliency ablations random / center, for each seed.
#
#   bench/fmnist_smcl_runs.sh [SMCL_BINARY] [SEEDS...]      (default: build/apps/smcl/smcl, seeds 0 1 2)
#
# Before their target epoch (16) the SMCL variants train exactly as SCL with the same seed, to the bit
# (tests/cli: SmclBeforeItsTargetEpochIsSclToTheBit), so each seed trains SCL once to epoch 16, then every
# variant continues from a copy of that checkpoint with its own config.yaml. The results are those of fresh
# runs (`smcl train -c configs/fashion_mnist_lt_drw_smcl.yaml --set train.seed=S`), at 40% of the cost.
# Folders: runs/fmnist-<variant>-s<seed>; finished ones are skipped, so the script can be rerun after a kill.
set -euo pipefail
cd "$(dirname "$0")/.."
smcl=${1:-build/apps/smcl/smcl}
[[ $# -gt 0 ]] && shift
seeds=("$@")
[[ ${#seeds[@]} -gt 0 ]] || seeds=(0 1 2)

# Training images 14,886 at batch 128: 117 steps per epoch; the kill at step 16 * 117 leaves last.pt at epoch 16.
branch_step=$((16 * 117))

variant_config() {  # variant seed -> resolved config.yaml text
  local variant=$1 seed=$2
  case $variant in
    scl) "$smcl" config -c configs/fashion_mnist_lt_scl.yaml --set train.seed="$seed" ;;
    smcl) "$smcl" config -c configs/fashion_mnist_lt_smcl.yaml --set train.seed="$seed" ;;
    drw_smcl) "$smcl" config -c configs/fashion_mnist_lt_drw_smcl.yaml --set train.seed="$seed" ;;
    drw_smcl_random) "$smcl" config -c configs/fashion_mnist_lt_drw_smcl.yaml --set train.seed="$seed" --set smcl.saliency=random ;;
    drw_smcl_center) "$smcl" config -c configs/fashion_mnist_lt_drw_smcl.yaml --set train.seed="$seed" --set smcl.saliency=center ;;
  esac
}

for seed in "${seeds[@]}"; do
  trunk=runs/fmnist-scl16-s$seed
  if [[ ! -f $trunk/checkpoints/last.pt ]] || ! grep -q '"epoch":15' "$trunk/metrics.jsonl" 2>/dev/null; then
    rm -rf "$trunk"
    echo "== seed $seed: SCL to epoch 16"
    SMCL_DEBUG_KILL_AT_STEP=$branch_step "$smcl" train -c configs/fashion_mnist_lt_scl.yaml --set train.seed="$seed" \
      --out "$trunk" > "$trunk.log" 2>&1 || true
    grep -q '"epoch":15' "$trunk/metrics.jsonl" || { echo "trunk of seed $seed did not reach epoch 16" >&2; exit 1; }
  fi
done

for variant in drw_smcl smcl scl drw_smcl_random drw_smcl_center; do
  for seed in "${seeds[@]}"; do
    dir=runs/fmnist-$variant-s$seed
    [[ -f $dir/summary.json ]] && continue
    echo "== $variant seed $seed"
    rm -rf "$dir"
    cp -r "runs/fmnist-scl16-s$seed" "$dir"
    variant_config "$variant" "$seed" > "$dir/config.yaml"
    "$smcl" train --resume "$dir" > "$dir.log" 2>&1
    tail -1 "$dir.log"
  done
done
