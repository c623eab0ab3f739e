#include "smcl/losses/supcon.h"

#include <gtest/gtest.h>

#include "reference_model.h"
#include "test_util.h"

namespace smcl::losses {
namespace {

using test::matrix;

}  // namespace

TEST(SupCon, ValuesAndGradientsMatchTheReference) {
  // Golden: tests/reference/make_supcon_golden.py, the formula written pair by pair in float64 + autograd.
  for (const auto& c : test::read_json(test::golden("supcon.json"))) {
    auto labels = torch::tensor(c["labels"].get<std::vector<int64_t>>(), torch::kInt64);
    auto expected_grad = matrix(c["grad"]);
    const double expected = c["loss"];
    for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
      const double tolerance = dtype == torch::kFloat64 ? 1e-10 : 1e-5;
      auto features = matrix(c["features"]).to(dtype).requires_grad_(true);
      auto loss = supcon(features, labels, c["temperature"], c["base_temperature"]);
      loss.backward();
      EXPECT_NEAR(loss.item<double>(), expected, tolerance * std::max(1.0, std::abs(expected)));
      EXPECT_TRUE(torch::allclose(features.grad().to(torch::kFloat64), expected_grad, 0, tolerance))
          << "max difference " << (features.grad().to(torch::kFloat64) - expected_grad).abs().max().item<double>();
    }
  }
}

TEST(SupCon, NeverNaNWithoutPositivesOrWithIdenticalFeatures) {
  auto same = torch::ones({4, 3}, torch::kFloat32) / std::sqrt(3.0f);
  same.requires_grad_(true);
  auto loss = supcon(same, torch::tensor(std::vector<int64_t>{0, 1, 2, 3}), 0.07, 0.07);
  loss.backward();
  EXPECT_EQ(loss.item<float>(), 0.0f);
  EXPECT_FALSE(same.grad().isnan().any().item<bool>());
  // One sample: no pairs at all.
  auto one = torch::ones({1, 3}, torch::kFloat32).requires_grad_(true);
  EXPECT_EQ(supcon(one, torch::tensor(std::vector<int64_t>{5}), 0.07, 0.07).item<float>(), 0.0f);
  // Identical features, all positives: every logit ties, log(1 / (N - 1)) per pair.
  auto tied = supcon(torch::ones({5, 2}) / std::sqrt(2.0f), torch::zeros({5}, torch::kInt64), 0.07, 0.07);
  EXPECT_NEAR(tied.item<float>(), std::log(4.0f), 1e-5);
}

}  // namespace smcl::losses
