#!/usr/bin/env bash
# The accelerator check (issues 5, 22 and 36), for the lent GPU machine (PyTorch, CMake and nvcc; no Debian
# packages, no network), as one call of the device tool. Prepare here with bench/gpu_prepare.sh, then:
#   run(command="bash bench/gpu_check.sh", carry=[".gpu-carry"], timeout_s=600)
# Stages in order of value, each with a limit of its own that never reaches past the deadline (GPU_CHECK_SECONDS
# after the start, default 540; the limits of stages 1-3 add up to less, stage 4 gets what is left):
#   1. build smcl against the libtorch of the machine's PyTorch (no OpenCV, no tests; the small dependencies from
#      the carried .deb files). When files fail to compile, the log names them; a second try leaves out the
#      optional parts among them (c10d: src/smcl/core/distributed.cpp, CUDA graphs: src/smcl/train/cuda_graph.cpp)
#      and only those; a failed file of any other kind ends the check.
#   2. CUDA graphs (train.cuda_graphs on against off) for ERM fp32 and SMCL bf16 + channels_last: one epoch of
#      CIFAR-10-LT each way, whose training losses must agree, and the step's speed each way; the fused SGD update
#      on against off.
#   3. speed on the CIFAR-shaped set (bench/speed.py): the floor, the pipeline and the Python reference, fp32 and
#      bf16 + channels_last, and the torch.compile reference where the machine has what it needs (Triton, a C
#      compiler, Python's headers).
#   4. Table 1's CIFAR-10-LT column at ratio 100 (tables/cifar10_lt_r100.yaml, seed 0, 200 epochs, fp32 +
#      channels_last as on the CPU: scripts/cifar10-column) on the carried JPEG copy of CIFAR-10, written in the
#      official binary layout first (bench/cifar_folder_to_binary.py: this build reads no JPEG), rows in issue 35's
#      order for as long as time is left; a row cut short by the deadline comes back with its finished epochs.
# Every failure is named on a "FAILED:" line and the check goes on with the next measurement; it exits 1 when
# anything failed. What comes back in $OUT (8 files at most): log.txt, cmake.txt, build.txt, speed-gpu-cifar.json,
# speed-gpu-steps.jsonl (the single measurements of stage 2 and smcl's rows without a reference),
# train-summaries.jsonl (each finished run's summary.json, named), cifar10-runs.tar.gz (stage 4's run folders
# without checkpoints).
# GPU_CHECK_DRY=1: the whole check on this CPU in seconds, against an existing build (GPU_CHECK_BUILD, default
# build/): tiny sizes, a generated CIFAR-10 folder, the build stage's failure reading tried on made-up build logs.
# CTest runs it (gpu_check_dry) so that the script cannot rot between lent machines.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
dry=${GPU_CHECK_DRY:-0}
# The Python with PyTorch (the GPU machine's python3; here Debian's /usr/bin/python3).
python=${GPU_CHECK_PYTHON:-python3}
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out"
rm -f "$out"/*.jsonl "$out"/*.json "$out"/*.txt "$out/cifar10-runs.tar.gz"  # an earlier check's, in a dry run
exec > >(tee "$out/log.txt") 2>&1
start=$(date +%s)
deadline=$((start + ${GPU_CHECK_SECONDS:-540}))
scratch=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
failures=0
stamp() { echo "== $(( $(date +%s) - start )) s: $*"; }
# Seconds a stage may take: its own limit, or what is left before the deadline (less a margin), if smaller; at
# least 1 (`timeout 0` would mean no limit).
budget() {
  local left=$((deadline - $(date +%s) - 5))
  left=$(( left < $1 ? left : $1 ))
  echo $(( left < 1 ? 1 : left ))
}
# Runs a command (a function, for pipelines); a failure is named and counted, and the check goes on.
check() {
  "$@"
  local rc=$?
  if (( rc != 0 )); then
    echo "FAILED: $* (exit $rc)"
    failures=$((failures + 1))
  fi
  return $rc
}
# One line of train-summaries.jsonl: a run's summary.json with the run's name.
summary_line() {
  "$python" -c 'import json, sys; print(json.dumps(dict(json.load(open(sys.argv[1] + "/summary.json")), run=sys.argv[2])))' \
    "$1" "$2" >> "$out/train-summaries.jsonl"
}

# The translation units a build log names as failed: ninja's "FAILED: <object>" lines and make's
# "*** [<object>] Error" lines (the progress lines name every file, failed or not).
failed_units() {
  grep -E '^FAILED: |\*\*\* \[.*\] Error' "$1" | grep -oE '[A-Za-z0-9_./+-]+\.(cpp|cc|cu)\.o' | sed 's/\.o$//' | sort -u
}
# The configure flags that leave out the optional parts among a build log's failed units; fails (and says why)
# when a failed unit is not optional or no unit is named (a link error, a killed build).
flags_without_failed_parts() {
  local unit flags=() others=() units
  units=$(failed_units "$1")
  [[ -n $units ]] || { echo "no failed file named in $1 (a link error, or the build was cut off)" >&2; return 1; }
  for unit in $units; do
    case $unit in
      */smcl/core/distributed.cpp) flags+=(-DSMCL_WITH_DISTRIBUTED=OFF) ;;
      */smcl/train/cuda_graph.cpp) flags+=(-DSMCL_WITH_CUDA_GRAPHS=OFF) ;;
      *) others+=("$unit") ;;
    esac
  done
  echo "failed to compile: $units" | tr '\n' ' ' >&2; echo >&2
  (( ${#others[@]} == 0 )) || { echo "not an optional part: ${others[*]}; no second try" >&2; return 1; }
  echo "${flags[@]}"
}

stamp "machine"
if (( dry )); then
  echo "dry run on the CPU (GPU_CHECK_DRY=1)"
  device=cpu
else
  device=cuda
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
fi
nproc
"$python" -c 'import torch, sys; print(sys.version.split()[0], torch.__version__, torch.version.cuda, "cxx11 abi", torch._C._GLIBCXX_USE_CXX11_ABI)'
"$python" -c 'import torchvision, cv2; print("torchvision", torchvision.__version__, "cv2", cv2.__version__)' || true
cmake --version | head -1; c++ --version | head -1

stamp "1. build"
if (( dry )); then
  build=${GPU_CHECK_BUILD:-build}
  # The failure reading against made-up logs: progress lines name every file, the failed lines one.
  cat > "$scratch/ninja.txt" <<'LOG'
[3/80] Building CXX object src/CMakeFiles/smcl_lib.dir/smcl/core/distributed.cpp.o
[4/80] Building CXX object src/CMakeFiles/smcl_lib.dir/smcl/train/cuda_graph.cpp.o
FAILED: src/CMakeFiles/smcl_lib.dir/smcl/train/cuda_graph.cpp.o
/usr/bin/c++ -o src/CMakeFiles/smcl_lib.dir/smcl/train/cuda_graph.cpp.o -c src/smcl/train/cuda_graph.cpp
src/smcl/train/cuda_graph.cpp:40:5: error: no matching function for call
LOG
  cat > "$scratch/make.txt" <<'LOG'
[ 40%] Building CXX object src/CMakeFiles/smcl_lib.dir/smcl/core/distributed.cpp.o
[ 41%] Building CXX object src/CMakeFiles/smcl_lib.dir/smcl/train/cuda_graph.cpp.o
In file included from src/smcl/core/distributed.cpp:9:
/opt/torch/include/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp:12:3: error: 'ncclComm_t' does not name a type
make[2]: *** [src/CMakeFiles/smcl_lib.dir/build.make:300: src/CMakeFiles/smcl_lib.dir/smcl/core/distributed.cpp.o] Error 1
make[1]: *** [CMakeFiles/Makefile2:200: src/CMakeFiles/smcl_lib.dir/all] Error 2
LOG
  sed 's/cuda_graph/cifar/g' "$scratch/ninja.txt" > "$scratch/other.txt"
  sed '/FAILED/d' "$scratch/ninja.txt" > "$scratch/none.txt"
  reading_works() {
    [[ $(flags_without_failed_parts "$scratch/ninja.txt" 2>/dev/null) == "-DSMCL_WITH_CUDA_GRAPHS=OFF" ]] &&
      [[ $(flags_without_failed_parts "$scratch/make.txt" 2>/dev/null) == "-DSMCL_WITH_DISTRIBUTED=OFF" ]] &&
      ! flags_without_failed_parts "$scratch/other.txt" &> /dev/null &&
      ! flags_without_failed_parts "$scratch/none.txt" &> /dev/null
  }
  check reading_works
  echo "build: $build (not rebuilt)"
else
  build=$PWD/build-gpu
  deps=$PWD/.gpu-deps
  rm -rf "$deps" && mkdir -p "$deps"
  for deb in .gpu-carry/debs/*.deb; do dpkg -x "$deb" "$deps"; done
  export LD_LIBRARY_PATH=$deps/usr/lib/x86_64-linux-gnu:$deps/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
  torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
  # NCCL's header of a pip install (nvidia-nccl-*), for the nccl process group; none: one process per job.
  nccl_include=$("$python" -c 'import os, nvidia.nccl; print(os.path.join(list(nvidia.nccl.__path__)[0], "include"))' \
                 2>/dev/null || true)
  generator=() keep_going=(-k)  # make: keep going past a failing file; ninja: past any number of them
  command -v ninja > /dev/null && generator=(-G Ninja) keep_going=(-k 0)
  configure() {
    cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DSMCL_WITH_OPENCV=OFF \
      -DSMCL_BUILD_TESTS=OFF ${nccl_include:+-DSMCL_NCCL_INCLUDE_DIR="$nccl_include"} "$@" \
      -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr" -DCMAKE_LIBRARY_ARCHITECTURE=x86_64-linux-gnu \
      -DZLIB_INCLUDE_DIR="$deps/usr/include" -DZLIB_LIBRARY="$deps/usr/lib/x86_64-linux-gnu/libz.a" \
      >> "$out/cmake.txt" 2>&1 || { tail -40 "$out/cmake.txt"; return 1; }
    grep "smcl:" "$out/cmake.txt" | tail -2  # OpenCV and distributed backends found
  }
  compile() {
    # Past failing files, so that one try names every failed file.
    timeout "$(budget "$1")" cmake --build "$build" -j "$(nproc)" --target smcl smcl_bench_speed -- \
      "${keep_going[@]}" >> "$out/build.txt" 2>&1
  }
  check configure || exit 1
  if ! compile 200; then
    grep -E "error:|FAILED|Terminated" "$out/build.txt" | head -40
    without=$(flags_without_failed_parts "$out/build.txt") || { echo "FAILED: build"; exit 1; }
    stamp "1b. second try with $without"
    # shellcheck disable=SC2086
    check configure $without || exit 1
    compile 150 || { grep -E "error:|FAILED|Terminated" "$out/build.txt" | tail -40; echo "FAILED: build"; exit 1; }
  fi
fi
B=$build/bench/smcl_bench_speed
smcl=$build/apps/smcl/smcl
[[ -x $smcl && -x $B ]] || { echo "FAILED: $smcl or $B is not built"; exit 1; }
stamp "built"

# CIFAR-10 in the official binary layout, for stages 2 and 4: the carried JPEG copy, or in a dry run a generated
# folder of 10 classes x 12 training and 3 test images.
cifar=$scratch/cifar10
if (( dry )); then
  "$python" - "$scratch/cifar10-jpeg" <<'PY'
import os, sys
import cv2
import numpy as np
classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
rng = np.random.default_rng(0)
for split, count in (("train", 12), ("test", 3)):
    for k, name in enumerate(classes):
        os.makedirs(os.path.join(sys.argv[1], split, name))
        for i in range(count):
            image = np.clip(rng.normal(25 * k, 40, (32, 32, 3)), 0, 255).astype(np.uint8)
            cv2.imwrite(os.path.join(sys.argv[1], split, name, f"{i:04d}.jpg"), image)
PY
elif [[ -f .gpu-carry/cifar10-jpeg.tar.gz ]]; then
  mkdir -p "$scratch/cifar10-jpeg" && tar xzf .gpu-carry/cifar10-jpeg.tar.gz -C "$scratch/cifar10-jpeg"
else
  echo "no .gpu-carry/cifar10-jpeg.tar.gz (bench/gpu_prepare.sh copies it)"
fi
have_cifar=0
[[ -d $scratch/cifar10-jpeg ]] &&
  check timeout "$(budget 60)" "$python" bench/cifar_folder_to_binary.py "$scratch/cifar10-jpeg" "$cifar" && have_cifar=1

# Sizes: the check's on a GPU, the dry run's tiny ones.
if (( dry )); then
  steps=(--steps 1 --warmup 0 --batch 8 --model resnet8)
  graph_steps=("${steps[@]}")
  tiny_run=(--set model.name=resnet8 --set train.batch_size=16 --set data.max_per_class=12 --set data.imbalance_ratio=10)
  column_sets=("${tiny_run[@]}" --set train.epochs=2 --set optim.warmup_epochs=0 --set "optim.milestones=[1]"
               --set loss.drw_epoch=1 --set smcl.mask_start_epoch=1)
  speed_sizes=(--tiny)
  rows=(drw_smcl drw)
else
  steps=(--steps 12 --warmup 3)
  # 8 warm-up steps: 3 eager steps of the step's shape, its capture, then replays.
  graph_steps=(--steps 40 --warmup 8)
  tiny_run=()
  column_sets=()
  speed_sizes=(--rounds 1 --step-scale 6 --warmup 3 --workers 8)
  rows=(drw_smcl drw_simaugment_cutout drw erm scl_drw scl_drw_pad_crop_flip smcl ldam_drw drw_cmo)
fi

stamp "2. CUDA graphs against eager steps: one epoch each way, then the step's speed; the fused SGD update"
# The first epoch's training loss of each way (metrics.jsonl); graphs replay the eager step's kernels, so the
# losses agree to rounding (the tolerance leaves room for cuDNN's non-deterministic backward kernels).
first_epoch() {
  local name=$1 config=$2 graphs=$3; shift 3
  timeout "$(budget 40)" "$smcl" train --config "$config" --set data.root="$cifar" --set train.device=$device \
    --set train.epochs=1 --set optim.warmup_epochs=0 --set train.cuda_graphs="$graphs" "${tiny_run[@]}" "$@" \
    --out "$scratch/graphs-$name-$graphs" | grep -E "^epoch|replay|warning|error"
  return "${PIPESTATUS[0]}"
}
same_losses() {
  "$python" - "$scratch/graphs-$1-on/metrics.jsonl" "$scratch/graphs-$1-off/metrics.jsonl" "$1" <<'PY'
import json, sys
on, off = (json.loads(open(path).readline())["train_loss"] for path in sys.argv[1:3])
relative = abs(on - off) / max(abs(off), 1e-12)
print(f"{sys.argv[3]}: first-epoch training loss with graphs {on!r}, without {off!r}, relative difference {relative:.2e}")
sys.exit(relative > 1e-3)
PY
}
step_speed() {
  timeout "$(budget 30)" "$B" --data cifar_shaped --set train.device=$device "$@" |
    tee -a "$out/speed-gpu-steps.jsonl"
}
for variant in "erm:configs/cifar10_lt_erm.yaml:" \
               "smcl:configs/cifar10_lt_drw_smcl.yaml:train.amp=bf16 train.channels_last=true smcl.mask_start_epoch=0"; do
  IFS=: read -r method config variant_sets <<< "$variant"
  sets=()
  for s in $variant_sets; do sets+=(--set "$s"); done
  if (( have_cifar )); then
    for graphs in on off; do check first_epoch "$method" "$config" $graphs "${sets[@]}"; done
    check same_losses "$method"
  fi
  for graphs in on off; do
    check step_speed --mode pipeline --method "$method" "${graph_steps[@]}" --set train.cuda_graphs=$graphs "${sets[@]}"
  done
done
for method in erm smcl; do
  for fused in on off; do check step_speed --mode pipeline --method $method "${steps[@]}" --set train.fused_sgd=$fused; done
done

stamp "3. speed on the CIFAR-shaped set: floor, pipeline, the Python reference (and torch.compile's)"
# The smcl rows of the reference need OpenCV's contrib saliency, which a pip opencv-python-headless lacks.
methods=(erm scl smcl)
"$python" -c 'import cv2; cv2.saliency' 2>/dev/null || { methods=(erm scl); echo "cv2 has no saliency module: no smcl reference"; }
(( dry )) && methods=(erm)
compiled=()
if "$python" - <<'PY'
import os, shutil, sysconfig, sys
import torch
try:
    import triton  # noqa: F401
except ImportError:
    sys.exit("no torch.compile reference: no Triton")
if not hasattr(torch, "compile"):
    sys.exit(f"no torch.compile reference: PyTorch {torch.__version__} has no torch.compile")
if not (shutil.which("cc") or shutil.which("gcc")):
    sys.exit("no torch.compile reference: no C compiler")
if not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")):
    sys.exit("no torch.compile reference: no Python.h")
PY
then compiled=(--compiled-reference); fi
# --allocator glibc_kept: the bench binary's own allocator (this build links no jemalloc).
check timeout "$(budget 150)" "$python" bench/speed.py --device $device --data cifar_shaped --methods "${methods[@]}" \
  --allocator glibc_kept --variant bf16_channels_last:train.amp=bf16,train.channels_last=true --matched-variants \
  "${compiled[@]}" "${speed_sizes[@]}" --binary "$B" --json "$out/speed-gpu-cifar.json"
if [[ " ${methods[*]} " != *" smcl "* ]]; then
  for variant in "" "train.amp=bf16 --set train.channels_last=true"; do
    for mode in floor pipeline; do
      # shellcheck disable=SC2086
      check step_speed --mode $mode --method smcl "${steps[@]}" ${variant:+--set $variant}
    done
  done
fi

stamp "4. Table 1's CIFAR-10-LT column (ratio 100, seed 0) for as long as time is left"
runs=$scratch/cifar10-runs
# One row under a time limit (a stopped sweep saves its run's last checkpoint), the first and every 10th epoch's line shown.
column_row() {
  timeout "$1" "$smcl" sweep --table tables/cifar10_lt_r100.yaml --runs "$runs" --only "$2" --seeds 0 --no-table \
    --set data.root="$cifar" --set train.device=$device --set train.channels_last=true "${column_sets[@]}" |
    grep -E "^epoch +(0|[0-9]*9)/|warning|error|FAILED"
  return "${PIPESTATUS[0]}"
}
if (( have_cifar )); then
  for row in "${rows[@]}"; do
    left=$((deadline - $(date +%s) - 20))
    (( left >= 60 )) || { echo "no time left for $row and the rows after it"; break; }
    stamp "row $row (at most $left s)"
    column_row "$left" "$row"
    rc=$?
    run=$runs/cifar10_lt_r100/$row/seed0
    if (( rc == 0 )); then
      check summary_line "$run" "cifar10_lt_r100/$row"
    elif (( rc == 124 )); then
      echo "$row: cut short by the deadline after $(wc -l < "$run/metrics.jsonl") epochs (not a result)"
    else
      echo "FAILED: row $row (exit $rc)"
      failures=$((failures + 1))
    fi
  done
  tar czf "$out/cifar10-runs.tar.gz" --exclude=checkpoints -C "$runs" . 2>/dev/null ||
    { rm -f "$out/cifar10-runs.tar.gz"; echo "no run folders to pack"; }
fi

stamp "done, $failures failure(s)"
rm -rf "$scratch"
(( failures == 0 ))
