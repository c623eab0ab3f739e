#include "smcl/losses/balanced_contrastive.h"

#include "smcl/core/error.h"
#include "smcl/losses/pairwise_dot.h"
#include "smcl/losses/precision.h"

namespace smcl::losses {

torch::Tensor balanced_contrastive(const torch::Tensor& anchors_in, const torch::Tensor& labels,
                                   const torch::Tensor& prototypes_in, double temperature) {
  SMCL_ASSERT(anchors_in.dim() == 2 && prototypes_in.dim() == 2 && anchors_in.size(1) == prototypes_in.size(1) &&
                  labels.dim() == 1 && labels.size(0) == anchors_in.size(0),
              "balanced_contrastive: anchors " << anchors_in.sizes() << ", labels " << labels.sizes() << ", prototypes "
                                               << prototypes_in.sizes());
  const AutocastPause full_precision(anchors_in.device().type());
  const auto anchors = at_least_float32(anchors_in);
  const auto prototypes = at_least_float32(prototypes_in).to(anchors.scalar_type());
  const int64_t n = anchors.size(0), k = prototypes.size(0);
  auto options = torch::TensorOptions(torch::kInt64).device(anchors.device());
  auto contrast = torch::cat({anchors, prototypes});                       // [N + K, D]
  auto contrast_labels = torch::cat({labels, torch::arange(k, options)});  // [N + K]
  auto logits = pairwise_dot(anchors, contrast) / temperature;             // [N, N + K]
  // Subtracting the row maximum changes no log-probability and keeps exp() finite.
  logits = logits - std::get<0>(logits.max(1, /*keepdim=*/true)).detach();
  auto self = torch::eye(n, n + k, torch::TensorOptions(torch::kBool).device(anchors.device()));
  auto same = labels.unsqueeze(1).eq(contrast_labels.unsqueeze(0));  // [N, N + K]
  auto positives = same.logical_and(self.logical_not());
  // n_{y_c}, [N + K]: the contrast samples of each one's class, counted by comparison rather than bincount, which
  // reads its input's range back to the host on CUDA (a sync that a CUDA graph's capture cannot hold).
  auto members = contrast_labels.unsqueeze(1).eq(contrast_labels.unsqueeze(0)).sum(1);
  auto averaging = members.unsqueeze(0).to(logits.scalar_type()) - positives.to(logits.scalar_type());
  auto denominator = (logits.exp() / averaging).masked_fill(self, 0.0).sum(1, /*keepdim=*/true);
  auto log_prob = logits - denominator.log();
  auto mean_log_prob_pos =
      log_prob.masked_fill(positives.logical_not(), 0.0).sum(1) / positives.sum(1).to(logits.scalar_type());
  return -mean_log_prob_pos.mean();
}

}  // namespace smcl::losses
