#include "smcl/eval/metrics.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace smcl::eval {

TEST(Metrics, HandComputedExample) {
  // 3 classes, 6 test images. Logit rows give the predictions (best first):
  // img 0 (y 0): 0 then 1 -> top-1 hit; img 1 (y 0): 2 then 0; img 2 (y 1): 1; img 3 (y 1): 0 then 2 then 1;
  // img 4 (y 2): 2; img 5 (y 2): 1 then 2.
  auto logits = torch::tensor({3.f, 2.f, 1.f,  //
                               2.f, 1.f, 3.f,  //
                               1.f, 3.f, 2.f,  //
                               3.f, 1.f, 2.f,  //
                               1.f, 2.f, 3.f,  //
                               1.f, 3.f, 2.f})
                    .view({6, 3});
  auto labels = torch::tensor(std::vector<int64_t>{0, 0, 1, 1, 2, 2}, torch::kInt64);
  // Training counts 500 (many), 50 (medium), 5 (few).
  Metrics m = compute_metrics(logits, labels, {500, 50, 5}, 100, 20);
  EXPECT_DOUBLE_EQ(m.top1, 100.0 * 3 / 6);
  EXPECT_DOUBLE_EQ(m.top5, 100.0);  // top-min(5, K) = top-3 always hits
  EXPECT_EQ(m.per_class, (std::vector<double>{50, 50, 50}));
  EXPECT_DOUBLE_EQ(*m.many, 50);
  EXPECT_DOUBLE_EQ(*m.medium, 50);
  EXPECT_DOUBLE_EQ(*m.few, 50);
  std::vector<std::vector<int64_t>> confusion{{1, 0, 1}, {1, 1, 0}, {0, 1, 1}};
  EXPECT_EQ(m.confusion, confusion);
}

TEST(Metrics, GroupsAreMeansOfPerClassAccuracyAndEmptyGroupsAreAbsent) {
  // 4 classes; class 0 has 3 test images (all right), the others one each: 1 right, 2 wrong.
  auto labels = torch::tensor(std::vector<int64_t>{0, 0, 0, 1, 2, 3}, torch::kInt64);
  auto predicted = torch::tensor(std::vector<int64_t>{0, 0, 0, 1, 0, 0}, torch::kInt64);
  auto logits = torch::one_hot(predicted, 4).to(torch::kFloat32);
  Metrics m = compute_metrics(logits, labels, {1000, 200, 150, 120}, 100, 20);
  EXPECT_DOUBLE_EQ(m.top1, 100.0 * 4 / 6);
  EXPECT_DOUBLE_EQ(*m.many, (100.0 + 100.0 + 0.0 + 0.0) / 4);  // mean over classes, not images
  EXPECT_FALSE(m.medium.has_value());
  EXPECT_FALSE(m.few.has_value());
  // A threshold change moves classes between groups: many > 160 keeps classes 0 and 1.
  Metrics m2 = compute_metrics(logits, labels, {1000, 200, 150, 120}, 160, 20);
  EXPECT_DOUBLE_EQ(*m2.many, 100.0);
  EXPECT_DOUBLE_EQ(*m2.medium, 0.0);
}

TEST(Metrics, TopFiveCountsAHitAmongTheFiveBest) {
  // 7 classes; the true class is ranked 5th for image 0 and 6th for image 1.
  auto logits = torch::tensor({7.f, 6.f, 5.f, 4.f, 3.f, 2.f, 1.f, 7.f, 6.f, 5.f, 4.f, 3.f, 2.f, 1.f}).view({2, 7});
  auto labels = torch::tensor(std::vector<int64_t>{4, 5}, torch::kInt64);
  Metrics m = compute_metrics(logits, labels, std::vector<int64_t>(7, 10), 100, 20);
  EXPECT_DOUBLE_EQ(m.top1, 0);
  EXPECT_DOUBLE_EQ(m.top5, 50);
}

TEST(Metrics, BiasMetricsCountHitsAndFlipsToTheBackgroundsClass) {
  // 5 conflict images of minor classes 3 and 4 on the backgrounds of major classes 0 and 1.
  // Predictions: 3 (right), 0 (its background's class: a flip), 1 (wrong, but not its background's: 0), 4 (right),
  // 1 (flip).
  auto labels = torch::tensor(std::vector<int64_t>{3, 3, 3, 4, 4}, torch::kInt64);
  auto background = torch::tensor(std::vector<int64_t>{0, 0, 0, 1, 1}, torch::kInt64);
  auto logits =
      torch::one_hot(torch::tensor(std::vector<int64_t>{3, 0, 1, 4, 1}, torch::kInt64), 5).to(torch::kFloat32);
  BiasMetrics m = compute_bias_metrics(logits, labels, background);
  EXPECT_DOUBLE_EQ(m.conflict_top1, 100.0 * 2 / 5);
  EXPECT_DOUBLE_EQ(m.bg_flip_rate, 100.0 * 2 / 5);
}

