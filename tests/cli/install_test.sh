#!/usr/bin/env bash
# Installs smcl from the build folder into a temporary prefix, then builds and runs examples/consumer
# against it with find_package(smcl): the installed headers, library and CMake package must be complete.
set -euo pipefail
source_dir=$1 build_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
test -x "$work/prefix/bin/smcl"
cmake -S "$source_dir/examples/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
output=$("$work/build/consumer")
echo "$output"
[[ "$output" == *"CIFAR-100-LT has 10847 images; ResNet-32 has 470004 parameters"* ]]
# The peak of a bright 6x6 square at rows 20-25, columns 4-9 (OpenCV's map peaks at (22, 7) too); SupCon of
# four identical features with two per class: each anchor's positive has probability 1/3, so the loss is ln 3.
[[ "$output" == *"saliency peak (22, 7); SupCon of identical features 1.0986"* ]]
