#!/usr/bin/env bash
# Prepares the accelerator check (bench/gpu_check.sh) on this (Debian) machine: downloads the .deb files of the
# small dependencies the GPU machine lacks and copies the JPEG copy of CIFAR-10 (results/cifar10-jpeg/README.md;
# SMCL_CIFAR10_JPEG names its tar.gz, default ../shared/data/cifar10-jpeg/cifar10-jpeg.tar.gz) into .gpu-carry/
# (git-ignored, about 22 MB), which the device tool's `run` then carries:
#   run(command="bash bench/gpu_check.sh", carry=[".gpu-carry"], timeout_s=600)
set -euo pipefail
cd "$(dirname "$0")/.."
cifar=${SMCL_CIFAR10_JPEG:-../shared/data/cifar10-jpeg/cifar10-jpeg.tar.gz}
[[ -f $cifar ]] || { echo "bench/gpu_prepare.sh: no '$cifar' (set SMCL_CIFAR10_JPEG)" >&2; exit 1; }
rm -rf .gpu-carry && mkdir -p .gpu-carry/debs
(cd .gpu-carry/debs && apt-get download libyaml-cpp-dev libyaml-cpp0.7 nlohmann-json3-dev libcli11-dev zlib1g-dev zlib1g)
cp "$cifar" .gpu-carry/cifar10-jpeg.tar.gz
du -sh .gpu-carry
