#include "smcl/data/background.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace smcl::data {
namespace {

// Whether every row of image [3, H, W] is one colour (horizontal stripes, vertical gradients), or every column.
bool rows_constant(const torch::Tensor& image) { return image.eq(image.narrow(2, 0, 1)).all().item<bool>(); }
bool columns_constant(const torch::Tensor& image) { return image.eq(image.narrow(1, 0, 1)).all().item<bool>(); }

// A grayscale long-tailed set of black 28x28 objects (the backgrounds show everywhere): training counts
// 40, 20, 6, 4 (major classes 0 and 1), a balanced test set of 5 per class.
LongTailedData black_objects() {
  LongTailedData data;
  std::vector<int64_t> train_labels, test_labels;
  data.counts = {40, 20, 6, 4};
  for (int64_t k = 0; k < 4; ++k) {
    for (int64_t i = 0; i < data.counts[size_t(k)]; ++i) train_labels.push_back(k);
    for (int64_t i = 0; i < 5; ++i) test_labels.push_back(k);
  }
  auto set = [](const std::vector<int64_t>& labels) {
    return Dataset{torch::zeros({int64_t(labels.size()), 1, 28, 28}, torch::kUInt8), nullptr,
                   torch::tensor(labels, torch::kInt64), 4};
  };
  data.train = set(train_labels);
  data.test = set(test_labels);
  return data;
}

TEST(Background, KindsHaveTheirPatternAndAreDrawnFromTheSeed) {
  EXPECT_GE(background_kind_names().size(), 10u);
  Rng rng(7), again(7);
  for (int64_t kind = 0; kind < int64_t(background_kind_names().size()); ++kind) {
    auto image = render_background(kind, 32, rng);
    ASSERT_EQ(image.sizes(), (std::vector<int64_t>{3, 32, 32}));
    EXPECT_TRUE(image.equal(render_background(kind, 32, again))) << background_kind_names()[size_t(kind)];
    // Every kind is a pattern, not a flat colour.
    EXPECT_GT(image.to(torch::kFloat32).std().item<double>(), 5.0) << background_kind_names()[size_t(kind)];
  }
  EXPECT_TRUE(rows_constant(render_background(0, 32, rng)));  // horizontal stripes
  EXPECT_FALSE(columns_constant(render_background(0, 32, rng)));
  EXPECT_TRUE(columns_constant(render_background(1, 32, rng)));  // vertical stripes
  EXPECT_TRUE(columns_constant(render_background(4, 32, rng)));  // horizontal gradient
  EXPECT_TRUE(rows_constant(render_background(5, 32, rng)));     // vertical gradient
  EXPECT_NE(test::error_of([&] { render_background(12, 32, rng); }).find("background kind 12"), std::string::npos);
}

TEST(Background, CompositeCoversTheBackgroundInProportionToTheObjectsValue) {
  // One 2x2 object centred on a 4x4 background of colour (10, 100, 250): it lands on rows and columns 1-2.
  auto object = torch::tensor(std::vector<uint8_t>{0, 40, 85, 200}).view({1, 1, 2, 2});
  auto background =
      torch::tensor(std::vector<uint8_t>{10, 100, 250}).view({1, 3, 1, 1}).expand({1, 3, 4, 4}).contiguous();
  auto out = composite(object, background);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 3, 4, 4}));
  const double bg[3] = {10, 100, 250};
  for (int64_t c = 0; c < 3; ++c) {
    EXPECT_EQ(out[0][c][0][0].item<int>(), int(bg[c]));  // outside the object
    EXPECT_EQ(out[0][c][1][1].item<int>(), int(bg[c]));  // value 0: transparent
    const double alpha = 40.0 / 85.0;                    // value 40: partly opaque, in its own gray
    EXPECT_EQ(out[0][c][1][2].item<int>(), int(std::lround(alpha * 40 + (1 - alpha) * bg[c])));
    EXPECT_EQ(out[0][c][2][1].item<int>(), 85);  // value 85 and above: opaque
    EXPECT_EQ(out[0][c][2][2].item<int>(), 200);
  }
  auto rgb = torch::zeros({1, 3, 2, 2}, torch::kUInt8);
  EXPECT_NE(test::error_of([&] { composite(rgb, background); }).find("grayscale"), std::string::npos);
}

