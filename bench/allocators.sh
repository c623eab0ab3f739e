#!/usr/bin/env bash
# The allocators Debian ships, under smcl's training steps: images/s and peak resident memory of the pipeline
# (smcl_bench_speed --mode pipeline) with glibc and smcl's settings (keep freed memory: the default), glibc's own
# defaults (--default-malloc), jemalloc and mimalloc with their defaults, and jemalloc as the smcl executable
# sets it (never hand freed pages back; apps/smcl/main.cpp), each preloaded, glibc's settings untouched.
# Usage: bench/allocators.sh [DATA] [ROUNDS]   (env: B=smcl_bench_speed binary, METHODS="erm smcl", STEPS, WARMUP)
# Needs libjemalloc2 and libmimalloc2.0 (apt-get install libjemalloc2 libmimalloc2.0). Rounds interleave the
# allocators; one JSON line per measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
bench=${B:-build/bench/smcl_bench_speed}
data=${1:-cifar_shaped}
rounds=${2:-1}
methods=${METHODS:-erm smcl}
lib=/usr/lib/x86_64-linux-gnu
for round in $(seq "$rounds"); do
  for method in $methods; do
    steps=${STEPS:-$([[ $method == smcl ]] && echo 6 || echo 12)}
    warmup=${WARMUP:-2}
    for allocator in glibc_kept glibc_default jemalloc mimalloc jemalloc_kept; do
      preload="" flag="" conf=""
      case $allocator in
        glibc_default) flag=--default-malloc ;;
        jemalloc) preload=$jemalloc_library flag=--default-malloc ;;
        mimalloc) preload=$lib/libmimalloc.so.2 flag=--default-malloc ;;
        jemalloc_kept) preload=$jemalloc_library flag=--default-malloc conf=$jemalloc_conf ;;
      esac
      [[ -z $preload || -e $preload ]] || { echo "missing $preload" >&2; exit 1; }
      line=$(MALLOC_CONF=$conf LD_PRELOAD=$preload "$bench" --mode pipeline --method "$method" --data "$data" \
        --steps "$steps" --warmup "$warmup" $flag)
      echo "{\"allocator\": \"$allocator\", \"round\": $round, \"result\": $line}"
    done
  done
done
