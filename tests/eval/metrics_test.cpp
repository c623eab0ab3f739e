#include "smcl/eval/metrics.h"

#include <gtest/gtest.h>

namespace smcl::eval {

TEST(Metrics, HandComputedExample) {
  // 3 classes, 6 test images. Logit rows give the predictions (best first):
  // img 0 (y 0): 0 then 1 -> top-1 hit; img 1 (y 0): 2 then 0; img 2 (y 1): 1; img 3 (y 1): 0 then 2 then 1;
  // img 4 (y 2): 2; img 5 (y 2): 1 then 2.
  auto logits = torch::tensor({3.f, 2.f, 1.f,   //
                               2.f, 1.f, 3.f,   //
                               1.f, 3.f, 2.f,   //
                               3.f, 1.f, 2.f,   //
                               1.f, 2.f, 3.f,   //
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
  auto logits = torch::one_hot(torch::tensor(std::vector<int64_t>{3, 0, 1, 4, 1}, torch::kInt64), 5).to(torch::kFloat32);
  BiasMetrics m = compute_bias_metrics(logits, labels, background);
  EXPECT_DOUBLE_EQ(m.conflict_top1, 100.0 * 2 / 5);
  EXPECT_DOUBLE_EQ(m.bg_flip_rate, 100.0 * 2 / 5);
}

}  // namespace smcl::eval
