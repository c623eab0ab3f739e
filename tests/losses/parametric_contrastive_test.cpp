#include "smcl/losses/parametric_contrastive.h"

#include <gtest/gtest.h>

#include <cmath>

#include "reference_model.h"
#include "smcl/core/torch_compat.h"
#include "test_util.h"

namespace smcl::losses {
namespace {

using test::matrix;

}  // namespace

// Golden: tests/reference/make_gpaco_golden.py, the loss written anchor by anchor in float64, autograd gradients;
// two of its cases with a queue of earlier keys.
TEST(ParametricContrastive, ValuesAndGradientsMatchTheReference) {
  // The file held by name: a loop over a temporary's ["cases"] would read freed memory (and ran no case).
  const auto golden = test::read_json(test::golden("gpaco.json"));
  ASSERT_GE(golden["cases"].size(), 6u);
  for (const auto& c : golden["cases"]) {
    auto labels = torch::tensor(c["labels"].get<std::vector<int64_t>>(), torch::kInt64);
    labels = torch::cat({labels, labels});  // the two views
    std::vector<double> log_prior;
    double total = 0;
    for (double n : c["counts"].get<std::vector<double>>()) total += n;
    for (double n : c["counts"].get<std::vector<double>>()) log_prior.push_back(std::log(n / total));
    const ParametricContrastiveOptions options{c["alpha"], c["beta"], c["gamma"], c["temperature"],
                                               c["centre_temperature"]};
    const double expected = c["value"];
    for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
      const double tolerance = dtype == torch::kFloat64 ? 1e-10 : 2e-5;
      auto anchors = matrix(c["anchors"]).to(dtype).requires_grad_(true);
      auto logits = matrix(c["logits"]).to(dtype).requires_grad_(true);
      // The queued keys (cases with a queue): contrast samples of every anchor, never anchors.
      torch::Tensor queue, queue_labels;
      if (c.contains("queue")) {
        queue = matrix(c["queue"]).to(dtype);
        queue_labels = torch::tensor(c["queue_labels"].get<std::vector<int64_t>>(), torch::kInt64);
      }
      auto loss = parametric_contrastive(anchors, labels, logits, torch::tensor(log_prior, torch::kFloat64).to(dtype),
                                         options, queue, queue_labels);
      loss.backward();
      EXPECT_NEAR(loss.item<double>(), expected, tolerance * std::max(1.0, std::abs(expected))) << dtype;
      EXPECT_TRUE(torch::allclose(anchors.grad().to(torch::kFloat64), matrix(c["grad_anchors"]), 0, tolerance))
          << dtype;
      EXPECT_TRUE(torch::allclose(logits.grad().to(torch::kFloat64), matrix(c["grad_logits"]), 0, tolerance)) << dtype;
    }
  }
}

// Under autocast the loss is computed in float32 from the bf16 inputs, as the losses of losses/precision.h.
TEST(ParametricContrastive, UnderBf16AutocastItIsTheFloat32LossOfTheSameInputs) {
  torch::manual_seed(4);
  auto anchors =
      torch::nn::functional::normalize(torch::randn({12, 16}), torch::nn::functional::NormalizeFuncOptions().dim(1))
          .to(torch::kBFloat16);
  auto logits = torch::randn({12, 3}).to(torch::kBFloat16);
  auto labels = torch::tensor(std::vector<int64_t>{0, 1, 2, 0, 0, 1, 0, 1, 2, 0, 0, 1});
  auto log_prior = torch::log(torch::tensor({0.6f, 0.3f, 0.1f}));
  const ParametricContrastiveOptions options;
  auto reference =
      parametric_contrastive(anchors.to(torch::kFloat32), labels, logits.to(torch::kFloat32), log_prior, options);
  torch::Tensor value;
  {
    AutocastScope autocast(torch::kCPU, torch::kBFloat16, true);
    value = parametric_contrastive(anchors, labels, logits, log_prior, options);
  }
  EXPECT_EQ(value.scalar_type(), torch::kFloat32);
  EXPECT_EQ(value.item<double>(), reference.item<double>());
}

}  // namespace smcl::losses
