#include "smcl/train/schedule.h"

#include <gtest/gtest.h>

#include <cmath>

namespace smcl::train {

TEST(Schedule, IssueRecipeEpochByEpoch) {
  // Epoch 0 warm-up at 0.1, 1-15 at 0.1, 16-17 at 0.01, 18-19 at 0.001.
  config::OptimConfig optim;
  optim.lr = 0.1;
  optim.warmup_epochs = 1;
  optim.milestones = {16, 18};
  optim.gamma = 0.1;
  for (int64_t e = 0; e < 20; ++e) {
    double expected = e < 16 ? 0.1 : (e < 18 ? 0.01 : 0.001);
    EXPECT_NEAR(learning_rate(optim, e, 20), expected, 1e-12) << "epoch " << e;
  }
}

TEST(Schedule, CifarRecipeWarmsUpLinearly) {
  config::OptimConfig optim;  // defaults: lr 0.1, 5 warm-up epochs, x0.1 at 160 and 180
  EXPECT_NEAR(learning_rate(optim, 0, 200), 0.02, 1e-12);
  EXPECT_NEAR(learning_rate(optim, 4, 200), 0.1, 1e-12);
  EXPECT_NEAR(learning_rate(optim, 159, 200), 0.1, 1e-12);
  EXPECT_NEAR(learning_rate(optim, 160, 200), 0.01, 1e-12);
  EXPECT_NEAR(learning_rate(optim, 199, 200), 0.001, 1e-12);
}

TEST(Schedule, CosineFromBaseToNearZero) {
  config::OptimConfig optim;
  optim.schedule = "cosine";
  optim.warmup_epochs = 0;
  EXPECT_NEAR(learning_rate(optim, 0, 100), 0.1, 1e-12);
  EXPECT_NEAR(learning_rate(optim, 50, 100), 0.05, 1e-12);
  EXPECT_NEAR(learning_rate(optim, 99, 100), 0.1 * 0.5 * (1 + std::cos(M_PI * 0.99)), 1e-12);
}

}  // namespace smcl::train
