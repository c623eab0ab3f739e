#include "smcl/data/long_tail.h"

#include <cmath>

#include "smcl/core/error.h"
#include "smcl/core/rng.h"
#include "smcl/data/dataset.h"

namespace smcl::data {

std::vector<int64_t> long_tail_counts(config::Profile profile, int64_t num_classes, int64_t max_per_class,
                                      double imbalance_ratio) {
  std::vector<int64_t> counts;
  for (int64_t k = 0; k < num_classes; ++k) {
    switch (profile) {
      case config::Profile::kExp: {
        // Evaluated in the same order as the Python codebases (n_max * imb_factor ** (k / (K - 1.0))) so that
        // the floor lands on the same integer.
        double exponent = num_classes > 1 ? double(k) / (double(num_classes) - 1.0) : 0.0;
        counts.push_back(int64_t(double(max_per_class) * std::pow(1.0 / imbalance_ratio, exponent)));
        break;
      }
      case config::Profile::kStep:
        counts.push_back(k < num_classes / 2 ? max_per_class : int64_t(double(max_per_class) / imbalance_ratio));
        break;
    }
  }
  return counts;
}

std::vector<int64_t> long_tail_indices(const torch::Tensor& labels, const std::vector<int64_t>& counts, uint32_t seed) {
  const std::vector<int64_t> values = to_host_vector(labels);
  std::vector<std::vector<int64_t>> by_class(counts.size());
  for (int64_t i = 0; i < int64_t(values.size()); ++i) {
    SMCL_ASSERT(values[i] >= 0 && size_t(values[i]) < counts.size());
    by_class[size_t(values[i])].push_back(i);
  }
  NumpyLegacyRng rng(seed);
  std::vector<int64_t> kept;
  for (size_t k = 0; k < counts.size(); ++k) {
    auto& indices = by_class[k];
    SMCL_CHECK(int64_t(indices.size()) >= counts[k], "class " << k << " has " << indices.size()
                                                              << " training images but the long-tail profile asks for "
                                                              << counts[k] << "; lower data.max_per_class");
    rng.shuffle(indices);
    kept.insert(kept.end(), indices.begin(), indices.begin() + counts[k]);
  }
  return kept;
}

std::vector<int> shot_groups(const std::vector<int64_t>& counts, int64_t many_threshold, int64_t few_threshold) {
  std::vector<int> groups;
  for (int64_t n : counts) groups.push_back(n > many_threshold ? 0 : (n < few_threshold ? 2 : 1));
  return groups;
}

}  // namespace smcl::data
