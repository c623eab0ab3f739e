// Supervised contrastive loss (Khosla et al. 2020, "all" anchors), as SPEC section 4 defines it.
#pragma once

#include <torch/types.h>

namespace smcl::losses {

// features [N, D] float, L2-normalised rows; labels [N] int64 on the same device.
// L = (temperature / base_temperature) * mean over all N anchors a of
//     -1/|P(a)| * sum_{p in P(a)} log( exp(v_a.v_p / t) / sum_{q != a} exp(v_a.v_q / t) ),
// P(a) = the other samples with a's label. An anchor without a positive contributes 0 (never NaN); N < 2
// gives 0. Stabilised by subtracting each row's maximum. Returns a differentiable scalar, computed in float32
// at least, also inside an autocast step (losses/precision.h).
torch::Tensor supcon(const torch::Tensor& features, const torch::Tensor& labels, double temperature,
                     double base_temperature);

}  // namespace smcl::losses
