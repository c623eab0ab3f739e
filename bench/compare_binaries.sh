#!/usr/bin/env bash
# Did a change make a row slower? The pipeline (smcl_bench_speed --mode pipeline) of two builds, in interleaved
# rounds (the order of the two alternates every round), each with its own allocator settings (glibc with smcl's).
# Usage: bench/compare_binaries.sh BEFORE AFTER [ROUNDS]   (env: DATA="fashion_mnist cifar_shaped",
# METHODS="erm scl smcl", SCALE=2: timed steps as bench/speed.py's times SCALE, WARMUP=2)
# e.g. git worktree add /tmp/before REV, build its smcl_bench_speed there, then
#      bench/compare_binaries.sh /tmp/before/build/bench/smcl_bench_speed build/bench/smcl_bench_speed 3
# Prints each measurement and, per row, the medians and the median of the per-round ratios after/before.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
before=$1 after=$2 rounds=${3:-3}
for binary in "$before" "$after"; do [[ -x $binary ]] || { echo "not an executable: $binary" >&2; exit 1; }; done
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for round in $(seq "$rounds"); do
  for data in ${DATA:-fashion_mnist cifar_shaped}; do
    for method in ${METHODS:-erm scl smcl}; do
      steps=$(($(speed_steps "$method") * ${SCALE:-2}))
      for which in $(alternating "$round" before after); do
        binary=$before
        [[ $which == after ]] && binary=$after
        ips=$("$binary" --mode pipeline --method "$method" --data "$data" --steps "$steps" \
          --warmup "${WARMUP:-2}" | images_per_second)
        echo "$round $data $method $which $ips" | tee -a "$out"
      done
    done
  done
done
/usr/bin/python3 - "$out" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    round_, data, method, which, ips = line.split()
    runs.setdefault((data, method), {}).setdefault(which, {})[round_] = float(ips)
print(f"\n{'data':<14} {'method':<6} {'before img/s':>12} {'after img/s':>12} {'after/before':>12}")
for (data, method), r in runs.items():
    ratios = [r["after"][k] / r["before"][k] for k in r["before"]]
    print(f"{data:<14} {method:<6} {statistics.median(r['before'].values()):12.1f} "
          f"{statistics.median(r['after'].values()):12.1f} {statistics.median(ratios):12.2f}")
PY
