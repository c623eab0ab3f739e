// Augmentations applied to a whole batch at once with tensor operations (never image by image): random
// pad-and-crop, horizontal flip, Cutout and normalisation. Random parameters are drawn from an explicit Rng
// on the CPU, then the work runs on the images' device. Not here: SimAugment, RandAugment (later issues).
#pragma once

#include <torch/types.h>

#include <vector>

#include "smcl/config/config.h"
#include "smcl/core/rng.h"

namespace smcl::augment {

// images [B, C, H, W] (any dtype) -> same shape: each image zero-padded by `padding` on every side, then
// cropped back to H x W at an offset uniform in [0, 2 * padding]^2 (torchvision RandomCrop(size, padding)).
torch::Tensor random_crop(const torch::Tensor& images, int64_t padding, Rng& rng);

// images [B, C, H, W] -> each image mirrored left-right with probability 1/2.
torch::Tensor random_flip(const torch::Tensor& images, Rng& rng);

// images [B, C, H, W] -> each image with one size x size hole set to 0, centred uniformly over the image and
// clipped at the borders (DeVries & Taylor's Cutout).
torch::Tensor cutout(const torch::Tensor& images, int64_t size, Rng& rng);

// images [B, C, H, W] uint8 -> float32 (x / 255 - mean[c]) / std[c]. mean and std have C entries.
torch::Tensor normalize(const torch::Tensor& images, const std::vector<double>& mean, const std::vector<double>& std);

// The random part of config.augment's training view: crop, flip, cutout (each when enabled), on the images'
// own dtype and device. images [B, C, H, W] -> same shape.
torch::Tensor random_view(const torch::Tensor& images, const config::AugmentConfig& config, Rng& rng);

// The training view of config.augment: random_view, then normalize.
// images [B, C, H, W] uint8 -> [B, C, H, W] float32 on the same device.
torch::Tensor train_view(const torch::Tensor& images, const config::AugmentConfig& config, Rng& rng);

}  // namespace smcl::augment
