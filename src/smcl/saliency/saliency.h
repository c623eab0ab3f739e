// Saliency maps and their peaks (SPEC section 3), for whole batches with tensor operations so that they run
// wherever the images are (CPU or GPU). SMCL puts the mask box at the peak of a map.
#pragma once

#include <torch/types.h>

#include "smcl/core/rng.h"

namespace smcl::saliency {

// OpenCV's StaticSaliencyFineGrained (Montabone & Soto 2010) re-implemented for a batch.
// images [B, C, H, W] uint8, C = 1 (used as is) or 3 (RGB: gray = 0.299 R + 0.587 G + 0.114 B, as OpenCV's
// BGR2GRAY of the BGR-ordered image) -> [B, H, W] float32 in [0, 1]: OpenCV's uint8 map divided by 255.
// Integer and float32 steps follow OpenCV's arithmetic, so the maps agree with OpenCV's value for value
// (up to float rounding in OpenCV's integral image for images above 65,793 pixels, where ours stays exact).
torch::Tensor fine_grained(const torch::Tensor& images);

// Whether this build has OpenCV's saliency module (fine_grained_opencv works).
bool opencv_available();

// The same map computed by OpenCV itself, image by image on the CPU: the slower reference mode
// (`smcl.saliency: fine_grained_opencv`). Throws smcl::Error when the build has no OpenCV.
torch::Tensor fine_grained_opencv(const torch::Tensor& images);

// Class activation maps (Zhou et al. 2016) for the given labels: ReLU(sum_d w[y, d] * F[:, d]) upsampled
// bilinearly to height x width and divided by each map's maximum (an all-zero map stays zero).
// feature_map [B, D, h, w], classifier_weight [K, D], labels [B] int64 -> [B, height, width] float32.
torch::Tensor class_activation_map(const torch::Tensor& feature_map, const torch::Tensor& classifier_weight,
                                   const torch::Tensor& labels, int64_t height, int64_t width);

// maps [B, H, W] -> [B, 2] int64 (row, column) of each map's first maximum in row-major order.
torch::Tensor peaks(const torch::Tensor& maps);

// The peaks of the ablations of the paper's Table 3, [B, 2] int64 (row, column) on the CPU:
// the image centre (H / 2, W / 2), and a uniform random pixel per image.
torch::Tensor center_peaks(int64_t batch, int64_t height, int64_t width);
torch::Tensor random_peaks(int64_t batch, int64_t height, int64_t width, Rng& rng);

}  // namespace smcl::saliency
