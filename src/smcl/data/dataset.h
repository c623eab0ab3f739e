// An image classification set, in memory (every image as uint8 in one tensor) or backed by files (decoded when
// a batch is gathered), and the source images of one batch. Readers return sets; the loader and the methods
// gather batches from them; augment/ turns a batch into views.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "smcl/data/image_files.h"

namespace smcl::data {

struct Dataset {
  torch::Tensor images;                     // in-memory sets: [N, C, H, W] uint8, contiguous; else undefined
  std::shared_ptr<const ImageFiles> files;  // file-backed sets: one file per row; else null
  torch::Tensor labels;                     // [N] int64, values in [0, num_classes)
  int64_t num_classes = 0;

  int64_t size() const { return labels.size(0); }
  int64_t channels() const { return files ? files->channels() : images.size(1); }
};

// The source images of one batch, before augmentation.
struct Images {
  Images(torch::Tensor in_memory) : pixels(std::move(in_memory)) {}  // NOLINT: a batch of an in-memory set
  Images(std::vector<torch::Tensor> files, int64_t view_side, int64_t view_threads, torch::Device view_device)
      : decoded(std::move(files)), side(view_side), threads(view_threads), device(view_device) {}

  torch::Tensor pixels;                // in-memory sets: [B, C, H, W] uint8; else undefined
  std::vector<torch::Tensor> decoded;  // file-backed sets: [C, H_i, W_i] uint8 CPU each, any size
  int64_t side = 0;                    // file-backed sets: side of the square views made from them
  int64_t threads = 0;                 // file-backed sets: threads resizing them (0: all cores)
  torch::Device device = torch::kCPU;  // file-backed sets: where the views go

  int64_t size() const { return pixels.defined() ? pixels.size(0) : int64_t(decoded.size()); }
};

// The images of `indices` ([B] int64): rows of an in-memory set (on its device), or the decoded files (views
// then go to the device of `indices`). Throws smcl::Error naming a file that cannot be decoded.
Images gather(const Dataset& dataset, const torch::Tensor& indices);

// The same set with its labels, and an in-memory set's images, on `device` (a file set's images stay files).
Dataset to_device(const Dataset& dataset, const torch::Device& device);

// Dataset a restricted to the rows `indices` ([M] int64), in that order.
Dataset select(const Dataset& dataset, const torch::Tensor& indices);

// Images per class: [num_classes] counts.
std::vector<int64_t> class_counts(const Dataset& dataset);

// A 1-D integer tensor on any device (indices, labels, counts) as int64 values on the host.
std::vector<int64_t> to_host_vector(const torch::Tensor& values);

}  // namespace smcl::data
