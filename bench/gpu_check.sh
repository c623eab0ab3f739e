#!/usr/bin/env bash
# The accelerator check of issues 5 and 22, for the lent GPU machine (PyTorch, CMake and nvcc; no Debian packages,
# no network). Prepare here with bench/gpu_prepare.sh, then: run(command="bash bench/gpu_check.sh",
# carry=[".gpu-carry"], timeout_s=540). In order of importance, each stage cut short when the time budget
# (GPU_CHECK_SECONDS, default 510) runs out:
#   1. build smcl against the libtorch of the machine's PyTorch (no OpenCV, no tests; the small dependencies come
#      from the carried .deb files); when that fails, a second try without the optional part whose file failed
#      (c10d, CUDA graphs);
#   2. CUDA graphs (train.cuda_graphs on / off) for ERM fp32 and SMCL bf16 + channels_last on the
#      CIFAR-100-LT-shaped set, the compute-bound limit (the floor at batch 4096) and the torch.compile reference;
#   3. the whole DRW+SMCL CIFAR-100-LT recipe (200 epochs) on a generated CIFAR-100-shaped set;
#   4. the speed benchmark on the CIFAR-100-LT-shaped set (bench/speed.py --device cuda: floor, pipeline and the
#      Python reference, fp32 and bf16 + channels_last, each against its own floor and reference; smcl's rows
#      without the reference when cv2 lacks the contrib saliency module, as pip's opencv-python-headless does);
#   5. the fused SGD update on and off;
#   6. the speed benchmark on Fashion-MNIST-LT (fp32; smcl also bf16 + channels_last);
#   7. the DRW+SMCL recipe of configs/fashion_mnist_lt_drw_smcl.yaml, all 20 epochs, on the GPU, fp32 then bf16.
# What comes back in $OUT (8 files at most): log.txt, cmake.txt, build.txt, speed-gpu-cifar.json,
# speed-gpu-fmnist.json, speed-gpu-steps.jsonl (the single measurements of stages 2, 5 and smcl's rows without a
# reference), train-summaries.jsonl (each run's summary.json, named).
# Measured 2026-11-27 on an H200 (GPU_CHECK_SECONDS=420): 224 s with a warm build (stages 1, 4, 6, 7);
# docs/performance.md. Stages 2, 3 and 5 have not run on a GPU yet.
set -uo pipefail
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out"
exec > >(tee "$out/log.txt") 2>&1
start=$(date +%s)
deadline=$((start + ${GPU_CHECK_SECONDS:-510}))
stamp() { echo "== $(( $(date +%s) - start )) s: $*"; }
# Seconds a stage may take: its own limit, or what is left before the deadline (less a margin), if smaller; at
# least 1 (`timeout 0` would mean no limit).
budget() {
  local left=$((deadline - $(date +%s) - 5))
  left=$(( left < $1 ? left : $1 ))
  echo $(( left < 1 ? 1 : left ))
}

# One line of train-summaries.jsonl: a run's summary.json with the run's name.
summary_line() {
  python3 -c 'import json, sys; print(json.dumps(dict(json.load(open(sys.argv[1] + "/summary.json")), run=sys.argv[2])))' \
    "$1" "$2" >> "$out/train-summaries.jsonl" 2>/dev/null || echo "no summary in $1"
}

stamp "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
nproc
python3 -c 'import torch, sys; print(sys.version.split()[0], torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0), "cxx11 abi", torch._C._GLIBCXX_USE_CXX11_ABI)'
python3 -c 'import torchvision, cv2; print("torchvision", torchvision.__version__, "cv2", cv2.__version__)' || true
cmake --version | head -1; c++ --version | head -1

