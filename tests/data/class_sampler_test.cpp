#include "smcl/data/class_sampler.h"

#include <gtest/gtest.h>

#include <cmath>

#include "smcl/core/error.h"

namespace smcl::data {

TEST(ClassSampler, ProbabilitiesFollowTheirClosedForms) {
  std::vector<int64_t> counts{100, 10, 1};
  // effective number with beta 0.5: 1/E_k = 0.5 / (1 - 0.5^n): 0.5, 0.5 / (1 - 2^-10), 1.
  auto p = class_probabilities(config::SamplerName::kEffectiveNumber, counts, 0.5, 0);
  double w0 = 0.5, w1 = 0.5 / (1 - std::pow(0.5, 10)), w2 = 1.0, total = w0 + w1 + w2;
  EXPECT_NEAR(p[0], w0 / total, 1e-12);
  EXPECT_NEAR(p[1], w1 / total, 1e-12);
  EXPECT_NEAR(p[2], w2 / total, 1e-12);
  auto balanced = class_probabilities(config::SamplerName::kClassBalanced, counts, 0.5, 0);
  for (double v : balanced) EXPECT_NEAR(v, 1.0 / 3, 1e-12);
  // inverse_power with power 1 is class-balanced; with power 0 it is instance sampling (p_k = n_k / N).
  auto instance = class_probabilities(config::SamplerName::kInversePower, counts, 0, 0);
  EXPECT_NEAR(instance[0], 100.0 / 111, 1e-12);
  EXPECT_NEAR(instance[2], 1.0 / 111, 1e-12);
  auto half = class_probabilities(config::SamplerName::kInversePower, counts, 0, 0.5);
  EXPECT_NEAR(half[1], std::sqrt(10.0) / (10 + std::sqrt(10.0) + 1), 1e-12);
  EXPECT_THROW(class_probabilities(config::SamplerName::kClassBalanced, {5, 0}, 0.5, 0), Error);
}

TEST(ClassSampler, DrawsFollowTheClassProbabilitiesChiSquare) {
  // Fashion-MNIST-LT counts, effective number with beta 0.9999 (SMCL's default).
  std::vector<int64_t> counts{6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60};
  std::vector<int64_t> labels;
  for (size_t k = 0; k < counts.size(); ++k) labels.insert(labels.end(), size_t(counts[k]), int64_t(k));
  auto label_tensor = torch::tensor(labels, torch::kInt64);
  auto p = class_probabilities(config::SamplerName::kEffectiveNumber, counts, 0.9999, 0);
  ClassWeightedSampler sampler(label_tensor, p);
  Rng rng(11);
  const int64_t n = 200000;
  std::vector<int64_t> observed(counts.size(), 0), per_image(labels.size(), 0);
  for (int64_t index : sampler.sample(n, rng)) {
    ++observed[size_t(labels[size_t(index)])];
    ++per_image[size_t(index)];
  }
  double chi2 = 0;
  for (size_t k = 0; k < counts.size(); ++k) {
    double expected = double(n) * p[k];
    chi2 += (double(observed[k]) - expected) * (double(observed[k]) - expected) / expected;
  }
  // 9 degrees of freedom: P(chi2 > 27.88) = 0.001.
  EXPECT_LT(chi2, 27.88) << "chi-square " << chi2;
  // Within class 9 (60 images, about 35,000 draws) every image is drawn: uniform within the class.
  for (size_t i = labels.size() - 60; i < labels.size(); ++i) EXPECT_GT(per_image[i], 0);
}

}  // namespace smcl::data
