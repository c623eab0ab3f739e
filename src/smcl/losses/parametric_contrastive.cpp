#include "smcl/losses/parametric_contrastive.h"

#include "smcl/core/error.h"
#include "smcl/losses/classification.h"
#include "smcl/losses/pairwise_dot.h"
#include "smcl/losses/precision.h"

namespace smcl::losses {

torch::Tensor parametric_contrastive(const torch::Tensor& anchors_in, const torch::Tensor& labels,
                                     const torch::Tensor& logits_in, const torch::Tensor& log_prior,
                                     const ParametricContrastiveOptions& options) {
  const int64_t n = anchors_in.size(0), k = logits_in.size(1);
  SMCL_ASSERT(anchors_in.dim() == 2 && logits_in.dim() == 2 && logits_in.size(0) == n && labels.dim() == 1 &&
                  labels.size(0) == n && log_prior.numel() == k,
              "parametric_contrastive: anchors " << anchors_in.sizes() << ", labels " << labels.sizes() << ", logits "
                                                 << logits_in.sizes() << ", log_prior " << log_prior.sizes());
  const AutocastPause full_precision(anchors_in.device().type());
  const auto anchors = at_least_float32(anchors_in);
  const auto type = anchors.scalar_type();
  const auto centre_logits =
      (at_least_float32(logits_in).to(type) + log_prior.to(anchors.device(), type).unsqueeze(0)) /
      options.centre_temperature;                                                   // [N, K]
  const auto sample_logits = pairwise_dot(anchors, anchors) / options.temperature;  // [N, N]
  auto all = torch::cat({centre_logits, sample_logits}, 1);                         // [N, K + N]
  // Subtracting the row maximum changes no log-probability and keeps exp() finite.
  all = all - std::get<0>(all.max(1, /*keepdim=*/true)).detach();

  const auto device = anchors.device();
  const auto not_self = torch::eye(n, torch::TensorOptions(torch::kBool).device(device)).logical_not();
  const auto same = labels.unsqueeze(1).eq(labels.unsqueeze(0)).logical_and(not_self);  // [N, N]
  const auto own_centre = one_hot(labels, k, type);                                     // [N, K]
  const auto positives = torch::cat({options.beta * own_centre, options.alpha * same.to(type)}, 1);
  const auto in_denominator =
      torch::cat({torch::ones({n, k}, anchors.options()), options.gamma * not_self.to(type)}, 1);

  const auto log_denominator = (all.exp() * in_denominator).sum(1, /*keepdim=*/true).log();
  const auto log_prob = all - log_denominator;
  return -((positives * log_prob).sum(1) / positives.sum(1)).mean();
}

}  // namespace smcl::losses