// ECE, NLL and Brier score, overall, per group and per bin, against numpy (tests/reference/make_calibration_golden.py).
TEST(Metrics, CalibrationMatchesNumpy) {
  const auto golden = test::read_json(test::golden("calibration.json"));
  auto logits = test::tensor_from_json(golden["logits"], torch::kFloat32);
  auto labels = test::tensor_from_json(golden["labels"], torch::kInt64);
  Metrics m = compute_metrics(logits, labels, golden["counts"].get<std::vector<int64_t>>(), 100, 20);
  auto expect = [](const Calibration& c, const nlohmann::json& e, const char* what) {
    EXPECT_NEAR(c.ece, e["ece"].get<double>(), 1e-9) << what;
    EXPECT_NEAR(c.nll, e["nll"].get<double>(), 1e-9) << what;
    EXPECT_NEAR(c.brier, e["brier"].get<double>(), 1e-9) << what;
  };
  expect(m.calibration, golden["overall"], "overall");
  ASSERT_TRUE(m.many_calibration && m.medium_calibration && m.few_calibration);
  expect(*m.many_calibration, golden["groups"]["many"], "many");
  expect(*m.medium_calibration, golden["groups"]["medium"], "medium");
  expect(*m.few_calibration, golden["groups"]["few"], "few");
  EXPECT_EQ(m.reliability.count, golden["bins"]["count"].get<std::vector<int64_t>>());
  for (int64_t b = 0; b < kCalibrationBins; ++b) {
    EXPECT_NEAR(m.reliability.confidence[size_t(b)], golden["bins"]["confidence"][b].get<double>(), 1e-12) << b;
    EXPECT_NEAR(m.reliability.accuracy[size_t(b)], golden["bins"]["accuracy"][b].get<double>(), 1e-12) << b;
  }
}

// Temperature scaling's T against torch.optim.LBFGS on the same NLL (make_calibration_golden.py).
TEST(Metrics, FittedTemperatureMatchesPyTorch) {
  const auto golden = test::read_json(test::golden("calibration.json"));
  auto logits = test::tensor_from_json(golden["logits"], torch::kFloat32);
  auto labels = test::tensor_from_json(golden["labels"], torch::kInt64);
  const double t = fit_temperature(logits, labels);
  EXPECT_NEAR(t, golden["temperature"].get<double>(), 1e-6 * t);
  // And it lowers the NLL, as a minimiser must.
  EXPECT_LT(compute_calibration(logits / t, labels).nll, compute_calibration(logits, labels).nll);
}

// By hand: two images, logits (0, 0) with label 0 and (ln 3, 0) with label 0.
// p = (1/2, 1/2) and (3/4, 1/4); NLL = (ln 2 + ln 4/3) / 2; Brier = ((1/4 + 1/4) + (1/16 + 1/16)) / 2 = 5/16.
// Confidences 1/2 (bin 7 of 15, (7/15, 8/15]) and 3/4 (bin 11), both right: ECE = (1/2 |1 - 1/2| + 1/2 |1 - 3/4|)
// = 3/8, i.e. 37.5 %.
TEST(Metrics, CalibrationByHand) {
  auto logits = torch::tensor({0.0, 0.0, std::log(3.0), 0.0}, torch::kFloat64).view({2, 2});
  ReliabilityBins bins;
  auto c = compute_calibration(logits, torch::zeros({2}, torch::kInt64), &bins);
  EXPECT_NEAR(c.nll, (std::log(2.0) + std::log(4.0 / 3.0)) / 2, 1e-12);
  EXPECT_NEAR(c.brier, 5.0 / 16.0, 1e-12);
  EXPECT_NEAR(c.ece, 37.5, 1e-9);
  EXPECT_EQ(bins.count[7], 1);
  EXPECT_EQ(bins.count[11], 1);
  EXPECT_NEAR(bins.confidence[11], 0.75, 1e-12);
}

}  // namespace smcl::eval
