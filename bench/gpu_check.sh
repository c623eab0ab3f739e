#!/usr/bin/env bash
# The accelerator check of issue 5, for the lent GPU machine (PyTorch, CMake and nvcc; no Debian packages, no
# network). Prepare here with bench/gpu_prepare.sh, then: run(command="bash bench/gpu_check.sh",
# carry=[".gpu-carry"], timeout_s=540). In order of importance, each stage cut short when the time budget
# (GPU_CHECK_SECONDS, default 510) runs out:
#   1. build smcl against the libtorch of the machine's PyTorch (no OpenCV, no tests; the small dependencies come
#      from the carried .deb files); a second try without c10d if the first fails;
#   2. the speed benchmark on the CIFAR-100-LT-shaped set (bench/speed.py --device cuda: floor, pipeline and the
#      Python reference, fp32 and bf16 + channels_last, each against its own floor and reference; smcl's rows
#      without the reference when cv2 lacks the contrib saliency module, as pip's opencv-python-headless does);
#   3. the same on Fashion-MNIST-LT (fp32; smcl also bf16 + channels_last);
#   4. the DRW+SMCL recipe of configs/fashion_mnist_lt_drw_smcl.yaml, all 20 epochs, on the GPU, fp32 then bf16.
# What comes back in $OUT (8 files at most): log.txt, cmake.txt, build.txt, speed-gpu-cifar.json,
# speed-gpu-fmnist.json, speed-gpu-smcl.jsonl, train-summary-none.json, train-summary-bf16.json.
# Measured 2026-11-27 on an H200 (GPU_CHECK_SECONDS=420): 224 s with a warm build; docs/performance.md.
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
  stamp "second try without c10d (one process per job)"
  configure -DSMCL_WITH_DISTRIBUTED=OFF || exit 1
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
        tee -a "$out/speed-gpu-smcl.jsonl"
    done
  done
}

stamp "speed benchmark on the GPU: CIFAR-100-LT-shaped set"
timeout "$(budget 200)" python3 bench/speed.py --device cuda --rounds 1 --data cifar_shaped --methods $methods \
  --variant bf16_channels_last:train.amp=bf16,train.channels_last=true --matched-variants --step-scale 6 \
  --warmup 3 --workers 8 --binary "$B" --json "$out/speed-gpu-cifar.json"
[[ $methods == *smcl* ]] || smcl_rows cifar_shaped

stamp "fused SGD update against the per-parameter one: ERM and SMCL pipeline, CIFAR-100-LT-shaped set"
for method in erm smcl; do
  for fused in on off; do
    timeout "$(budget 60)" "$B" --mode pipeline --method $method --data cifar_shaped --steps 12 --warmup 3 \
      --set train.device=cuda --set train.fused_sgd=$fused | tee -a "$out/speed-gpu-fused-sgd.jsonl"
  done
done

stamp "speed benchmark on the GPU: Fashion-MNIST-LT"
timeout "$(budget 150)" python3 bench/speed.py --device cuda --rounds 1 --data fashion_mnist --methods $methods \
  --step-scale 6 --warmup 3 --workers 8 --binary "$B" --fmnist-root "$fmnist" --json "$out/speed-gpu-fmnist.json"
[[ $methods == *smcl* ]] || smcl_rows fashion_mnist

for amp in none bf16; do
  stamp "DRW+SMCL on Fashion-MNIST-LT, the whole 20-epoch recipe, on the GPU (amp $amp)"
  timeout "$(budget 90)" "$smcl" train --config configs/fashion_mnist_lt_drw_smcl.yaml --set data.root="$fmnist" \
    --set train.device=cuda --set train.amp=$amp --out /tmp/gpu-run-$amp | grep -v '^  \|^[a-z]*:$'
  cp /tmp/gpu-run-$amp/summary.json "$out/train-summary-$amp.json" 2>/dev/null
done
stamp "done"
