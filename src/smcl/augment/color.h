// SimAugment's colour part for a whole batch (SupCon's CIFAR view; SPEC section 7): torchvision's ColorJitter
// (brightness, contrast, saturation, hue, in a random order per image) applied with a probability, then
// RandomGrayscale. The operations are torchvision's tensor functions on float images in [0, 1], each image
// with its own factors; a uint8 batch is converted once and rounded back once. Not here: geometric views.
#pragma once

#include <torch/types.h>

#include <vector>

#include "smcl/core/rng.h"

namespace smcl::augment {

// images [B, C, H, W] float in [0, 1] (C = 1 or 3); factors [B] float on the images' device. Each returns the
// same shape, clamped to [0, 1], as torchvision.transforms.functional does per image.
torch::Tensor adjust_brightness(const torch::Tensor& images, const torch::Tensor& factors);
torch::Tensor adjust_contrast(const torch::Tensor& images, const torch::Tensor& factors);
torch::Tensor adjust_saturation(const torch::Tensor& images, const torch::Tensor& factors);  // C = 1: unchanged
torch::Tensor adjust_hue(const torch::Tensor& images, const torch::Tensor& shifts);          // shifts in [-0.5, 0.5]
// ITU-R 601 luma 0.2989 R + 0.587 G + 0.114 B, [B, 3, H, W] -> [B, 1, H, W] (C = 1: the images themselves).
torch::Tensor grayscale(const torch::Tensor& images);

// strength: {brightness, contrast, saturation, hue} as torchvision's ColorJitter arguments (factors uniform in
// [max(0, 1 - s), 1 + s], hue shift in [-h, h]). Per image, in order: with probability jitter_prob a random
// order of the four and their factors; then with probability gray_prob grayscale on every channel.
// images [B, C, H, W] uint8 -> same shape and dtype.
torch::Tensor color_augment(const torch::Tensor& images, const std::vector<double>& strength, double jitter_prob,
                            double gray_prob, Rng& rng);

}  // namespace smcl::augment
