// Views of decoded image files against torchvision (tests/reference/make_image_golden.py) and the
// RandomResizedCrop box sampler against its definition.
#include "smcl/augment/image_views.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace smcl::augment {
namespace {

const nlohmann::json& golden_images() {
  static const nlohmann::json decoded = test::read_json(test::golden("images/decoded.json"));
  return decoded;
}

}  // namespace

TEST(ImageViews, ResizedCropIsTorchvisionsAntialiasedResizedCrop) {
  auto views = test::read_json(test::golden("images/views.json"));
  auto source = test::tensor_from_json(golden_images()["rgb_23x17.png"]["rgb"], torch::kUInt8);
  for (const auto& v : views["resized_crop"]) {
    CropBox box{v["box"][0], v["box"][1], v["box"][2], v["box"][3]};
    auto out = resized_crop(source, box, v["out"][0], v["out"][1]);
    auto expected = test::tensor_from_json(v["image"], torch::kUInt8);
    ASSERT_EQ(out.sizes(), expected.sizes()) << v["box"];
    EXPECT_TRUE(torch::equal(out, expected))
        << "box " << v["box"] << " max diff "
        << (out.to(torch::kInt) - expected.to(torch::kInt)).abs().max().item<int>();
  }
}

TEST(ImageViews, CenterViewIsTorchvisionsResizeThenCenterCrop) {
  auto views = test::read_json(test::golden("images/views.json"));
  for (const auto& v : views["center_view"]) {
    auto source = test::tensor_from_json(golden_images()[v["file"].get<std::string>()]["rgb"], torch::kUInt8);
    auto out = center_view(source, v["side"], v["crop"]);
    auto expected = test::tensor_from_json(v["image"], torch::kUInt8);
    ASSERT_EQ(out.sizes(), expected.sizes()) << v["file"] << " side " << v["side"];
    EXPECT_TRUE(torch::equal(out, expected)) << v["file"] << " side " << v["side"] << " crop " << v["crop"];
  }
}

TEST(ImageViews, RandomResizedCropBoxesFollowScaleAndRatio) {
  // A large square image: every first try fits, so each box is one draw of the definition.
  Rng rng(5);
  const std::vector<double> scale{0.08, 1.0}, ratio{3.0 / 4.0, 4.0 / 3.0};
  double share_sum = 0, log_ratio_sum = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    auto box = random_resized_crop_box(1000, 1000, scale, ratio, rng);
    ASSERT_GE(box.top, 0);
    ASSERT_GE(box.left, 0);
    ASSERT_LE(box.top + box.height, 1000);
    ASSERT_LE(box.left + box.width, 1000);
    const double share = double(box.height * box.width) / 1e6;
    const double r = double(box.width) / double(box.height);
    // Rounding each side to an integer moves the share and ratio by a little.
    EXPECT_GT(share, 0.08 * 0.99);
    EXPECT_LT(share, 1.0 * 1.01);
    EXPECT_GT(r, 0.75 * 0.99);
    EXPECT_LT(r, 4.0 / 3.0 * 1.01);
    share_sum += share;
    log_ratio_sum += std::log(r);
  }
  // Boxes with a side over 1000 are redrawn, which lowers the mean share below the unconditional 0.54: 0.476 is
  // the mean of 20000 boxes of torchvision's RandomResizedCrop.get_params on a 1000 x 1000 image (sd of our mean
  // about 0.0045). The log-ratio is symmetric about 0.
  EXPECT_NEAR(share_sum / n, 0.476, 0.015);
  EXPECT_NEAR(log_ratio_sum / n, 0.0, 0.02);
}

TEST(ImageViews, RandomResizedCropFallsBackToTheClampedCentralCrop) {
  // A 2 x 100 image: no box with the area share in [0.9, 1] and ratio within [3/4, 4/3] fits, so torchvision's
  // fallback applies: full height, width round(2 * 4/3) = 3, centred.
  Rng rng(2);
  auto box = random_resized_crop_box(2, 100, {0.9, 1.0}, {0.75, 4.0 / 3.0}, rng);
  EXPECT_EQ(box.top, 0);
  EXPECT_EQ(box.height, 2);
  EXPECT_EQ(box.width, 3);
  EXPECT_EQ(box.left, 48);
  // A tall one: full width, height round(10 / (3/4)) = 13.
  box = random_resized_crop_box(200, 10, {0.9, 1.0}, {0.75, 4.0 / 3.0}, rng);
  EXPECT_EQ(box.width, 10);
  EXPECT_EQ(box.height, 13);
  EXPECT_EQ(box.top, 93);
}

TEST(ImageViews, BatchedCropsOnThreadsEqualOneByOne) {
  std::vector<torch::Tensor> images;
  for (int i = 0; i < 9; ++i) images.push_back(torch::randint(0, 256, {3, 20 + 3 * i, 31 - 2 * i}, torch::kUInt8));
  Rng a(9), b(9);
  auto batched = random_resized_crops(images, 12, {0.08, 1.0}, {0.75, 4.0 / 3.0}, a, 4);
  ASSERT_EQ(batched.sizes(), (std::vector<int64_t>{9, 3, 12, 12}));
  for (int i = 0; i < 9; ++i) {
    auto box = random_resized_crop_box(images[size_t(i)].size(1), images[size_t(i)].size(2), {0.08, 1.0},
                                       {0.75, 4.0 / 3.0}, b);
    EXPECT_TRUE(torch::equal(batched[i], resized_crop(images[size_t(i)], box, 12, 12))) << i;
  }
  auto centred = center_views(images, 12, 0.875, 3);
  for (int i = 0; i < 9; ++i) EXPECT_TRUE(torch::equal(centred[i], center_view(images[size_t(i)], 12, 0.875))) << i;
}

}  // namespace smcl::augment
