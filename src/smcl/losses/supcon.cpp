#include "smcl/losses/supcon.h"

#include "smcl/core/error.h"
#include "smcl/losses/pairwise_dot.h"
#include "smcl/losses/precision.h"

namespace smcl::losses {

torch::Tensor supcon(const torch::Tensor& projections, const torch::Tensor& labels, double temperature,
                     double base_temperature) {
  SMCL_ASSERT(projections.dim() == 2 && labels.dim() == 1 && labels.size(0) == projections.size(0),
              "supcon: features " << projections.sizes() << ", labels " << labels.sizes());
  const AutocastPause full_precision(projections.device().type());
  const auto features = at_least_float32(projections);
  const int64_t n = features.size(0);
  if (n < 2) return features.sum() * 0.0;                        // no pairs at all
  auto logits = pairwise_dot(features, features) / temperature;  // [N, N]
  // Subtracting the row maximum changes no log-probability and keeps exp() finite.
  logits = logits - std::get<0>(logits.max(1, /*keepdim=*/true)).detach();
  auto self = torch::eye(n, torch::TensorOptions(torch::kBool).device(features.device()));
  auto positives = labels.unsqueeze(1).eq(labels.unsqueeze(0)).logical_and(self.logical_not());
  // log of the softmax over q != a: the anchor itself is left out of the denominator.
  auto denominator = logits.exp().masked_fill(self, 0.0).sum(1, /*keepdim=*/true);
  auto log_prob = logits - denominator.log();
  auto positive_count = positives.sum(1).to(features.scalar_type());
  auto mean_log_prob_pos = log_prob.masked_fill(positives.logical_not(), 0.0).sum(1) / positive_count.clamp_min(1.0);
  return -(temperature / base_temperature) * mean_log_prob_pos.mean();
}

}  // namespace smcl::losses
