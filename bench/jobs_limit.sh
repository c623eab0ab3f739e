#!/usr/bin/env bash
# What J concurrent single-thread jobs can gain over one job of J threads on this machine, from the training
# steps alone (smcl_bench_speed --mode pipeline, no data loading or evaluation): images/s of one process with
# 1 thread alone, of one process with J threads (with its prefetch thread, as one sweep job runs), and of J
# processes of 1 thread at once (without it, as `smcl sweep --jobs J` starts them when they take every core).
#   limit  = J x (1 thread alone) / (J threads)  - what J jobs would gain if they did not slow each other down
#   gained = (J at once, summed) / (J threads)   - what they gain
# Usage: bench/jobs_limit.sh [JOBS] [ROUNDS]   (env: B=smcl_bench_speed binary, METHOD=erm, DATA=fashion_mnist,
# STEPS=24, WARMUP=3). Every process runs with jemalloc as the smcl executable configures it (preloaded) when
# libjemalloc2 is installed, glibc with smcl's settings otherwise. Rounds repeat the three measurements in turn.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
bench=${B:-build/bench/smcl_bench_speed}
jobs=${1:-2}
rounds=${2:-1}
method=${METHOD:-erm}
data=${DATA:-fashion_mnist}
preload="" conf="" flag=""
if [[ -e $jemalloc_library ]]; then
  preload=$jemalloc_library conf=$jemalloc_conf flag=--default-malloc
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
measure() {  # measure THREADS PREFETCH FILE: one process's images/s into FILE
  MALLOC_CONF=$conf LD_PRELOAD=$preload "$bench" --mode pipeline --method "$method" --data "$data" \
    --steps "${STEPS:-24}" --warmup "${WARMUP:-3}" --set train.threads="$1" --set train.prefetch="$2" $flag \
    | images_per_second >"$3"
}
printf '%-6s %14s %14s %16s %7s %7s\n' round "1 thread" "$jobs threads" "$jobs x 1 thread" limit gained
for round in $(seq "$rounds"); do
  measure 1 false "$out/one"
  measure "$jobs" true "$out/all"
  pids=()
  for j in $(seq "$jobs"); do
    measure 1 false "$out/job$j" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  /usr/bin/python3 - "$out" "$jobs" "$round" <<'PY'
import sys
out, jobs, round_ = sys.argv[1], int(sys.argv[2]), sys.argv[3]
read = lambda name: float(open(f"{out}/{name}").read())
one, every = read("one"), read("all")
together = sum(read(f"job{j}") for j in range(1, jobs + 1))
print(f"{round_:<6} {one:14.1f} {every:14.1f} {together:16.1f} {jobs * one / every:7.2f} {together / every:7.2f}")
PY
done
