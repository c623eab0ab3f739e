// RandAugment as timm's `rand-n{N}-m{M}-mstd{S}` (SPEC section 7, the ImageNet-LT recipe of CMO and SMCL): per
// image, N operations drawn uniformly with replacement from 15, each applied with probability 1/2 at a magnitude
// drawn from N(M, S) clipped to [0, 10]. Every operation reproduces what timm's PIL code computes (ImageOps,
// ImageEnhance, Image.transform with bilinear resampling; tested against PIL), on uint8 batches with one
// argument per image. Deliberate difference: timm picks bilinear or bicubic at random for the geometric
// operations; these use bilinear. Grayscale images are filled with 124 where colour images get
// (124, 116, 104).
#pragma once

#include <torch/types.h>

#include <array>
#include <string>
#include <vector>

#include "smcl/core/rng.h"

namespace smcl::augment {

// The operations, in timm's order.
const std::vector<std::string>& rand_augment_ops();

// Operation `op` on images [N, C, H, W] uint8 (C = 1 or 3) with one argument per image (values [N], double),
// the argument after timm's level_to_arg (signs applied): AutoContrast, Equalize, Invert: ignored; Posterize:
// bits kept; Solarize: threshold; SolarizeAdd: amount added below 128; Color, Contrast, Brightness, Sharpness:
// enhancement factor; Rotate: degrees counter-clockwise; ShearX/Y: shear factor; TranslateX/Y: share of the
// width / height. -> same shape, uint8. Throws smcl::Error on an unknown name.
torch::Tensor rand_augment_op(const std::string& op, const torch::Tensor& images, const std::vector<double>& values);

// timm's level_to_arg: the argument of `op` at magnitude m in [0, 10] (before the random sign of the signed ones),
// and whether it is signed.
double rand_augment_argument(const std::string& op, double magnitude, bool* is_signed);

// RandAugment of a batch: images [B, C, H, W] uint8 -> same. n 0: unchanged, nothing drawn.
torch::Tensor rand_augment(const torch::Tensor& images, int64_t n, double magnitude, double magnitude_std, Rng& rng);

// AutoAugment's CIFAR-10 policy (Cubuk et al., "AutoAugment", CVPR 2019) as torchvision 0.14 defines it
// (transforms.AutoAugment(AutoAugmentPolicy.CIFAR10) on PIL images): per image, one of the 25 sub-policies
// uniformly; each of its two operations applies with its probability, at its magnitude bin of torchvision's 10
// (_augmentation_space for the image's size), signed ones with a random sign. Every operation reproduces what
// torchvision's _apply_op computes on a PIL image with nearest resampling and no fill (black), tested against it:
// the colour ones as PIL's ImageEnhance and ImageOps (shared with RandAugment's), the geometric ones as PIL's
// nearest-neighbour affine transform (its 16.16 fixed-point arithmetic, and its exact path for translations).
struct AutoAugmentStep {
  std::string op;
  double probability;
  int bin;  // magnitude bin in [0, 10); -1: the operation takes none
};
const std::vector<std::array<AutoAugmentStep, 2>>& auto_augment_cifar10_policy();

// torchvision's magnitude of `op` at `bin` for an image of height x width (its float32 linspace values), before the
// sign; *is_signed: whether the sign is random.
double auto_augment_magnitude(const std::string& op, int bin, int64_t height, int64_t width, bool* is_signed);

// torchvision's _apply_op(img, op, magnitude, NEAREST, fill None) on images [N, C, H, W] uint8 (C = 1 or 3), one
// signed magnitude per image -> same shape. Throws smcl::Error on an unknown name.
torch::Tensor auto_augment_op(const std::string& op, const torch::Tensor& images,
                              const std::vector<double>& magnitudes);

// The CIFAR-10 policy on a batch: images [B, C, H, W] uint8 -> same; per image, its sub-policy, then for each step
// whether it applies and its sign, drawn from rng in image order.
torch::Tensor auto_augment_cifar10(const torch::Tensor& images, Rng& rng);

}  // namespace smcl::augment
