#!/usr/bin/env bash
# Whole tables at once: the wall time of one small table swept one run at a time with every core
# (`smcl sweep --threads CORES`) against `smcl sweep --jobs J --threads CORES/J`, the same runs in J processes
# (which, taking every core, start their runs without the prefetch thread: each way as a user gets it).
# Usage: bench/sweep_jobs.sh [JOBS] [ROUNDS]   (env: SMCL=binary, EPOCHS=3, SEEDS="0 1 2", SET="key=value,..."
# more settings of every run, e.g. SET=train.prefetch=false)
# The table: ERM and SCL on Fashion-MNIST-LT (configs/fashion_mnist_lt_{erm,scl}.yaml) for EPOCHS epochs and
# each of SEEDS; rounds alternate the two ways. Prints the wall seconds of each sweep, whether both ways gave the
# same top-1 in every run (they need not: another train.threads may round differently), and per sweep how busy
# it kept its job slots: the runs' own wall seconds (summary.json: their epochs, training and evaluation)
# summed, over jobs x the sweep's wall seconds. The rest is time between runs (a process starting, loading the
# data) and the end of the table, when fewer runs are left than jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
smcl=$(realpath "${SMCL:-build/apps/smcl/smcl}")
jobs=${1:-2}
rounds=${2:-1}
epochs=${EPOCHS:-3}
seeds=${SEEDS:-0 1 2}
extra=${SET:+, $SET}
cores=$(nproc)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
seed_list=$(echo "$seeds" | sed 's/ /, /g')
cat >"$out/table.yaml" <<YAML
name: jobs
seeds: [$seed_list]
rows:
  - name: ERM
    config: $PWD/configs/fashion_mnist_lt_erm.yaml
    set: [train.epochs=$epochs, optim.warmup_epochs=1$extra]
  - name: SCL
    config: $PWD/configs/fashion_mnist_lt_scl.yaml
    set: [train.epochs=$epochs, optim.warmup_epochs=1$extra]
YAML
printf '%-28s %10s\n' sweep "wall s"
for round in $(seq "$rounds"); do
  for way in one "jobs"; do
    root=$out/$way-$round
    if [[ $way == one ]]; then
      args=(--threads "$cores")
      label="1 job x $cores threads"
    else
      args=(--jobs "$jobs" --threads $((cores / jobs)))
      label="$jobs jobs x $((cores / jobs)) thread(s)"
    fi
    start=$(date +%s.%N)
    "$smcl" sweep --table "$out/table.yaml" --runs "$root" "${args[@]}" >"$root.log" 2>&1 ||
      { tail -20 "$root.log"; exit 1; }
    end=$(date +%s.%N)
    /usr/bin/python3 -c "print($end - $start)" >"$root.wall"
    printf '%-28s %10.1f\n' "$label" "$(cat "$root.wall")"
  done
done
/usr/bin/python3 - "$out" "$jobs" <<'PY'
import glob, json, os, sys
out, jobs = sys.argv[1], int(sys.argv[2])
top1, run_seconds = {}, {}
for path in sorted(glob.glob(os.path.join(out, "*", "jobs", "*", "seed*", "summary.json"))):
    way, run = path[len(out) + 1:].split("/", 1)
    summary = json.load(open(path))
    top1.setdefault(run, {})[way] = summary["last"]["top1"]
    run_seconds[way] = run_seconds.get(way, 0.0) + summary["wall_seconds"]
same = all(len(set(v.values())) == 1 for v in top1.values())
print(f"{len(top1)} runs; the same last top-1 in every sweep of a run: {same}")
for way in sorted(run_seconds):
    wall = float(open(os.path.join(out, way + ".wall")).read())
    slots = 1 if way.startswith("one-") else jobs
    busy = run_seconds[way] / (slots * wall)
    print(f"{way}: runs {run_seconds[way]:.1f} s in {slots} x {wall:.1f} s: job slots busy {busy:.1%}")
PY
