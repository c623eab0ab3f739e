// Augmentations applied to a whole batch at once with tensor operations (never image by image): random
// pad-and-crop, horizontal flip, Cutout and normalisation, and the views of a batch (in-memory sets: these
// alone; file sets: a random resized crop of each decoded image first, image_views.h). Random parameters are
// drawn from an explicit Rng on the CPU, then the work runs on the images' device. SimAugment's colour part is
// in color.h, RandAugment in rand_augment.h.
#pragma once

#include <torch/types.h>

#include <vector>

#include "smcl/config/config.h"
#include "smcl/core/rng.h"
#include "smcl/data/dataset.h"

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

// images [B, C, H, W] uint8 -> same shape: each image a random resized crop of itself back to H x W
// (torchvision's RandomResizedCrop: boxes drawn from rng in image order by random_resized_crop_box, bilinear
// resizing rounded to uint8), on the images' device.
torch::Tensor random_resized_crop(const torch::Tensor& images, const std::vector<double>& scale,
                                  const std::vector<double>& ratio, Rng& rng);

// The random part of config.augment's training view, uint8 [B, C, S, S] on the images' device: for in-memory
// images [B, C, S, S], pad-and-crop (crop_padding) or, with resized_crop, random_resized_crop (crop_scale,
// crop_ratio); for decoded files, a random resized crop of side images.side; then flip, AutoAugment and RandAugment
// (rand_augment.h), colour jitter and grayscale (color.h) and cutout, each when enabled.
torch::Tensor random_view(const data::Images& images, const config::AugmentConfig& config, Rng& rng);

// The augmentation of one of a method's views: `run` (the run's augment section) itself, or a recipe of the
// methods' codebases on the run's normalisation, crop ratio and test view: simaugment (SPEC section 7:
// RandomResizedCrop 0.2-1, flip, colour jitter 0.4, 0.4, 0.4, 0.1 with p 0.8, grayscale p 0.2), autoaugment (GPaCo's
// query view: pad-4 crop, flip, AutoAugment's CIFAR-10 policy, Cutout 16), randaugment (BCL's classification view:
// RandomResizedCrop 0.08-1, flip, colour jitter 0.4, 0.4, 0.4, 0 always, RandAugment n 2 m 10 mstd 0.5; here the
// jitter comes after RandAugment, BCL's code has it before).
config::AugmentConfig view_augment(const config::AugmentConfig& run, config::ViewAugment view);

// The training view of config.augment: random_view, then normalize -> [B, C, S, S] float32.
torch::Tensor train_view(const data::Images& images, const config::AugmentConfig& config, Rng& rng);

// The test view, uint8 [B, C, S, S] on the images' device: in-memory images as they are; decoded files resized
// and centre-cropped to images.side (test_crop).
torch::Tensor test_view(const data::Images& images, const config::AugmentConfig& config);

}  // namespace smcl::augment
