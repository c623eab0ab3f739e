#!/usr/bin/env bash
# Which BLAS libtorch's matrix products run on: Debian's libtorch calls the libblas.so.3 that the system's
# alternatives point to, the reference BLAS (libblas3) unless an optimised one is installed. This times the
# floor and the pipeline (smcl_bench_speed, jemalloc as the smcl executable sets it) with the system's BLAS and
# with OpenBLAS put first by LD_LIBRARY_PATH, in interleaved rounds. (SupCon's similarity products no longer go
# through the BLAS: src/smcl/losses/pairwise_dot.h; the classifier's and projection head's still do.)
# Usage: bench/blas.sh [ROUNDS]   (env: B=smcl_bench_speed binary, DATA=cifar_shaped, METHODS="erm smcl",
# OPENBLAS=/usr/lib/x86_64-linux-gnu/openblas-pthread; needs libopenblas0-pthread and libjemalloc2 installed)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
bench=${B:-build/bench/smcl_bench_speed}
rounds=${1:-2}
data=${DATA:-cifar_shaped}
openblas=${OPENBLAS:-/usr/lib/x86_64-linux-gnu/openblas-pthread}
for library in "$openblas/libblas.so.3" "$jemalloc_library"; do  # a missing one would not be an error by itself
  [[ -e $library ]] || { echo "no $library (apt-get install libopenblas0-pthread libjemalloc2)" >&2; exit 1; }
done
echo "the system's libblas.so.3: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for round in $(seq "$rounds"); do
  for method in ${METHODS:-erm smcl}; do
    steps=$(($(speed_steps "$method") * 2))
    for blas in $(alternating "$round" system openblas); do
      path=""
      [[ $blas == openblas ]] && path=$openblas
      for mode in floor pipeline; do
        ips=$(LD_LIBRARY_PATH=$path MALLOC_CONF=$jemalloc_conf LD_PRELOAD=$jemalloc_library "$bench" \
          --mode "$mode" --method "$method" --data "$data" --steps "$steps" --warmup 2 --default-malloc |
          images_per_second)
        echo "$round $method $blas $mode $ips" | tee -a "$out"
      done
    done
  done
done
/usr/bin/python3 - "$out" <<'PY'
import statistics, sys
ips = {}
for line in open(sys.argv[1]):
    round_, method, blas, mode, value = line.split()
    ips.setdefault((method, blas, mode), {})[round_] = float(value)
print(f"\n{'method':<6} {'blas':<9} {'floor img/s':>11} {'pipeline img/s':>14} {'pipeline/floor':>14}")
for method, blas in sorted({(m, b) for m, b, _ in ips}):
    floor, pipe = ips[(method, blas, "floor")], ips[(method, blas, "pipeline")]
    ratio = statistics.median(pipe[r] / floor[r] for r in floor)
    print(f"{method:<6} {blas:<9} {statistics.median(floor.values()):11.1f} {statistics.median(pipe.values()):14.1f} "
          f"{ratio:14.2f}")
PY
