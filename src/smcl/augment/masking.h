// The saliency mask of SMCL (SPEC section 3): a box centred on each image's saliency peak, whose side comes
// from u ~ Beta(a, a) drawn once per batch, and the masked image that pastes the target's pixels (or zeros)
// into it. lambda, the masked share of each image, weights the target label in SMCL's mixed losses.
#pragma once

#include <torch/types.h>

namespace smcl::augment {

struct MaskBoxes {
  torch::Tensor top, bottom;  // [B] int64: rows [top, bottom)
  torch::Tensor left, right;  // [B] int64: columns [left, right)
  torch::Tensor lambda;       // [B] float32: box area / (H * W), 0 for an empty box
};

// peaks [B, 2] int64 (row, column). Side c = floor(D * sqrt(u)) for D = height and width; rows
// [i - floor(c / 2), i + floor(c / 2)) clipped to [0, height], columns likewise. per_batch: every sample gets
// sample 0's box. The boxes are on the device of peaks.
MaskBoxes boxes_at(const torch::Tensor& peaks, double u, int64_t height, int64_t width, bool per_batch);

// [B, 1, H, W] bool: true inside each sample's box.
torch::Tensor box_mask(const MaskBoxes& boxes, int64_t height, int64_t width);

// source [B, C, H, W] float -> source outside each box and, inside it, fill's pixels at the same place
// (fill has source's shape) or 0 where fill is undefined (`mask_fill: zero`, zero after normalisation).
torch::Tensor masked_images(const torch::Tensor& source, const torch::Tensor& fill, const MaskBoxes& boxes);

}  // namespace smcl::augment
