#include "smcl/eval/cam.h"

#include <gtest/gtest.h>

#include <cmath>

#include "smcl/augment/batch_transforms.h"

namespace smcl::eval {
namespace {

// Bilinear resizing as PyTorch's interpolate with align_corners=False, written out: output pixel i samples the
// input at (i + 0.5) * in / out - 0.5, clamped at 0, between its two neighbours.
torch::Tensor resize_by_hand(const torch::Tensor& map, int64_t out_h, int64_t out_w) {
  const int64_t in_h = map.size(0), in_w = map.size(1);
  auto out = torch::zeros({out_h, out_w});
  auto source = [](int64_t i, int64_t in, int64_t out_size, int64_t& i0, int64_t& i1, double& frac) {
    double s = std::max(0.0, (double(i) + 0.5) * double(in) / double(out_size) - 0.5);
    i0 = std::min<int64_t>(int64_t(std::floor(s)), in - 1);
    i1 = std::min<int64_t>(i0 + 1, in - 1);
    frac = s - double(i0);
  };
  for (int64_t y = 0; y < out_h; ++y) {
    for (int64_t x = 0; x < out_w; ++x) {
      int64_t y0, y1, x0, x1;
      double fy, fx;
      source(y, in_h, out_h, y0, y1, fy);
      source(x, in_w, out_w, x0, x1, fx);
      auto at = [&](int64_t r, int64_t c) { return map[r][c].item<double>(); };
      out[y][x] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
    }
  }
  return out;
}

TEST(Cam, MapsAverageToTheLogitsAndAreTheirUpsampledPositivePart) {
  torch::manual_seed(5);
  auto model = models::make_model(config::ModelName::kResNet8, 10, 3);
  model->eval();
  config::AugmentConfig augment;
  augment.mean = {0.5, 0.4, 0.3};
  augment.std = {0.25, 0.2, 0.3};
  auto images = torch::randint(0, 256, {3, 3, 32, 32}, torch::kInt64).to(torch::kUInt8);
  auto labels = torch::tensor(std::vector<int64_t>{2, 7, 0}, torch::kInt64);
  auto cams = class_activations(model, images, labels, augment, torch::kCPU);

  // Global average pooling and a linear classifier: each class's raw map averages to its logit minus its bias.
  torch::NoGradGuard no_grad;
  auto out = model->forward(augment::normalize(images, augment.mean, augment.std));
  const auto& weight = model->classifier()->weight;
  const auto& bias = model->classifier()->bias;
  for (int64_t k = 0; k < 10; ++k) {
    auto raw = raw_class_maps(out.feature_map, weight, torch::full({3}, k, torch::kInt64));
    EXPECT_TRUE(torch::allclose(raw.mean({1, 2}) + bias[k], cams.logits.select(1, k), 1e-4, 1e-5)) << k;
  }
  EXPECT_TRUE(cams.predicted.equal(cams.logits.argmax(1)));
  auto probabilities = cams.logits.softmax(1);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(cams.confidence[i].item<double>(), probabilities[i].max().item<double>(), 1e-6);
    // The displayed map: ReLU, resized to the image, divided by its maximum.
    for (auto [map, cls] : {std::pair{cams.predicted_map[i], cams.predicted[i].item<int64_t>()},
                            std::pair{cams.true_map[i], labels[i].item<int64_t>()}}) {
      auto raw = raw_class_maps(out.feature_map.narrow(0, i, 1), weight, torch::full({1}, cls, torch::kInt64))[0];
      auto expected = resize_by_hand(torch::relu(raw), 32, 32);
      if (expected.max().item<double>() > 0) expected = expected / expected.max();  // an all-zero map stays zero
      ASSERT_EQ(map.sizes(), (std::vector<int64_t>{32, 32}));
      EXPECT_TRUE(torch::allclose(map, expected, 1e-4, 1e-5))
          << "image " << i << " class " << cls << ": max difference " << (map - expected).abs().max().item<double>();
    }
  }
}

TEST(Cam, OverlayMixesTheImageWithTheJetColourOfTheMap) {
  // A gray image of value 100; map 0 is jet's dark blue (0, 0, 0.5), 0.5 its green (0.5, 1, 0.5), 1 its dark red
  // (0.5, 0, 0): each pixel is half the image, half the colour (x 255), rounded.
  auto image = torch::full({1, 1, 3}, 100, torch::kUInt8);
  auto map = torch::tensor({0.0f, 0.5f, 1.0f}).view({1, 3});
  auto out = overlay(image, map);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{3, 1, 3}));
  const int expected[3][3] = {{50, 114, 114}, {50, 178, 50}, {114, 114, 50}};  // [channel][pixel]
  for (int c = 0; c < 3; ++c) {
    for (int p = 0; p < 3; ++p) EXPECT_EQ(out[c][0][p].item<int>(), expected[c][p]) << c << " " << p;
  }
}

}  // namespace
}  // namespace smcl::eval
