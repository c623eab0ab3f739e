#include "smcl/train/checkpoint.h"

#include <gtest/gtest.h>
#include <torch/optim/sgd.h>

#include "smcl/core/error.h"
#include "smcl/models/network.h"
#include "test_util.h"

namespace smcl::train {

TEST(Checkpoint, RoundTripRestoresModelOptimiserAndState) {
  test::TempDir dir;
  torch::manual_seed(0);
  auto model = models::make_model("resnet8", 10, 1);
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4));
  // One step so that the momentum buffers and batch-norm statistics hold something.
  auto loss = model->forward(torch::randn({4, 1, 28, 28})).logits.sum();
  loss.backward();
  optimizer.step();
  TrainState state;
  state.next_epoch = 7;
  state.rng_state = "1 2 3";
  state.train_seconds = 12.5;
  state.train_images = 1234;
  state.wall_seconds = 20.25;
  state.best_json = R"({"top1": 50})";
  state.last_json = R"({"top1": 40})";
  state.config_yaml = "data:\n  name: mnist\n";
  save_checkpoint(dir / "c.pt", *model, &optimizer, state);

  torch::manual_seed(1);
  auto other = models::make_model("resnet8", 10, 1);
  torch::optim::SGD other_optimizer(other->parameters(),
                                    torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4));
  TrainState back = load_checkpoint(dir / "c.pt", *other, &other_optimizer, torch::kCPU);
  EXPECT_EQ(back.next_epoch, 7);
  EXPECT_EQ(back.rng_state, "1 2 3");
  EXPECT_EQ(back.train_images, 1234);
  EXPECT_DOUBLE_EQ(back.train_seconds, 12.5);
  EXPECT_DOUBLE_EQ(back.wall_seconds, 20.25);
  EXPECT_EQ(back.best_json, state.best_json);
  EXPECT_EQ(back.last_json, state.last_json);
  EXPECT_EQ(back.config_yaml, state.config_yaml);
  auto a = model->named_parameters(), b = other->named_parameters();
  for (const auto& p : a) EXPECT_TRUE(torch::equal(p.value(), b[p.key()])) << p.key();
  auto ab = model->named_buffers(), bb = other->named_buffers();
  for (const auto& p : ab) EXPECT_TRUE(torch::equal(p.value(), bb[p.key()])) << p.key();
  // The momentum buffers came back: the next step is identical.
  optimizer.zero_grad();
  other_optimizer.zero_grad();
  for (auto* m : {&model, &other}) {
    torch::manual_seed(5);
    (*m)->forward(torch::randn({4, 1, 28, 28})).logits.sum().backward();
  }
  optimizer.step();
  other_optimizer.step();
  a = model->named_parameters();
  b = other->named_parameters();
  for (const auto& p : a) EXPECT_TRUE(torch::equal(p.value(), b[p.key()])) << p.key();
}

TEST(Checkpoint, CorruptOrMismatchedFilesAreClearErrors) {
  test::TempDir dir;
  auto model = models::make_model("resnet8", 10, 1);
  save_checkpoint(dir / "c.pt", *model, nullptr, TrainState{});
  std::string bytes = test::slurp(dir / "c.pt");
  test::write_bytes(dir / "cut.pt", bytes.substr(0, bytes.size() / 2));
  try {
    load_checkpoint(dir / "cut.pt", *model, nullptr, torch::kCPU);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cut.pt"), std::string::npos) << e.what();
  }
  auto bigger = models::make_model("resnet20", 10, 1);
  EXPECT_THROW(load_checkpoint(dir / "c.pt", *bigger, nullptr, torch::kCPU), Error);
  EXPECT_THROW(load_checkpoint(dir / "none.pt", *model, nullptr, torch::kCPU), Error);
}

}  // namespace smcl::train
