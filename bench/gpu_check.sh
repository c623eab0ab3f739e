#!/usr/bin/env bash
# The accelerator check of issue 5, for the lent GPU machine (PyTorch, CMake and nvcc; no Debian packages, no
# network). Prepare here with bench/gpu_prepare.sh, then: run(command="bash bench/gpu_check.sh",
# carry=[".gpu-carry"], timeout_s=540). It builds smcl against the libtorch of the machine's PyTorch (without
# OpenCV and tests; the small dependencies come from the carried .deb files), runs the speed benchmark on the GPU
# (smcl's floor and pipeline in fp32, bf16 and channels_last; the Python reference when torchvision and cv2 are
# there), and a short DRW+SMCL training run on Fashion-MNIST-LT; everything lands in $OUT.
set -euo pipefail
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out"
exec > >(tee "$out/log.txt") 2>&1
start=$(date +%s)
stamp() { echo "== $(( $(date +%s) - start )) s: $*"; }

stamp "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
nproc
python3 -c 'import torch, sys; print(sys.version.split()[0], torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0), "cxx11 abi", torch._C._GLIBCXX_USE_CXX11_ABI)'

stamp "dependencies from the carried .deb files"
deps=$PWD/.gpu-deps
rm -rf "$deps" && mkdir -p "$deps"
for deb in .gpu-carry/debs/*.deb; do dpkg -x "$deb" "$deps"; done
export LD_LIBRARY_PATH=$deps/usr/lib/x86_64-linux-gnu:$deps/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}

stamp "configure and build against PyTorch's libtorch"
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
# NCCL's header of a pip install (nvidia-nccl-*), for the nccl process group; none: one process per job.
nccl_include=$(python3 -c 'import os, nvidia.nccl; print(os.path.join(list(nvidia.nccl.__path__)[0], "include"))' \
               2>/dev/null || true)
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DSMCL_WITH_OPENCV=OFF -DSMCL_BUILD_TESTS=OFF \
  ${nccl_include:+-DSMCL_NCCL_INCLUDE_DIR="$nccl_include"} \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr" -DCMAKE_LIBRARY_ARCHITECTURE=x86_64-linux-gnu \
  -DZLIB_INCLUDE_DIR="$deps/usr/include" -DZLIB_LIBRARY="$deps/usr/lib/x86_64-linux-gnu/libz.a" > "$out/cmake.txt" 2>&1 || { tail -40 "$out/cmake.txt"; exit 1; }
grep "smcl:" "$out/cmake.txt" || true  # OpenCV and distributed backends found
cmake --build build-gpu -j "$(nproc)" --target smcl smcl_bench_speed > "$out/build.txt" 2>&1 || { grep -m20 -A5 error "$out/build.txt"; exit 1; }

stamp "speed benchmark on the GPU"
reference_ok=1
python3 -c 'import torchvision, cv2' 2>/dev/null || { reference_ok=0; echo "no torchvision or cv2 here: smcl rows only"; }
B=build-gpu/bench/smcl_bench_speed
for data in cifar_shaped fashion_mnist; do
  for method in erm scl smcl; do
    steps=$([ "$method" = smcl ] && echo 20 || echo 60)
    for variant in "" "train.amp=bf16" "train.channels_last=true --set train.amp=bf16"; do
      for mode in floor pipeline; do
        # shellcheck disable=SC2086
        $B --mode $mode --method $method --data $data --steps $steps --warmup 5 --set train.device=cuda \
          ${variant:+--set $variant} | tee -a "$out/gpu-speed.jsonl"
      done
    done
    if [ "$reference_ok" = 1 ]; then
      python3 bench/reference.py --mode pipeline --method $method --data $data --steps $steps --warmup 5 \
        --device cuda --workers 8 | tee -a "$out/gpu-speed.jsonl" || echo "reference $method $data failed"
    fi
  done
  $B --mode eval --data $data --steps 3 --warmup 1 --set train.device=cuda | tee -a "$out/gpu-speed.jsonl"
done

stamp "short DRW+SMCL training on the GPU (bf16), then eval"
build-gpu/apps/smcl/smcl train --config configs/fashion_mnist_lt_drw_smcl.yaml --set data.root=.gpu-carry/fashion-mnist \
  --set model.name=resnet32 --set train.epochs=4 --set optim.milestones=[3] --set loss.drw_epoch=2 \
  --set smcl.mask_start_epoch=2 --set train.device=cuda --set train.amp=bf16 --out "$out/run"
build-gpu/apps/smcl/smcl eval --run "$out/run" --checkpoint last
rm -f "$out"/run/checkpoints/*.pt
stamp "done"
