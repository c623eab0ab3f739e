// Long-tailed training subsets exactly as SPEC section 1: class sizes from the exponential or step profile,
// and the kept images chosen by numpy's legacy seeded shuffle, so the subset is index-for-index the one the
// Python codebases (LDAM-DRW, CMO, ...) train on.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "smcl/config/choices.h"

namespace smcl::data {

// n_k for k = 0..K-1. exp: floor(n_max * (1/rho)^(k/(K-1))); step: n_max for the first floor(K/2) classes,
// floor(n_max / rho) for the rest.
std::vector<int64_t> long_tail_counts(config::Profile profile, int64_t num_classes, int64_t max_per_class,
                                      double imbalance_ratio);

// Original indices kept, in training-set order: for each class k in order, the indices of class k in file
// order, shuffled by numpy.random.RandomState(seed) (state carried over between classes), first counts[k].
// labels: [N] int64. Throws smcl::Error when a class has fewer images than counts[k].
std::vector<int64_t> long_tail_indices(const torch::Tensor& labels, const std::vector<int64_t>& counts, uint32_t seed);

// Many / medium / few group of each class (0, 1, 2): many if count > many_threshold, few if < few_threshold.
std::vector<int> shot_groups(const std::vector<int64_t>& counts, int64_t many_threshold, int64_t few_threshold);

}  // namespace smcl::data
