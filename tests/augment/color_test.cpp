// SimAugment's colour operations against torchvision's (tests/reference/make_image_golden.py), and the
// batched, per-image random application.
#include "smcl/augment/color.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace smcl::augment {

TEST(Color, OperationsAreTorchvisionsPerImage) {
  auto golden = test::read_json(test::golden("images/color.json"));
  for (const auto* kind : {"rgb", "gray"}) {
    const auto& g = golden[kind];
    auto images = test::tensor_from_json(g["images"], torch::kFloat32);
    auto factors = test::tensor_from_json(g["factors"], torch::kFloat32);
    auto shifts = test::tensor_from_json(g["shifts"], torch::kFloat32);
    auto near = [&](const torch::Tensor& ours, const char* key) {
      auto expected = test::tensor_from_json(g[key], torch::kFloat32);
      ASSERT_EQ(ours.sizes(), expected.sizes()) << kind << " " << key;
      EXPECT_LT((ours - expected).abs().max().item<double>(), 1e-5) << kind << " " << key;
    };
    near(adjust_brightness(images, factors), "brightness");
    near(adjust_contrast(images, factors), "contrast");
    near(adjust_saturation(images, factors), "saturation");
    near(adjust_hue(images, shifts), "hue");
    near(grayscale(images), "grayscale");
  }
}

TEST(Color, AugmentDrawsPerImageAndKeepsOthersUntouched) {
  auto images = torch::randint(0, 256, {64, 3, 6, 6}, torch::kUInt8);
  Rng rng(4);
  // Probabilities 0: nothing changes and nothing is drawn.
  EXPECT_TRUE(torch::equal(color_augment(images, {0.4, 0.4, 0.4, 0.1}, 0, 0, rng), images));
  EXPECT_EQ(rng.state(), Rng(4).state());
  // Grayscale only, probability 1: every image has three equal channels, the rounded luma.
  auto gray = color_augment(images, {0.4, 0.4, 0.4, 0.1}, 0, 1, rng);
  EXPECT_TRUE(torch::equal(gray.select(1, 0), gray.select(1, 2)));
  auto luma = grayscale(images.to(torch::kFloat32) / 255).mul(255).round().to(torch::kUInt8).squeeze(1);
  EXPECT_TRUE(torch::equal(gray.select(1, 1), luma));
  // Jitter with probability 1/2: about half the images change, the others are bit for bit the input.
  auto jittered = color_augment(images, {0.4, 0.4, 0.4, 0.1}, 0.5, 0, rng);
  int changed = 0;
  for (int64_t i = 0; i < 64; ++i) changed += !torch::equal(jittered[i], images[i]);
  EXPECT_GT(changed, 18);
  EXPECT_LT(changed, 46);
  // The same seed gives the same batch.
  Rng a(9), b(9);
  EXPECT_TRUE(torch::equal(color_augment(images, {0.4, 0.4, 0.4, 0.1}, 0.8, 0.2, a),
                           color_augment(images, {0.4, 0.4, 0.4, 0.1}, 0.8, 0.2, b)));
}

TEST(Color, JitterAppliesTheSingleOperationsInItsDrawnOrder) {
  // One image, jitter forced: replaying the draws (order, then brightness, contrast, saturation, hue factors)
  // through the single operations in that order gives the batched result.
  auto image = torch::randint(0, 256, {1, 3, 5, 5}, torch::kUInt8);
  Rng rng(11), replay(11);
  auto out = color_augment(image, {0.4, 0.3, 0.2, 0.1}, 1.0, 0.0, rng);
  ASSERT_TRUE(replay.bernoulli(1.0));
  auto order = replay.permutation(4);
  std::vector<double> f;
  for (double s : {0.4, 0.3, 0.2}) f.push_back((1 - s) + ((1 + s) - (1 - s)) * replay.uniform());
  f.push_back(-0.1 + (0.1 - -0.1) * replay.uniform());
  auto x = image.to(torch::kFloat32) / 255;
  for (int64_t op : order) {
    auto factor = torch::tensor({float(f[size_t(op)])});
    if (op == 0) x = adjust_brightness(x, factor);
    if (op == 1) x = adjust_contrast(x, factor);
    if (op == 2) x = adjust_saturation(x, factor);
    if (op == 3) x = adjust_hue(x, factor);
  }
  EXPECT_TRUE(torch::equal(out, x.mul(255).round().clamp(0, 255).to(torch::kUInt8)));
}

}  // namespace smcl::augment
