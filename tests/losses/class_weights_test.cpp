#include "smcl/losses/class_weights.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace smcl::losses {

TEST(ClassWeights, MatchNumpy) {
  for (const auto& c : test::read_json(test::golden("class_weights.json"))) {
    auto w = class_balanced_weights(c["counts"].get<std::vector<int64_t>>(), c["beta"].get<double>());
    auto expected = c["weights"].get<std::vector<double>>();
    ASSERT_EQ(w.numel(), int64_t(expected.size()));
    for (size_t k = 0; k < expected.size(); ++k) EXPECT_NEAR(w[int64_t(k)].item<double>(), expected[k], 1e-6);
  }
}

TEST(ClassWeights, DrwSwitchesOnAtItsEpochAndCbAlwaysApplies) {
  config::LossConfig loss;
  std::vector<int64_t> counts{100, 10};
  // beta 0.5: raw weights 0.5 / (1 - 0.5^100) = 0.5 and 0.5 / (1 - 0.5^10) = 0.50049, normalised to sum 2.
  loss.cb_beta = 0.5;
  loss.reweight = config::Reweight::kDrw;
  loss.drw_epoch = 3;
  EXPECT_TRUE(torch::equal(class_weights_at_epoch(loss, counts, 2), torch::ones({2})));
  auto on = class_weights_at_epoch(loss, counts, 3);
  double raw0 = 0.5, raw1 = 0.5 / (1 - std::pow(0.5, 10));
  EXPECT_NEAR(on[0].item<double>(), 2 * raw0 / (raw0 + raw1), 1e-6);
  EXPECT_NEAR(on[1].item<double>(), 2 * raw1 / (raw0 + raw1), 1e-6);
  loss.reweight = config::Reweight::kCb;
  EXPECT_TRUE(torch::allclose(class_weights_at_epoch(loss, counts, 0), on));
  loss.reweight = config::Reweight::kNone;
  EXPECT_TRUE(torch::equal(class_weights_at_epoch(loss, counts, 100), torch::ones({2})));
}

}  // namespace smcl::losses