TEST(Background, MajorClassesAreTheLargerHalfLargestFirst) {
  EXPECT_EQ(major_classes({5, 9, 9, 1}), (std::vector<int64_t>{1, 2}));  // a tie goes to the lower index
  EXPECT_EQ(major_classes({3, 2, 1, 7, 5}), (std::vector<int64_t>{3, 4}));
}

TEST(Background, MajorClassesGetTheirOwnKindMinorClassesAndTestSetsDoNot) {
  auto data = black_objects();
  add_biased_backgrounds(data, /*bias=*/1.0, /*seed=*/3);
  ASSERT_EQ(data.train.images.sizes(), (std::vector<int64_t>{70, 3, 32, 32}));
  ASSERT_EQ(data.major_classes, (std::vector<int64_t>{0, 1}));
  // Class 0 owns kind 0 (horizontal stripes), class 1 kind 1 (vertical stripes): with bias 1, always.
  for (int64_t i = 0; i < 40; ++i) EXPECT_TRUE(rows_constant(data.train.images[i])) << i;
  for (int64_t i = 40; i < 60; ++i) EXPECT_TRUE(columns_constant(data.train.images[i])) << i;
  // The conflict split: the 10 minor-class test images, each on the own kind of the major class it names.
  ASSERT_EQ(data.conflict.size(), 10);
  EXPECT_TRUE(data.conflict.labels.equal(data.test.labels.narrow(0, 10, 10)));
  for (int64_t i = 0; i < 10; ++i) {
    int64_t owner = data.conflict_background_class[i].item<int64_t>();
    ASSERT_TRUE(owner == 0 || owner == 1);
    EXPECT_TRUE(owner == 0 ? rows_constant(data.conflict.images[i]) : columns_constant(data.conflict.images[i])) << i;
  }
  EXPECT_GT(data.conflict_background_class.sum().item<int64_t>(), 0);  // both owners occur
  EXPECT_LT(data.conflict_background_class.sum().item<int64_t>(), 10);

  // With bias 0, class 0 gets random kinds: most of its 40 images are not horizontal stripes.
  auto unbiased = black_objects();
  add_biased_backgrounds(unbiased, 0.0, 3);
  int64_t striped = 0;
  for (int64_t i = 0; i < 40; ++i) striped += rows_constant(unbiased.train.images[i]);
  EXPECT_LT(striped, 20);

  // Deterministic from the seed, and another seed draws other backgrounds.
  auto again = black_objects(), other = black_objects();
  add_biased_backgrounds(again, 1.0, 3);
  add_biased_backgrounds(other, 1.0, 4);
  EXPECT_TRUE(again.train.images.equal(data.train.images));
  EXPECT_TRUE(again.test.images.equal(data.test.images));
  EXPECT_TRUE(again.conflict.images.equal(data.conflict.images));
  EXPECT_FALSE(other.train.images.equal(data.train.images));
}

TEST(Background, RefusesSetsItCannotComposite) {
  auto data = black_objects();
  data.train.images = torch::zeros({70, 3, 28, 28}, torch::kUInt8);
  EXPECT_NE(test::error_of([&] { add_biased_backgrounds(data, 0.9, 0); }).find("grayscale"), std::string::npos);
  auto big = black_objects();
  big.train.images = torch::zeros({70, 1, 40, 40}, torch::kUInt8);
  EXPECT_NE(test::error_of([&] { add_biased_backgrounds(big, 0.9, 0); }).find("do not fit"), std::string::npos);
}

}  // namespace
}  // namespace smcl::data
