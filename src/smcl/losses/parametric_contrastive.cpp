#include "smcl/losses/parametric_contrastive.h"

#include "smcl/core/error.h"
#include "smcl/losses/classification.h"
#include "smcl/losses/pairwise_dot.h"
#include "smcl/losses/precision.h"

namespace smcl::losses {

torch::Tensor parametric_contrastive(const torch::Tensor& anchors_in, const torch::Tensor& labels,
                                     const torch::Tensor& logits_in, const torch::Tensor& log_prior,
                                     const ParametricContrastiveOptions& options, const torch::Tensor& queue,
                                     const torch::Tensor& queue_labels) {
  const int64_t n = anchors_in.size(0), k = logits_in.size(1);
  SMCL_ASSERT(anchors_in.dim() == 2 && logits_in.dim() == 2 && logits_in.size(0) == n && labels.dim() == 1 &&
                  labels.size(0) == n && log_prior.numel() == k,
              "parametric_contrastive: anchors " << anchors_in.sizes() << ", labels " << labels.sizes() << ", logits "
                                                 << logits_in.sizes() << ", log_prior " << log_prior.sizes());
  SMCL_ASSERT(queue.defined() == queue_labels.defined() &&
                  (!queue.defined() || (queue.dim() == 2 && queue.size(1) == anchors_in.size(1) &&
                                        queue_labels.dim() == 1 && queue_labels.size(0) == queue.size(0))),
              "parametric_contrastive: queue " << queue.sizes() << ", queue_labels " << queue_labels.sizes());
  const AutocastPause full_precision(anchors_in.device().type());
  const auto anchors = at_least_float32(anchors_in);
  const auto type = anchors.scalar_type();
  const auto centre_logits =
      (at_least_float32(logits_in).to(type) + log_prior.to(anchors.device(), type).unsqueeze(0)) /
      options.centre_temperature;  // [N, K]
  // The samples: the anchors themselves, then the queued keys. [N, S], S = N + Q.
  const auto samples = queue.defined() ? torch::cat({anchors, queue.detach().to(type)}) : anchors;
  const auto sample_labels = queue.defined() ? torch::cat({labels, queue_labels}) : labels;
  const int64_t s = samples.size(0);
  const auto sample_logits = pairwise_dot(anchors, samples) / options.temperature;  // [N, S]
  auto all = torch::cat({centre_logits, sample_logits}, 1);                         // [N, K + S]
  // Subtracting the row maximum changes no log-probability and keeps exp() finite.
  all = all - std::get<0>(all.max(1, /*keepdim=*/true)).detach();

  const auto device = anchors.device();
  const auto not_self = torch::eye(n, s, torch::TensorOptions(torch::kBool).device(device)).logical_not();  // [N, S]
  const auto same = labels.unsqueeze(1).eq(sample_labels.unsqueeze(0)).logical_and(not_self);               // [N, S]
  const auto own_centre = one_hot(labels, k, type);                                                         // [N, K]
  const auto positives = torch::cat({options.beta * own_centre, options.alpha * same.to(type)}, 1);
  const auto in_denominator =
      torch::cat({torch::ones({n, k}, anchors.options()), options.gamma * not_self.to(type)}, 1);

  const auto log_denominator = (all.exp() * in_denominator).sum(1, /*keepdim=*/true).log();
  const auto log_prob = all - log_denominator;
  return -((positives * log_prob).sum(1) / positives.sum(1)).mean();
}

}  // namespace smcl::losses
