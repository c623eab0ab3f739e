#include "smcl/losses/classification.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "reference_model.h"
#include "smcl/core/error.h"
#include "smcl/methods/method.h"
#include "test_util.h"

namespace smcl::losses {
namespace {

using test::matrix;

torch::Tensor ints(const nlohmann::json& values) { return torch::tensor(values.get<std::vector<int64_t>>()); }

}  // namespace

// Every loss, plain and mixed, without and with class-balanced weights, against the reference codebases'
// formulas in PyTorch (tests/reference/make_loss_golden.py): value and gradient with respect to the logits.
TEST(ClassificationLoss, MatchesTheReferenceImplementations) {
  auto golden = test::read_json(test::golden("losses.json"));
  auto counts = golden["counts"].get<std::vector<int64_t>>();
  ASSERT_EQ(golden["cases"].size(), 36u);
  for (const auto& kase : golden["cases"]) {
    config::LossConfig config;
    config.name = test::choice<config::LossName>(kase["loss"]);
    if (config.name == config::LossName::kLdam) {
      config.ldam_max_margin = kase["params"]["ldam_max_margin"];
      config.ldam_scale = kase["params"]["ldam_scale"];
    }
    if (config.name == config::LossName::kFocal) config.focal_gamma = kase["params"]["focal_gamma"];
    if (config.name == config::LossName::kLogitAdjusted) config.la_tau = kase["params"]["la_tau"];
    std::string name = kase["loss"].get<std::string>() + " " + kase["params"].dump() + " " +
                       kase["reweight"].get<std::string>() + (kase.contains("labels_b") ? " mixed" : "");
    ClassificationLoss loss(config, counts);
    auto logits = matrix(kase["logits"]).requires_grad_(true);
    auto weights = torch::tensor(kase["weights"].get<std::vector<double>>(), torch::kFloat64);
    auto value = kase.contains("labels_b")
                     ? loss.mixed(logits, ints(kase["labels"]), ints(kase["labels_b"]),
                                  torch::tensor(kase["lambda"].get<std::vector<double>>(), torch::kFloat64), weights)
                     : loss(logits, ints(kase["labels"]), weights);
    double expected = kase["value"];
    // The margins and the prior are float32, as in training; everything else is float64 here.
    EXPECT_NEAR(value.item<double>(), expected, 1e-6 * std::max(1.0, std::abs(expected))) << name;
    value.backward();
    auto grad_expected = matrix(kase["grad"]);
    double worst = (logits.grad() - grad_expected).abs().max().item<double>();
    EXPECT_LT(worst, 1e-6 * std::max(1.0, grad_expected.abs().max().item<double>())) << name;
  }
}

TEST(ClassificationLoss, LdamMarginsAreProportionalToTheFourthRootOfOneOverTheCount) {
  config::LossConfig config;
  config.name = config::LossName::kLdam;
  ClassificationLoss loss(config, {500, 5, 80});
  // m = 0.5 * (5 / n)^(1/4): 500 -> 0.5 * 0.1^(1/2), 80 -> 0.5 * (1/16)^(1/4) = 0.25.
  auto m = loss.margins();
  EXPECT_NEAR(m[0].item<double>(), 0.5 * std::sqrt(0.1), 1e-7);
  EXPECT_NEAR(m[1].item<double>(), 0.5, 1e-7);
  EXPECT_NEAR(m[2].item<double>(), 0.25, 1e-7);
}

TEST(ClassificationLoss, BalancedSoftmaxWithUniformCountsIsCrossEntropy) {
  config::LossConfig ce, balanced;
  balanced.name = config::LossName::kBalancedSoftmax;
  auto logits = torch::randn({7, 4});
  auto labels = torch::tensor(std::vector<int64_t>{0, 1, 2, 3, 3, 2, 1});
  auto weights = torch::ones({4});
  // log(1/4) shifts every logit alike, which softmax ignores.
  EXPECT_NEAR(ClassificationLoss(balanced, {9, 9, 9, 9})(logits, labels, weights).item<double>(),
              ClassificationLoss(ce, {9, 9, 9, 9})(logits, labels, weights).item<double>(), 1e-6);
}

TEST(ClassificationLoss, FocalStaysFiniteOnLargeLogits) {
  config::LossConfig config;
  config.name = config::LossName::kFocal;
  auto logits = torch::tensor({{200.0f, -200.0f}, {-200.0f, 200.0f}}).requires_grad_(true);
  auto value = ClassificationLoss(config, {3, 2})(logits, torch::tensor(std::vector<int64_t>{1, 1}), torch::ones({2}));
  value.backward();
  // Sample 0 is confidently wrong on both classes: BCE 400 with modulator (1 - p_t)^1 = 1; sample 1 is right.
  EXPECT_NEAR(value.item<double>(), 400.0 / 2, 1e-3);  // summed, divided by the batch size
  EXPECT_TRUE(torch::isfinite(logits.grad()).all().item<bool>());
}

TEST(ClassificationLoss, EmptyClassesAreErrors) {
  config::LossConfig config;
  config.name = config::LossName::kLdam;
  EXPECT_NE(test::error_of([&] { ClassificationLoss(config, {3, 0}); }).find("every class"), std::string::npos);
}

TEST(ClassificationModel, LdamGetsTheCosineClassifierAndFocalItsBias) {
  config::Config config;
  config.model.name = config::ModelName::kResNet8;
  config.loss.name = config::LossName::kLdam;
  torch::manual_seed(0);
  auto cosine = methods::build_model(config, 3, 1);
  ASSERT_TRUE(cosine->cosine_classifier());
  EXPECT_FALSE(cosine->classifier()->bias.defined());
  {
    torch::NoGradGuard no_grad;
    cosine->classifier()->weight.copy_(torch::tensor({{1.0f, 0.0f}, {0.0f, 2.0f}, {-3.0f, 0.0f}})
                                           .repeat({1, 32}));  // 64 features: the pattern 32 times
  }
  // h = (3, 4) repeated: cos with (1, 0) = 0.6, with (0, 2) = 0.8, with (-3, 0) = -0.6.
  auto logits = cosine->classify(torch::tensor({3.0f, 4.0f}).repeat({32}).view({1, 64}));
  EXPECT_TRUE(torch::allclose(logits, torch::tensor({{0.6f, 0.8f, -0.6f}}), 1e-6, 1e-6)) << logits;

  config.loss.name = config::LossName::kFocal;
  auto focal = methods::build_model(config, 10, 1);
  EXPECT_FALSE(focal->cosine_classifier());
  EXPECT_TRUE(torch::allclose(focal->classifier()->bias, torch::full({10}, -std::log(9.0f))));
  config.loss.name = config::LossName::kBalancedSoftmax;  // PyTorch's default bias, nothing forced
  EXPECT_GT(methods::build_model(config, 10, 1)->classifier()->bias.abs().max().item<double>(), 0.0);
}

}  // namespace smcl::losses
