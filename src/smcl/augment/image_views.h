// Square views of decoded images of any size (file-backed sets), as torchvision makes them from tensors:
// RandomResizedCrop for training, Resize + CenterCrop for testing, bilinear with antialiasing, rounded back to
// uint8. One image at a time (the sizes differ), on worker threads for a batch. Not here: the batched
// transforms that follow (batch_transforms.h).
#pragma once

#include <torch/types.h>

#include <vector>

#include "smcl/core/rng.h"

namespace smcl::augment {

struct CropBox {
  int64_t top = 0, left = 0, height = 0, width = 0;
};

// torchvision's RandomResizedCrop.get_params for an image of height x width: up to 10 tries of an area share
// uniform in scale [min, max] and a log-uniform aspect ratio in ratio [min, max]; the first box that fits is
// placed uniformly; otherwise the central crop with the ratio clamped into range.
CropBox random_resized_crop_box(int64_t height, int64_t width, const std::vector<double>& scale,
                                const std::vector<double>& ratio, Rng& rng);

// image [C, H, W] uint8 -> [C, out_h, out_w] uint8: the box cut out and resized, bilinear with antialiasing
// (torchvision's resized_crop(..., antialias=True) on a uint8 tensor).
torch::Tensor resized_crop(const torch::Tensor& image, const CropBox& box, int64_t out_h, int64_t out_w);

// image [C, H, W] uint8 -> [C, side, side] uint8: shorter side resized to int(side / crop) keeping the aspect
// ratio (torchvision Resize(int)), then the centre side x side crop (CenterCrop). crop in (0, 1].
torch::Tensor center_view(const torch::Tensor& image, int64_t side, double crop);

// Every image of `images` as a random resized crop of side x side: boxes drawn from rng in order, resizing on
// `threads` threads (0: all cores). -> [B, C, side, side] uint8 on the CPU.
torch::Tensor random_resized_crops(const std::vector<torch::Tensor>& images, int64_t side,
                                   const std::vector<double>& scale, const std::vector<double>& ratio, Rng& rng,
                                   int64_t threads);

// center_view of every image -> [B, C, side, side] uint8 on the CPU.
torch::Tensor center_views(const std::vector<torch::Tensor>& images, int64_t side, double crop, int64_t threads);

}  // namespace smcl::augment
