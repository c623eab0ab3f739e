#include "smcl/augment/batch_transforms.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "smcl/augment/image_views.h"
#include "smcl/augment/rand_augment.h"

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

TEST(BatchTransforms, ResizedCropOf32x32ImagesSamplesAsTorchvision) {
  // SimAugment's crop of a CIFAR image: RandomResizedCrop(32, scale=(0.2, 1)) with the default ratio range. The
  // reference: 200,000 boxes of torchvision 0.14's RandomResizedCrop.get_params on a 32x32 image (Debian's
  // python3-torchvision, torch.manual_seed(0)): mean area share 0.5510 (sd of that mean 0.0005), mean height 23.379
  // and width 23.372, whole image 0.24% of the time, and the share of each box height below.
  const std::map<int64_t, double> height_share{{13, 0.0079}, {16, 0.0404}, {20, 0.0563}, {24, 0.0689},
                                               {28, 0.0569}, {31, 0.0449}, {32, 0.0389}};
  Rng rng(11);
  const int n = 40000;
  double share = 0, height = 0, width = 0, whole = 0;
  std::map<int64_t, double> heights;
  for (int i = 0; i < n; ++i) {
    const auto box = random_resized_crop_box(32, 32, {0.2, 1.0}, {3.0 / 4.0, 4.0 / 3.0}, rng);
    ASSERT_TRUE(box.top >= 0 && box.left >= 0 && box.top + box.height <= 32 && box.left + box.width <= 32);
    share += double(box.height * box.width) / 1024 / n;
    height += double(box.height) / n;
    width += double(box.width) / n;
    whole += (box.height == 32 && box.width == 32) ? 1.0 / n : 0.0;
    heights[box.height] += 1.0 / n;
  }
  // Tolerances about five standard deviations of a 40,000-box mean.
  EXPECT_NEAR(share, 0.5510, 0.006);
  EXPECT_NEAR(height, 23.379, 0.15);
  EXPECT_NEAR(width, 23.372, 0.15);
  EXPECT_NEAR(whole, 0.0024, 0.0015);
  for (const auto& [h, expected] : height_share) EXPECT_NEAR(heights[h], expected, 0.006) << "height " << h;
}

TEST(BatchTransforms, ResizedCropOfABatchIsEachImagesResizedCrop) {
  torch::manual_seed(0);
  auto images = torch::randint(0, 256, {24, 3, 32, 32}, torch::kUInt8);
  Rng a(4), b(4);
  auto out = random_resized_crop(images, {0.2, 1.0}, {3.0 / 4.0, 4.0 / 3.0}, a);
  ASSERT_EQ(out.sizes(), images.sizes());
  ASSERT_EQ(out.scalar_type(), torch::kUInt8);
  ASSERT_TRUE(out.is_contiguous());
  int64_t resized = 0;
  for (int64_t i = 0; i < 24; ++i) {
    const auto box = random_resized_crop_box(32, 32, {0.2, 1.0}, {3.0 / 4.0, 4.0 / 3.0}, b);
    EXPECT_TRUE(torch::equal(out[i], resized_crop(images[i], box, 32, 32))) << i;
    resized += box.height < 32 || box.width < 32;
  }
  EXPECT_GT(resized, 20);  // the crops are real crops, not the image passed through

  // random_view takes it with augment.resized_crop, pad-and-crop without.
  config::AugmentConfig config;
  config.flip = false;
  config.crop_scale = {0.2, 1.0};
  Rng c(4), d(4);
  EXPECT_TRUE(torch::equal(random_view(images, config, c), random_crop(images, 4, d)));
  config.resized_crop = true;
  Rng e(4);
  EXPECT_TRUE(torch::equal(random_view(images, config, e), out));
}

}  // namespace smcl::augment

