// Helpers of the CLI tests: a synthetic MNIST-like dataset that a tiny run learns, and comparing run folders.
#pragma once

#include <random>
#include <string>

#include "smcl/config/config.h"
#include "smcl/methods/method.h"
#include "smcl/models/network.h"
#include "smcl/train/checkpoint.h"
#include "test_util.h"

namespace smcl::test {

inline std::string be32(int v) {
  return {char((v >> 24) & 255), char((v >> 16) & 255), char((v >> 8) & 255), char(v & 255)};
}

// An MNIST-like IDX dataset of 16x16 images: class c shows stripes, horizontal for c < 5 and vertical for
// c >= 5, with period 2 + c % 5 and a random phase, over noise. Crops and flips keep the class, so a tiny
// run must beat chance (10%) by far.
inline void write_synthetic_mnist(const std::string& root, int per_class, bool train, uint32_t seed) {
  const int n = per_class * 10, side = 16;
  std::string images = std::string({0, 0, 8, 3}) + be32(n) + be32(side) + be32(side);
  std::string labels = std::string({0, 0, 8, 1}) + be32(n);
  std::mt19937 rng(seed);
  for (int i = 0; i < n; ++i) {
    int c = (i * 3) % 10;  // classes interleaved in file order
    labels += char(c);
    int period = 2 + c % 5, phase = int(rng() % 6);
    for (int y = 0; y < side; ++y) {
      for (int x = 0; x < side; ++x) {
        int coordinate = (c < 5 ? y : x) + phase;
        bool stripe = coordinate % period < (period + 1) / 2;
        images += char(40 + int(rng() % 40) + (stripe ? 150 : 0));
      }
    }
  }
  std::string prefix = train ? "train" : "t10k";
  write_bytes(root + "/" + prefix + "-images-idx3-ubyte", images);
  write_bytes(root + "/" + prefix + "-labels-idx1-ubyte", labels);
}

// The last.pt of two run folders hold identical weights and batch-norm buffers (the network of a_dir's config).
inline void expect_same_weights(const std::string& a_dir, const std::string& b_dir, int64_t num_classes,
                                int64_t channels) {
  const auto config = config::load(a_dir + "/config.yaml");
  auto a = methods::build_model(config, num_classes, channels), b = methods::build_model(config, num_classes, channels);
  train::load_checkpoint(a_dir + "/checkpoints/last.pt", *a, nullptr, torch::kCPU);
  train::load_checkpoint(b_dir + "/checkpoints/last.pt", *b, nullptr, torch::kCPU);
  auto pb = b->named_parameters();
  for (const auto& p : a->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  auto bb = b->named_buffers();
  for (const auto& p : a->named_buffers()) EXPECT_TRUE(torch::equal(p.value(), bb[p.key()])) << p.key();
}

// Two run folders of the 10-class one-channel synthetic set ended with identical weights, batch-norm buffers and
// summary.json (timings aside).
inline void expect_same_run(const std::string& a_dir, const std::string& b_dir) {
  auto a_summary = read_json(a_dir + "/summary.json"), b_summary = read_json(b_dir + "/summary.json");
  for (auto* s : {&a_summary, &b_summary}) {
    for (const char* key : {"wall_seconds", "train_images_per_second", "method"}) s->erase(key);
  }
  EXPECT_EQ(a_summary, b_summary);
  expect_same_weights(a_dir, b_dir, 10, 1);
}

}  // namespace smcl::test
