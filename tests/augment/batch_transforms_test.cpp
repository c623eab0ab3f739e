#include "smcl/augment/batch_transforms.h"

#include <gtest/gtest.h>

#include <set>

namespace smcl::augment {
namespace {

using torch::indexing::Slice;

// [B, C, H, W] uint8 images whose pixels are all distinct within an image (value = position + 1, mod 256 is
// avoided by small sizes), so a crop's offset can be read off its content.
torch::Tensor distinct_images(int64_t b, int64_t c, int64_t h, int64_t w) {
  return (torch::arange(c * h * w, torch::kInt64).view({1, c, h, w}).repeat({b, 1, 1, 1}) % 250 + 1).to(torch::kUInt8);
}

}  // namespace

TEST(BatchTransforms, RandomCropIsACropOfTheZeroPaddedImage) {
  auto images = distinct_images(64, 2, 8, 10);
  Rng rng(1);
  auto out = random_crop(images, 3, rng);
  ASSERT_EQ(out.sizes(), images.sizes());
  auto padded = torch::constant_pad_nd(images, {3, 3, 3, 3}, 0);
  std::set<std::pair<int64_t, int64_t>> offsets;
  for (int64_t i = 0; i < 64; ++i) {
    bool found = false;
    for (int64_t dy = 0; dy <= 6 && !found; ++dy) {
      for (int64_t dx = 0; dx <= 6 && !found; ++dx) {
        if (torch::equal(out[i], padded[i].index({Slice(), Slice(dy, dy + 8), Slice(dx, dx + 10)}))) {
          found = true;
          offsets.insert({dy, dx});
        }
      }
    }
    EXPECT_TRUE(found) << "image " << i << " is not a crop";
  }
  EXPECT_GT(offsets.size(), 20u);  // 49 possible offsets, 64 draws: many distinct ones
}

TEST(BatchTransforms, FlipMirrorsAboutHalfOfTheImages) {
  auto images = distinct_images(2000, 1, 4, 5);
  Rng rng(2);
  auto out = random_flip(images, rng);
  int flipped = 0;
  for (int64_t i = 0; i < 2000; ++i) {
    bool same = torch::equal(out[i], images[i]);
    bool mirrored = torch::equal(out[i], images[i].flip({2}));
    ASSERT_TRUE(same || mirrored);
    flipped += mirrored;
  }
  // Binomial(2000, 1/2): sd 22.4, 5 sd.
  EXPECT_NEAR(flipped, 1000, 112);
}

TEST(BatchTransforms, CutoutZeroesOneClippedSquare) {
  auto images = torch::full({500, 3, 12, 12}, 7, torch::kUInt8);
  Rng rng(3);
  auto out = cutout(images, 4, rng);
  for (int64_t i = 0; i < 500; ++i) {
    auto zero = out[i].eq(0);
    // Every channel has the same hole.
    ASSERT_TRUE(torch::equal(zero[0], zero[1]) && torch::equal(zero[0], zero[2]));
    auto rows = zero[0].any(1), cols = zero[0].any(0);
    int64_t h = rows.sum().item<int64_t>(), w = cols.sum().item<int64_t>();
    ASSERT_GE(h, 2);  // the centre is inside the image, so at least half the side remains
    ASSERT_LE(h, 4);
    ASSERT_GE(w, 2);
    ASSERT_LE(w, 4);
    EXPECT_EQ(zero[0].sum().item<int64_t>(), h * w);  // a rectangle
  }
  EXPECT_TRUE(torch::equal(cutout(images, 0, rng), images));
}

TEST(BatchTransforms, NormalizeIsPerChannelAffine) {
  auto images =
      torch::tensor(std::vector<int64_t>{0, 255, 51, 102}, torch::kInt64).to(torch::kUInt8).view({1, 2, 1, 2});
  auto x = normalize(images, {0.5, 0.2}, {0.25, 0.4});
  EXPECT_FLOAT_EQ(x[0][0][0][0].item<float>(), (0.0f - 0.5f) / 0.25f);
  EXPECT_FLOAT_EQ(x[0][0][0][1].item<float>(), (1.0f - 0.5f) / 0.25f);
  EXPECT_NEAR(x[0][1][0][0].item<float>(), (0.2f - 0.2f) / 0.4f, 1e-6);
  EXPECT_NEAR(x[0][1][0][1].item<float>(), (0.4f - 0.2f) / 0.4f, 1e-6);
}

TEST(BatchTransforms, SameSeedSameViews) {
  auto images = distinct_images(16, 1, 8, 8);
  config::AugmentConfig config;
  config.cutout = 3;
  config.mean = {0.5};
  config.std = {0.5};
  Rng a(9), b(9);
  EXPECT_TRUE(torch::equal(train_view(images, config, a), train_view(images, config, b)));
}

}  // namespace smcl::augment
