# Shared by the bench/*.sh scripts (sourced): jemalloc as the smcl executable links and configures it, and the
# result of one smcl_bench_speed measurement.
# shellcheck shell=bash
jemalloc_library=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
jemalloc_conf=dirty_decay_ms:-1,muzzy_decay_ms:-1,retain:true  # apps/smcl/main.cpp's malloc_conf

# speed_steps METHOD: bench/speed.py's timed steps of a method (STEPS there), about the same number of model
# images per measurement.
speed_steps() {
  case $1 in erm) echo 8 ;; scl) echo 4 ;; *) echo 2 ;; esac
}

# alternating ROUND A B: "A B" in odd rounds, "B A" in even ones, so that neither side always runs first.
alternating() {
  if (($1 % 2)); then echo "$2 $3"; else echo "$3 $2"; fi
}

# images_per_second < smcl_bench_speed's output: the images/s of its result line.
images_per_second() {
  grep '^{' | tail -1 | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["images_per_second"])'
}
