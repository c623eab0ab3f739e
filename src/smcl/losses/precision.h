// Losses in float32 under mixed precision (train.amp): the model runs under autocast, but every loss turns it
// off for its own computation and takes half-precision inputs (float16, bfloat16) as float32, as PyTorch's
// autocast does for its float32 list (softmax, cross-entropy) and as SupCon's similarity matrix needs (a
// bfloat16 dot product of unit vectors keeps 3 significant digits, divided by the temperature 0.07).
// Without autocast nothing changes: float32 and float64 inputs stay as they are.
#pragma once

#include <torch/types.h>

#include "smcl/core/torch_compat.h"

namespace smcl::losses {

inline torch::Tensor at_least_float32(const torch::Tensor& t) {
  const auto type = t.scalar_type();
  return type == torch::kHalf || type == torch::kBFloat16 ? t.to(torch::kFloat) : t;
}

}  // namespace smcl::losses
