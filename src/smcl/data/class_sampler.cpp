#include "smcl/data/class_sampler.h"

#include <algorithm>
#include <cmath>

#include "smcl/core/error.h"

namespace smcl::data {

std::vector<double> class_probabilities(config::SamplerName sampler, const std::vector<int64_t>& counts, double beta,
                                        double power) {
  std::vector<double> weights;
  for (int64_t n : counts) {
    SMCL_CHECK(n > 0, "minor-weighted sampling needs at least one training image per class; a class has " << n);
    switch (sampler) {
      case config::SamplerName::kEffectiveNumber:
        weights.push_back((1.0 - beta) / (1.0 - std::pow(beta, double(n))));  // 1 / E_k
        break;
      case config::SamplerName::kClassBalanced: weights.push_back(1.0); break;
      case config::SamplerName::kInversePower: weights.push_back(std::pow(double(n), 1.0 - power)); break;
    }
  }
  double total = 0;
  for (double w : weights) total += w;
  for (double& w : weights) w /= total;
  return weights;
}

ClassWeightedSampler::ClassWeightedSampler(const torch::Tensor& labels, const std::vector<double>& probabilities) {
  auto cpu = labels.to(torch::kCPU, torch::kInt64).contiguous();
  by_class_.resize(probabilities.size());
  const int64_t* y = cpu.data_ptr<int64_t>();
  for (int64_t i = 0; i < cpu.numel(); ++i) {
    SMCL_ASSERT(y[i] >= 0 && size_t(y[i]) < by_class_.size());
    by_class_[size_t(y[i])].push_back(i);
  }
  double sum = 0;
  for (size_t k = 0; k < probabilities.size(); ++k) {
    SMCL_ASSERT(probabilities[k] == 0 || !by_class_[k].empty(), "class " << k << " has a probability but no image");
    sum += probabilities[k];
    cumulative_.push_back(sum);
  }
  SMCL_ASSERT(std::abs(sum - 1.0) < 1e-9, "class probabilities sum to " << sum);
}

std::vector<int64_t> ClassWeightedSampler::sample(int64_t n, Rng& rng) const {
  std::vector<int64_t> out;
  out.reserve(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    double u = rng.uniform() * cumulative_.back();
    size_t k = size_t(std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin());
    // upper_bound never lands on a zero-probability class; the clamp covers u rounding up to the total.
    k = std::min(k, by_class_.size() - 1);
    out.push_back(by_class_[k][size_t(rng.uniform_int(int64_t(by_class_[k].size())))]);
  }
  return out;
}

}  // namespace smcl::data
