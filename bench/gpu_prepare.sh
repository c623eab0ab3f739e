#!/usr/bin/env bash
# Prepares the accelerator check of issue 5 on this (Debian) machine: downloads the .deb files of the small
# dependencies the GPU machine lacks and copies Fashion-MNIST, into .gpu-carry/ (git-ignored, about 32 MB),
# which the device tool's `run` then carries:  run(command="bash bench/gpu_check.sh", carry=[".gpu-carry"]).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .gpu-carry && mkdir -p .gpu-carry/debs .gpu-carry/fashion-mnist
(cd .gpu-carry/debs && apt-get download libyaml-cpp-dev libyaml-cpp0.7 nlohmann-json3-dev libcli11-dev zlib1g-dev zlib1g)
cp /usr/share/datasets/fashion-mnist/*.gz .gpu-carry/fashion-mnist/
du -sh .gpu-carry
