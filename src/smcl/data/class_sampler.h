// Minor-weighted sampling (SPEC section 2): a class is drawn from class probabilities that favour the minor
// classes, then a uniform image of that class, with replacement. SMCL and CMO draw their targets this way;
// cRT and LWS use the class-balanced probabilities.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

#include "smcl/config/choices.h"
#include "smcl/core/rng.h"

namespace smcl::data {

// p_k for each class from the training counts n_k > 0:
//   effective_number: p_k proportional to 1 / E_k, E_k = (1 - beta^n_k) / (1 - beta), beta in [0, 1);
//   class_balanced:   p_k = 1 / K;
//   inverse_power:    p_k proportional to n_k^(1 - power) (each image weighted n_k^-power).
// Throws smcl::Error on a class without images.
std::vector<double> class_probabilities(config::SamplerName sampler, const std::vector<int64_t>& counts, double beta,
                                        double power);

class ClassWeightedSampler {
 public:
  // labels [N] int64 in [0, K); probabilities has K entries summing to 1, zero for classes without images.
  ClassWeightedSampler(const torch::Tensor& labels, const std::vector<double>& probabilities);
  // n dataset indices: for each, class k ~ p, then an image of class k uniformly.
  std::vector<int64_t> sample(int64_t n, Rng& rng) const;

 private:
  std::vector<std::vector<int64_t>> by_class_;
  std::vector<double> cumulative_;  // cumulative_[k] = p_0 + ... + p_k
};

}  // namespace smcl::data
