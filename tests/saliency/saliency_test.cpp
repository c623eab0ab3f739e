#include "smcl/saliency/saliency.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "smcl/config/config.h"
#include "smcl/core/error.h"
#include "smcl/data/datasets.h"

namespace smcl::saliency {
namespace {

// Colour test images: a noisy background of one colour with two to four filled rectangles and discs of other
// colours, at several sizes (square and not).
torch::Tensor generated_colour_images(int64_t n, int64_t h, int64_t w, uint64_t seed) {
  torch::manual_seed(seed);
  auto images = torch::empty({n, 3, h, w}, torch::kFloat32);
  auto rows = torch::arange(h, torch::kFloat32).view({h, 1});
  auto cols = torch::arange(w, torch::kFloat32).view({1, w});
  for (int64_t i = 0; i < n; ++i) {
    auto image = torch::rand({3, 1, 1}) * 255 + torch::randn({3, h, w}) * 12;
    int shapes = 2 + int(torch::randint(0, 3, {1}).item<int64_t>());
    for (int s = 0; s < shapes; ++s) {
      auto centre = torch::rand({2});
      float ci = centre[0].item<float>() * float(h), cj = centre[1].item<float>() * float(w);
      float radius = 2.0f + torch::rand({1}).item<float>() * float(std::min(h, w)) / 3.0f;
      auto inside = s % 2 == 0 ? ((rows - ci).abs() < radius) & ((cols - cj).abs() < radius * 0.7f)
                               : ((rows - ci).pow(2) + (cols - cj).pow(2)) < radius * radius;
      image = torch::where(inside.unsqueeze(0), torch::rand({3, 1, 1}) * 255, image);
    }
    images[i] = image;
  }
  return images.round().clamp(0, 255).to(torch::kUInt8);
}

struct Agreement {
  double same_peak = 0;      // share of images whose peak is a maximum of OpenCV's map
  double identical = 0;      // share of images whose whole uint8 map equals OpenCV's
  double mean_abs_diff = 0;  // over every pixel, on the [0, 1] scale
};

Agreement compare_with_opencv(const torch::Tensor& images) {
  auto ours = fine_grained(images);
  auto theirs = fine_grained_opencv(images);
  EXPECT_EQ(ours.sizes(), theirs.sizes());
  auto peak = peaks(ours);
  const int64_t n = images.size(0), w = images.size(3);
  auto flat = theirs.flatten(1);
  auto at_peak = flat.gather(1, (peak.select(1, 0) * w + peak.select(1, 1)).unsqueeze(1)).squeeze(1);
  Agreement a;
  a.same_peak = at_peak.eq(flat.amax(1)).sum().item<double>() / double(n);
  a.identical = (ours * 255).round().eq((theirs * 255).round()).flatten(1).all(1).sum().item<double>() / double(n);
  a.mean_abs_diff = (ours - theirs).abs().mean().item<double>();
  return a;
}

void expect_agreement(const Agreement& a, const std::string& what) {
  std::printf("%s: same peak %.2f%%, identical maps %.2f%%, mean |difference| %.5f (x255: %.3f)\n", what.c_str(),
              100 * a.same_peak, 100 * a.identical, a.mean_abs_diff, 255 * a.mean_abs_diff);
  EXPECT_GE(a.same_peak, 0.99) << what;
  EXPECT_LE(a.mean_abs_diff, 2.0 / 255) << what;
  // Stronger than the two criteria above: the re-implementation follows OpenCV's integer and float steps.
  EXPECT_GE(a.identical, 0.99) << what;
}

}  // namespace

TEST(Saliency, FineGrainedMatchesOpenCVOnFashionMnist) {
  if (!opencv_available()) GTEST_SKIP() << "built without OpenCV's saliency module";
  config::DataConfig data;
  data.name = config::DatasetName::kFashionMnist;
  auto test = data::load_split(data, /*train=*/false);
  expect_agreement(compare_with_opencv(test.images.narrow(0, 0, 2000)), "Fashion-MNIST test[0:2000]");
}

TEST(Saliency, FineGrainedMatchesOpenCVOnGeneratedColourImages) {
  if (!opencv_available()) GTEST_SKIP() << "built without OpenCV's saliency module";
  expect_agreement(compare_with_opencv(generated_colour_images(400, 32, 32, 1)), "colour 32x32");
  expect_agreement(compare_with_opencv(generated_colour_images(200, 24, 40, 2)), "colour 24x40");
  expect_agreement(compare_with_opencv(generated_colour_images(50, 96, 80, 3)), "colour 96x80");
}

TEST(Saliency, FineGrainedOfAConstantImageIsZeroAndOfOneBrightPixelIsFullThere) {
  auto constant = torch::full({2, 3, 16, 16}, 77, torch::kUInt8);
  EXPECT_EQ(fine_grained(constant).abs().sum().item<float>(), 0.0f);
  // One bright pixel on black: the centre-surround "on" response is largest at the pixel itself, so the map
  // reaches 1 there (the "off" response of the dark surround reaches 1 elsewhere too).
  auto spot = torch::zeros({1, 1, 20, 20}, torch::kUInt8);
  spot[0][0][13][6] = 255;
  auto map = fine_grained(spot);
  EXPECT_FLOAT_EQ(map[0][13][6].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(map.max().item<float>(), 1.0f);
  EXPECT_GE(map.min().item<float>(), 0.0f);
}

TEST(Saliency, FineGrainedRejectsWhatItCannotRead) {
  EXPECT_THROW(fine_grained(torch::zeros({1, 3, 8, 8}, torch::kFloat32)), Error);
  EXPECT_THROW(fine_grained(torch::zeros({1, 2, 8, 8}, torch::kUInt8)), Error);
  EXPECT_THROW(fine_grained(torch::zeros({1, 1, 1, 8}, torch::kUInt8)), Error);
}

TEST(Saliency, PeaksAreTheFirstMaximumInRowMajorOrder) {
  auto maps = torch::zeros({2, 3, 4});
  maps[0][1][2] = 1;
  maps[0][2][0] = 1;  // a tie later in row-major order
  maps[1][2][3] = 0.5;
  auto p = peaks(maps);
  EXPECT_EQ(p[0][0].item<int64_t>(), 1);
  EXPECT_EQ(p[0][1].item<int64_t>(), 2);
  EXPECT_EQ(p[1][0].item<int64_t>(), 2);
  EXPECT_EQ(p[1][1].item<int64_t>(), 3);
}

TEST(Saliency, CenterAndRandomPeaks) {
  auto c = center_peaks(3, 28, 31);
  EXPECT_EQ(c[2][0].item<int64_t>(), 14);
  EXPECT_EQ(c[2][1].item<int64_t>(), 15);
  Rng rng(5);
  auto r = random_peaks(4000, 7, 9, rng);
  EXPECT_EQ(r.select(1, 0).min().item<int64_t>(), 0);
  EXPECT_EQ(r.select(1, 0).max().item<int64_t>(), 6);
  EXPECT_EQ(r.select(1, 1).min().item<int64_t>(), 0);
  EXPECT_EQ(r.select(1, 1).max().item<int64_t>(), 8);
  EXPECT_NEAR(r.select(1, 1).to(torch::kFloat64).mean().item<double>(), 4.0, 0.15);
}

TEST(Saliency, ClassActivationMapWeighsTheFeatureMapByTheLabelsClassifierRow) {
  // Same size: no resampling, so the map is ReLU(sum_d w[y, d] F[d]) / its maximum.
  auto features = torch::tensor({1.0f, -2.0f, 3.0f, 0.5f, /*channel 1*/ 2.0f, 1.0f, -1.0f, 4.0f}).view({1, 2, 2, 2});
  auto weight = torch::tensor({1.0f, 0.0f, /*class 1*/ 0.5f, -1.0f}).view({2, 2});
  auto cam = class_activation_map(features, weight, torch::tensor(std::vector<int64_t>{1}), 2, 2);
  // class 1: 0.5 * F0 - F1 = {-1.5, -2, 2.5, -3.75} -> ReLU -> {0, 0, 2.5, 0} / 2.5
  auto expected = torch::tensor({0.0f, 0.0f, 1.0f, 0.0f}).view({1, 2, 2});
  EXPECT_TRUE(torch::allclose(cam, expected)) << cam;
  // Upsampled 2x2 -> 8x8, the peak stays in the quadrant of the hot cell.
  auto big = class_activation_map(features, weight, torch::tensor(std::vector<int64_t>{1}), 8, 8);
  auto p = peaks(big);
  EXPECT_GE(p[0][0].item<int64_t>(), 4);
  EXPECT_LT(p[0][1].item<int64_t>(), 4);
}

}  // namespace smcl::saliency