stamp "dependencies from the carried .deb files"
deps=$PWD/.gpu-deps
rm -rf "$deps" && mkdir -p "$deps"
for deb in .gpu-carry/debs/*.deb; do dpkg -x "$deb" "$deps"; done
export LD_LIBRARY_PATH=$deps/usr/lib/x86_64-linux-gnu:$deps/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
fmnist=$PWD/.gpu-carry/fashion-mnist

stamp "configure and build against PyTorch's libtorch"
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
# NCCL's header of a pip install (nvidia-nccl-*), for the nccl process group; none: one process per job.
nccl_include=$(python3 -c 'import os, nvidia.nccl; print(os.path.join(list(nvidia.nccl.__path__)[0], "include"))' \
               2>/dev/null || true)
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
configure() {
  cmake -S . -B build-gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DSMCL_WITH_OPENCV=OFF -DSMCL_BUILD_TESTS=OFF \
    ${nccl_include:+-DSMCL_NCCL_INCLUDE_DIR="$nccl_include"} "$@" \
    -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr" -DCMAKE_LIBRARY_ARCHITECTURE=x86_64-linux-gnu \
    -DZLIB_INCLUDE_DIR="$deps/usr/include" -DZLIB_LIBRARY="$deps/usr/lib/x86_64-linux-gnu/libz.a" \
    >> "$out/cmake.txt" 2>&1 || { tail -40 "$out/cmake.txt"; return 1; }
  grep "smcl:" "$out/cmake.txt" | tail -2  # OpenCV and distributed backends found
}
build() {
  # Keep going past a failing file, so that one try shows every error.
  timeout "$(budget 300)" cmake --build build-gpu -j "$(nproc)" --target smcl smcl_bench_speed -- \
    $([ ${#generator[@]} -gt 0 ] && echo "-k 0" || echo "-k") >> "$out/build.txt" 2>&1
}
configure || exit 1
if ! build; then
  echo "build failed; the errors:"
  grep -E "error:|FAILED|Terminated" "$out/build.txt" | head -40
  # Without the optional part whose file failed: c10d (src/smcl/core/distributed.cpp) or the CUDA graphs
  # (src/smcl/train/cuda_graph.cpp, never compiled before a GPU machine) - both when neither is named.
  without=()
  grep -qE "distributed\.cpp" "$out/build.txt" && without+=(-DSMCL_WITH_DISTRIBUTED=OFF)
  grep -qE "cuda_graph\.cpp" "$out/build.txt" && without+=(-DSMCL_WITH_CUDA_GRAPHS=OFF)
  [[ ${#without[@]} -eq 0 ]] && without=(-DSMCL_WITH_DISTRIBUTED=OFF -DSMCL_WITH_CUDA_GRAPHS=OFF)
  stamp "second try with ${without[*]}"
  configure "${without[@]}" || exit 1
  build || { grep -E "error:|FAILED|Terminated" "$out/build.txt" | tail -40; exit 1; }
fi
B=build-gpu/bench/smcl_bench_speed
smcl=build-gpu/apps/smcl/smcl
stamp "built"

# The smcl rows of the reference need OpenCV's contrib saliency, which a pip opencv-python-headless lacks.
methods="erm scl smcl"
python3 -c 'import cv2; cv2.saliency' 2>/dev/null ||
  { methods="erm scl"; echo "cv2 has no saliency module: no smcl reference"; }
smcl_rows() {  # floor and pipeline of smcl without the reference, fp32 and bf16 + channels_last
  for variant in "" "train.amp=bf16 --set train.channels_last=true"; do
    for mode in floor pipeline; do
      # shellcheck disable=SC2086
      timeout "$(budget 60)" "$B" --mode $mode --method smcl --data "$1" --steps 12 --warmup 3 --set train.device=cuda \
        $([ "$1" = fashion_mnist ] && echo --set data.root="$fmnist") ${variant:+--set $variant} |
        tee -a "$out/speed-gpu-steps.jsonl"
    done
  done
}

stamp "CUDA graphs against eager steps, the torch.compile reference and the compute-bound limit (CIFAR-100-LT-shaped)"
# ERM fp32 and SMCL bf16 + channels_last (issue 22's targets); pipeline with train.cuda_graphs on and off (8
# warm-up steps: 3 eager runs of the step's shape, its capture, then replays), the floor at batch 4096 as the
# compute-bound limit, and bench/reference.py with --compile (torch.compile, mode reduce-overhead).
for variant in "erm:" "smcl:train.amp=bf16 train.channels_last=true"; do
  method=${variant%%:*} sets=()
  for s in ${variant#*:}; do sets+=(--set "$s"); done
  for graphs in on off; do
    timeout "$(budget 60)" "$B" --mode pipeline --method "$method" --data cifar_shaped --steps 40 --warmup 8 \
      --set train.device=cuda --set train.cuda_graphs=$graphs "${sets[@]}" | tee -a "$out/speed-gpu-steps.jsonl"
  done
  timeout "$(budget 60)" "$B" --mode floor --method "$method" --data cifar_shaped --batch 4096 --steps 6 --warmup 2 \
    --set train.device=cuda "${sets[@]}" | tee -a "$out/speed-gpu-steps.jsonl"
  reference_flags=()
  [[ $variant == *bf16* ]] && reference_flags=(--amp bf16 --channels-last)
  [[ $method == smcl && $methods != *smcl* ]] && continue  # no cv2 saliency for the SMCL reference
  timeout "$(budget 120)" python3 bench/reference.py --mode pipeline --method "$method" --data cifar_shaped \
    --device cuda --compile --steps 40 --warmup 6 --workers 8 "${reference_flags[@]}" | tee -a "$out/speed-gpu-steps.jsonl"
done

stamp "the whole DRW+SMCL CIFAR-100-LT recipe (200 epochs) on a generated CIFAR-100-shaped set, bf16 + channels_last"
# CIFAR-100's binary layout (a coarse and a fine label byte, then 3072 pixel bytes) with random pixels, 500
# training and 100 test images per class; the recipe makes it long-tailed (ratio 100) itself.
cifar=/tmp/cifar-shaped
python3 - "$cifar" <<'PY'
import os, sys
import numpy as np
folder = os.path.join(sys.argv[1], "cifar-100-binary")
os.makedirs(folder, exist_ok=True)
rng = np.random.default_rng(0)
for name, per_class in (("train", 500), ("test", 100)):
    fine = np.repeat(np.arange(100, dtype=np.uint8), per_class)
    records = np.concatenate([(fine // 5)[:, None], fine[:, None],
                              rng.integers(0, 256, (len(fine), 3072), dtype=np.uint8)], axis=1)
    records.tofile(os.path.join(folder, name + ".bin"))
PY
recipe_start=$(date +%s)
timeout "$(budget 200)" "$smcl" train --config configs/cifar100_lt_drw_smcl.yaml --set data.root="$cifar" \
  --set train.device=cuda --set train.amp=bf16 --set train.channels_last=true --out /tmp/gpu-cifar-recipe |
  grep -E "^epoch +(1|50|100|150|160|200)/|replayed|error" | tail -12
echo "recipe wall seconds: $(( $(date +%s) - recipe_start ))"
summary_line /tmp/gpu-cifar-recipe cifar100_lt_drw_smcl-bf16

stamp "speed benchmark on the GPU: CIFAR-100-LT-shaped set"
# --allocator glibc_kept: the bench binary's own allocator, as in the GPU table of 2026-11-27 (this build links
# no jemalloc, and a jemalloc that the machine might have is not the one measured here).
timeout "$(budget 200)" python3 bench/speed.py --device cuda --rounds 1 --data cifar_shaped --methods $methods \
  --allocator glibc_kept --variant bf16_channels_last:train.amp=bf16,train.channels_last=true --matched-variants \
  --step-scale 6 --warmup 3 --workers 8 --binary "$B" --json "$out/speed-gpu-cifar.json"
[[ $methods == *smcl* ]] || smcl_rows cifar_shaped

stamp "fused SGD update against the per-parameter one: ERM and SMCL pipeline, CIFAR-100-LT-shaped set"
for method in erm smcl; do
  for fused in on off; do
    timeout "$(budget 60)" "$B" --mode pipeline --method $method --data cifar_shaped --steps 12 --warmup 3 \
      --set train.device=cuda --set train.fused_sgd=$fused | tee -a "$out/speed-gpu-steps.jsonl"
  done
done

stamp "speed benchmark on the GPU: Fashion-MNIST-LT"
timeout "$(budget 150)" python3 bench/speed.py --device cuda --rounds 1 --data fashion_mnist --methods $methods \
  --allocator glibc_kept --step-scale 6 --warmup 3 --workers 8 --binary "$B" --fmnist-root "$fmnist" \
  --json "$out/speed-gpu-fmnist.json"
[[ $methods == *smcl* ]] || smcl_rows fashion_mnist

for amp in none bf16; do
  stamp "DRW+SMCL on Fashion-MNIST-LT, the whole 20-epoch recipe, on the GPU (amp $amp)"
  timeout "$(budget 90)" "$smcl" train --config configs/fashion_mnist_lt_drw_smcl.yaml --set data.root="$fmnist" \
    --set train.device=cuda --set train.amp=$amp --out /tmp/gpu-run-$amp | grep -v '^  \|^[a-z]*:$'
  summary_line /tmp/gpu-run-$amp "fashion_mnist_lt_drw_smcl-$amp"
done
stamp "done"
