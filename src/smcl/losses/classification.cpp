#include "smcl/losses/classification.h"

#include <torch/torch.h>

#include <cmath>

#include "smcl/core/error.h"
#include "smcl/losses/class_weights.h"
#include "smcl/losses/precision.h"

namespace smcl::losses {
namespace {

namespace F = torch::nn::functional;

torch::Tensor per_sample_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels) {
  return F::cross_entropy(logits, labels, F::CrossEntropyFuncOptions().reduction(torch::kNone));
}

}  // namespace

ClassificationLoss::ClassificationLoss(const config::LossConfig& config, const std::vector<int64_t>& counts,
                                       torch::Device device)
    : config_(config) {
  for (int64_t n : counts) {
    SMCL_CHECK(n > 0, "loss '" << config::name_of(config.name) << "' needs training images in every class");
  }
  double prior_power = 1.0;  // tau of the log-prior shift: 1 for balanced softmax
  switch (config.name) {
    case config::LossName::kCe:
    case config::LossName::kFocal: return;
    case config::LossName::kLdam: {
      // In double precision as the reference (numpy), then float32.
      std::vector<double> m;
      double largest = 0;
      for (int64_t n : counts) {
        m.push_back(1.0 / std::sqrt(std::sqrt(double(n))));
        largest = std::max(largest, m.back());
      }
      for (auto& v : m) v *= config.ldam_max_margin / largest;
      margins_ = torch::tensor(m, torch::kFloat64).to(device, torch::kFloat32);
      return;
    }
    case config::LossName::kLogitAdjusted: prior_power = config.la_tau; [[fallthrough]];
    case config::LossName::kBalancedSoftmax:
      log_prior_ = log_prior(counts, prior_power).to(device, torch::kFloat32);
      return;
  }
}

torch::Tensor ClassificationLoss::per_sample(const torch::Tensor& logits_in, const torch::Tensor& labels) const {
  const AutocastPause full_precision(logits_in.device().type());
  const auto logits = at_least_float32(logits_in);
  const auto name = config_.name;
  if (name == config::LossName::kCe) return per_sample_cross_entropy(logits, labels);
  if (name == config::LossName::kLdam) {
    auto targets = one_hot(labels, logits.size(1), logits.scalar_type());
    auto shifted = logits - targets * margins_.to(logits.device()).unsqueeze(0);
    return per_sample_cross_entropy(config_.ldam_scale * shifted, labels);
  }
  if (log_prior_.defined()) return per_sample_cross_entropy(logits + log_prior_.to(logits.device()), labels);
  // focal: BCE(z, t) = softplus(z) - t z; the modulator (1 - p_t)^gamma = exp(-gamma t z - gamma log(1 + e^-z)),
  // written with softplus so that large |z| stays finite.
  auto targets = one_hot(labels, logits.size(1), logits.scalar_type());
  auto bce = F::binary_cross_entropy_with_logits(logits, targets,
                                                 F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone));
  auto terms = bce;
  if (config_.focal_gamma != 0) {
    terms = torch::exp(-config_.focal_gamma * (targets * logits + torch::softplus(-logits))) * bce;
  }
  return terms.sum(1);
}

torch::Tensor ClassificationLoss::operator()(const torch::Tensor& logits, const torch::Tensor& labels,
                                             const torch::Tensor& class_weights, const torch::Tensor& share) const {
  const AutocastPause full_precision(logits.device().type());
  auto w = class_weights.index_select(0, labels);
  auto terms = (share.defined() ? share * w : w) * per_sample(logits, labels);
  if (config_.name == config::LossName::kFocal) return terms.sum() / double(labels.size(0));
  return terms.sum() / w.sum();
}

torch::Tensor ClassificationLoss::mixed(const torch::Tensor& logits, const torch::Tensor& labels_a,
                                        const torch::Tensor& labels_b, const torch::Tensor& lambda,
                                        const torch::Tensor& class_weights) const {
  return (*this)(logits, labels_a, class_weights, lambda) + (*this)(logits, labels_b, class_weights, 1 - lambda);
}

torch::Tensor one_hot(const torch::Tensor& labels, int64_t num_classes, torch::ScalarType dtype) {
  return labels.unsqueeze(1).eq(torch::arange(num_classes, labels.options())).to(dtype);
}

bool uses_cosine_classifier(const config::LossConfig& config) { return config.name == config::LossName::kLdam; }

std::optional<double> initial_classifier_bias(const config::LossConfig& config, int64_t num_classes) {
  if (config.name != config::LossName::kFocal) return std::nullopt;
  return -std::log(double(num_classes - 1));
}

}  // namespace smcl::losses
