// An in-memory image classification set: every image as uint8 in one tensor, labels as int64.
// This is the form the readers return and the loader gathers batches from; file-backed sets are elsewhere.
#pragma once

#include <torch/types.h>

#include <string>

namespace smcl::data {

struct Dataset {
  torch::Tensor images;  // [N, C, H, W] uint8, CPU, contiguous
  torch::Tensor labels;  // [N] int64, CPU, values in [0, num_classes)
  int64_t num_classes = 0;

  int64_t size() const { return labels.size(0); }
};

// Dataset a restricted to the rows `indices` ([M] int64), in that order.
Dataset select(const Dataset& dataset, const torch::Tensor& indices);

// Images per class: [num_classes] counts.
std::vector<int64_t> class_counts(const Dataset& dataset);

}  // namespace smcl::data
