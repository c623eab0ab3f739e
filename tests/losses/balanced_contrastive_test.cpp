#include "smcl/losses/balanced_contrastive.h"

#include <gtest/gtest.h>

#include "reference_model.h"
#include "smcl/core/torch_compat.h"
#include "test_util.h"

namespace smcl::losses {
namespace {

using test::matrix;

}  // namespace

// Golden: tests/reference/make_bcl_golden.py, the loss written anchor by anchor in float64, autograd gradients.
TEST(BalancedContrastive, ValuesAndGradientsMatchTheReference) {
  // The file held by name: a loop over a temporary's ["cases"] would read freed memory (and ran no case).
  const auto golden = test::read_json(test::golden("bcl.json"));
  ASSERT_GE(golden["cases"].size(), 4u);
  for (const auto& c : golden["cases"]) {
    auto labels = torch::tensor(c["labels"].get<std::vector<int64_t>>(), torch::kInt64);
    labels = torch::cat({labels, labels});  // the two views
    const double expected = c["value"];
    for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
      const double tolerance = dtype == torch::kFloat64 ? 1e-10 : 2e-5;
      auto anchors = matrix(c["anchors"]).to(dtype).requires_grad_(true);
      auto prototypes = matrix(c["prototypes"]).to(dtype).requires_grad_(true);
      auto loss = balanced_contrastive(anchors, labels, prototypes, c["temperature"]);
      loss.backward();
      EXPECT_NEAR(loss.item<double>(), expected, tolerance * std::max(1.0, std::abs(expected))) << dtype;
      EXPECT_TRUE(torch::allclose(anchors.grad().to(torch::kFloat64), matrix(c["grad_anchors"]), 0, tolerance))
          << dtype;
      EXPECT_TRUE(torch::allclose(prototypes.grad().to(torch::kFloat64), matrix(c["grad_prototypes"]), 0, tolerance))
          << dtype;
    }
  }
}

// Under autocast the similarities are computed in float32 from the bf16 projections, as the losses of
// losses/precision.h: the value equals the float32 loss of the same (bf16-rounded) inputs.
TEST(BalancedContrastive, UnderBf16AutocastItIsTheFloat32LossOfTheSameInputs) {
  torch::manual_seed(2);
  auto anchors =
      torch::nn::functional::normalize(torch::randn({12, 16}), torch::nn::functional::NormalizeFuncOptions().dim(1))
          .to(torch::kBFloat16);
  auto prototypes =
      torch::nn::functional::normalize(torch::randn({3, 16}), torch::nn::functional::NormalizeFuncOptions().dim(1))
          .to(torch::kBFloat16);
  auto labels = torch::tensor(std::vector<int64_t>{0, 1, 2, 0, 0, 1, 0, 1, 2, 0, 0, 1});
  auto reference = balanced_contrastive(anchors.to(torch::kFloat32), labels, prototypes.to(torch::kFloat32), 0.1);
  torch::Tensor value;
  {
    AutocastScope autocast(torch::kCPU, torch::kBFloat16, true);
    value = balanced_contrastive(anchors, labels, prototypes, 0.1);
  }
  EXPECT_EQ(value.scalar_type(), torch::kFloat32);
  EXPECT_EQ(value.item<double>(), reference.item<double>());
}

}  // namespace smcl::losses
