#include "smcl/train/checkpoint.h"

#include <gtest/gtest.h>
#include <torch/optim/sgd.h>
#include <torch/serialize.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "smcl/core/error.h"
#include "smcl/models/network.h"
#include "test_util.h"

namespace smcl::train {

TEST(Checkpoint, RoundTripRestoresModelOptimiserAndState) {
  test::TempDir dir;
  torch::manual_seed(0);
  auto model = models::make_model(config::ModelName::kResNet8, 10, 1);
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
  eval::EpochRecord best, last;
  best.epoch = 5;
  best.test.top1 = 50;
  best.test.per_class = {50, 50};
  best.test.confusion = {{1, 1}, {1, 1}};
  best.val = best.test;
  last.epoch = 6;
  last.test.top1 = 40;
  last.test.many = 0.1 + 0.2;  // not exact in binary: must come back to the bit
  last.bias = eval::BiasMetrics{12.5, 1.0 / 3.0};
  state.best = best;
  state.last = last;
  state.config_yaml = "data:\n  name: mnist\n";
  save_checkpoint(dir / "c.pt", *model, &optimizer, state);

  torch::manual_seed(1);
  auto other = models::make_model(config::ModelName::kResNet8, 10, 1);
  torch::optim::SGD other_optimizer(other->parameters(),
                                    torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4));
  TrainState back = load_checkpoint(dir / "c.pt", *other, &other_optimizer, torch::kCPU);
  EXPECT_EQ(back.next_epoch, 7);
  EXPECT_EQ(back.rng_state, "1 2 3");
  EXPECT_EQ(back.train_images, 1234);
  EXPECT_DOUBLE_EQ(back.train_seconds, 12.5);
  EXPECT_DOUBLE_EQ(back.wall_seconds, 20.25);
  ASSERT_TRUE(back.best && back.last);
  EXPECT_EQ(eval::to_json(*back.best, true), eval::to_json(best, true));
  EXPECT_EQ(eval::to_json(*back.last, true), eval::to_json(last, true));
  EXPECT_EQ(back.last->test.many, 0.1 + 0.2);
  EXPECT_EQ(back.last->bias->bg_flip_rate, 1.0 / 3.0);
  EXPECT_EQ(back.best->test.confusion, best.test.confusion);
  EXPECT_EQ(back.best->val->top1, 50);
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
  auto model = models::make_model(config::ModelName::kResNet8, 10, 1);
  save_checkpoint(dir / "c.pt", *model, nullptr, TrainState{});
  std::string bytes = test::slurp(dir / "c.pt");
  test::write_bytes(dir / "cut.pt", bytes.substr(0, bytes.size() / 2));
  try {
    load_checkpoint(dir / "cut.pt", *model, nullptr, torch::kCPU);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cut.pt"), std::string::npos) << e.what();
  }
  auto bigger = models::make_model(config::ModelName::kResNet20, 10, 1);
  EXPECT_THROW(load_checkpoint(dir / "c.pt", *bigger, nullptr, torch::kCPU), Error);
  EXPECT_THROW(load_checkpoint(dir / "none.pt", *model, nullptr, torch::kCPU), Error);
}

// Every single-bit flip anywhere in a checkpoint is found by its checksum (or its header check) before anything
// is restored: the model keeps its weights and the error names the file.
TEST(Checkpoint, EveryBitFlipIsRefusedBeforeAnythingIsRestored) {
  test::TempDir dir;
  torch::manual_seed(1);
  auto model = models::make_model(config::ModelName::kResNet8, 10, 1);
  TrainState state;
  state.rng_state = "1 2 3";
  save_checkpoint(dir / "c.pt", *model, nullptr, state);
  const std::string bytes = test::slurp(dir / "c.pt");
  torch::manual_seed(2);
  auto other = models::make_model(config::ModelName::kResNet8, 10, 1);
  const auto before = other->parameters()[0].clone();
  std::mt19937_64 draw(7);
  for (int trial = 0; trial < 40; ++trial) {
    std::string flipped = bytes;
    const size_t at = draw() % flipped.size();
    flipped[at] = char(flipped[at] ^ (1 << (draw() % 8)));
    test::write_bytes(dir / "flipped.pt", flipped);
    const std::string message =
        test::error_of([&] { load_checkpoint(dir / "flipped.pt", *other, nullptr, torch::kCPU); });
    EXPECT_NE(message.find("flipped.pt"), std::string::npos) << "byte " << at << ": " << message;
    EXPECT_TRUE(torch::equal(other->parameters()[0], before)) << "byte " << at;
    EXPECT_THROW(verify_checkpoint(dir / "flipped.pt"), Error);
  }
  EXPECT_NO_THROW(verify_checkpoint(dir / "c.pt"));
}

// A checkpoint of smcl before checksums (the bare libtorch archive) still loads, with a warning.
TEST(Checkpoint, OlderCheckpointsWithoutChecksumStillLoad) {
  test::TempDir dir;
  torch::manual_seed(3);
  auto model = models::make_model(config::ModelName::kResNet8, 10, 1);
  // The format written before checksums, made here the way that version wrote it.
  torch::serialize::OutputArchive archive, model_archive;
  model->save(model_archive);
  archive.write("model", model_archive);
  archive.write("version", c10::IValue(int64_t(1)));
  archive.write("next_epoch", c10::IValue(int64_t(4)));
  for (const char* key : {"rng_state", "config_yaml"}) archive.write(key, c10::IValue(std::string("x")));
  for (const char* key : {"best_json", "last_json"}) archive.write(key, c10::IValue(std::string()));
  for (const char* key : {"train_seconds", "wall_seconds"}) archive.write(key, c10::IValue(1.5));
  archive.write("train_images", c10::IValue(int64_t(10)));
  archive.save_to(dir / "old.pt");
  auto loaded = models::make_model(config::ModelName::kResNet8, 10, 1);
  testing::internal::CaptureStderr();
  auto state = load_checkpoint(dir / "old.pt", *loaded, nullptr, torch::kCPU);
  const std::string warning = testing::internal::GetCapturedStderr();
  EXPECT_NE(warning.find("has no checksum"), std::string::npos) << warning;
  EXPECT_EQ(state.next_epoch, 4);
  EXPECT_TRUE(torch::equal(loaded->parameters()[0], model->parameters()[0]));
}

// A full disk while writing leaves the previous checkpoint as it was and no temporary file.
TEST(Checkpoint, AFailedWriteKeepsThePreviousCheckpoint) {
  test::TempDir dir;
  auto model = models::make_model(config::ModelName::kResNet8, 10, 1);
  TrainState state;
  state.next_epoch = 1;
  save_checkpoint(dir / "last.pt", *model, nullptr, state);
  const std::string before = test::slurp(dir / "last.pt");
  state.next_epoch = 2;
  setenv("SMCL_DEBUG_FAIL_WRITE", "last.pt", 1);
  const std::string message = test::error_of([&] { save_checkpoint(dir / "last.pt", *model, nullptr, state); });
  unsetenv("SMCL_DEBUG_FAIL_WRITE");
  EXPECT_NE(message.find("cannot write '" + dir / "last.pt" + "': No space left on device"), std::string::npos)
      << message;
  EXPECT_EQ(test::slurp(dir / "last.pt"), before);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.str()), std::filesystem::directory_iterator()), 1);
}

}  // namespace smcl::train