namespace smcl::augment {

// AutoAugment comes after the crop and flip when augment.auto_augment is cifar10, with the stream's next draws;
// with none it draws nothing.
TEST(BatchTransforms, AutoAugmentFollowsTheFlipWhenOn) {
  auto images = torch::randint(0, 256, {16, 3, 10, 10}, torch::kUInt8);
  config::AugmentConfig config;
  config.crop_padding = 0;
  config.auto_augment = config::AutoAugmentPolicy::kCifar10;
  Rng rng(4), replay(4);
  auto view = random_view(images, config, rng);
  auto expected = auto_augment_cifar10(random_flip(random_crop(images, 0, replay), replay), replay);
  EXPECT_TRUE(torch::equal(view, expected));
  EXPECT_EQ(rng.state(), replay.state());
  config.auto_augment = config::AutoAugmentPolicy::kNone;
  Rng plain(4), flip_only(4);
  random_view(images, config, plain);
  random_flip(random_crop(images, 0, flip_only), flip_only);
  EXPECT_EQ(plain.state(), flip_only.state());
}

// Each view recipe is its codebase's transform list, on the run's normalisation; `augment` is the run's section.
TEST(BatchTransforms, ViewRecipesAreTheirCodebasesAugmentations) {
  config::AugmentConfig run;
  run.cutout = 8;
  run.color_jitter_prob = 0.3;
  run.mean = {0.5};
  run.std = {0.25};
  run.crop_ratio = {0.5, 2.0};
  const auto same = view_augment(run, config::ViewAugment::kAugment);
  EXPECT_EQ(same.cutout, 8);
  EXPECT_EQ(same.color_jitter_prob, 0.3);

  const auto sim = view_augment(run, config::ViewAugment::kSimAugment);
  EXPECT_TRUE(sim.resized_crop && sim.flip);
  EXPECT_EQ(sim.crop_scale, (std::vector<double>{0.2, 1.0}));
  EXPECT_EQ(sim.color_jitter, (std::vector<double>{0.4, 0.4, 0.4, 0.1}));
  EXPECT_EQ(sim.color_jitter_prob, 0.8);
  EXPECT_EQ(sim.grayscale_prob, 0.2);
  EXPECT_EQ(sim.cutout, 0);
  EXPECT_EQ(sim.rand_augment_n, 0);
  EXPECT_EQ(sim.auto_augment, config::AutoAugmentPolicy::kNone);

  const auto autoaug = view_augment(run, config::ViewAugment::kAutoAugment);
  EXPECT_FALSE(autoaug.resized_crop);
  EXPECT_EQ(autoaug.crop_padding, 4);
  EXPECT_TRUE(autoaug.flip);
  EXPECT_EQ(autoaug.auto_augment, config::AutoAugmentPolicy::kCifar10);
  EXPECT_EQ(autoaug.cutout, 16);
  EXPECT_EQ(autoaug.color_jitter_prob, 0);
  EXPECT_EQ(autoaug.grayscale_prob, 0);

  const auto randaug = view_augment(run, config::ViewAugment::kRandAugment);
  EXPECT_TRUE(randaug.resized_crop && randaug.flip);
  EXPECT_EQ(randaug.crop_scale, (std::vector<double>{0.08, 1.0}));
  EXPECT_EQ(randaug.color_jitter, (std::vector<double>{0.4, 0.4, 0.4, 0.0}));
  EXPECT_EQ(randaug.color_jitter_prob, 1.0);
  EXPECT_EQ(randaug.rand_augment_n, 2);
  EXPECT_EQ(randaug.rand_augment_m, 10);
  EXPECT_EQ(randaug.rand_augment_mstd, 0.5);
  EXPECT_EQ(randaug.cutout, 0);

  for (const auto& view : {sim, autoaug, randaug}) {
    EXPECT_EQ(view.mean, run.mean);
    EXPECT_EQ(view.std, run.std);
    EXPECT_EQ(view.crop_ratio, run.crop_ratio);
  }
}

}  // namespace smcl::augment
