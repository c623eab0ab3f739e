// RandAugment's operations against PIL as timm applies them (tests/reference/make_image_golden.py), and the
// per-image draws.
#include "smcl/augment/rand_augment.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace smcl::augment {

TEST(RandAugment, EveryOperationIsPilsAsTimmCallsIt) {
  auto golden = test::read_json(test::golden("images/rand_augment.json"));
  for (const auto* kind : {"rgb", "gray"}) {
    auto image = test::tensor_from_json(golden[kind], torch::kUInt8).unsqueeze(0);
    for (const auto& c : golden["cases"]) {
      const std::string op = c["op"];
      const double value = c["value"];
      auto ours = rand_augment_op(op, image, {value});
      auto expected = test::tensor_from_json(c[kind], torch::kUInt8).unsqueeze(0);
      ASSERT_EQ(ours.sizes(), expected.sizes()) << op;
      const int difference = (ours.to(torch::kInt) - expected.to(torch::kInt)).abs().max().item<int>();
      EXPECT_EQ(difference, 0) << kind << " " << op << " " << value;
    }
  }
}

TEST(RandAugment, LevelToArgumentIsTimms) {
  bool is_signed = false;
  EXPECT_DOUBLE_EQ(rand_augment_argument("Rotate", 10, &is_signed), 30.0);
  EXPECT_TRUE(is_signed);
  EXPECT_DOUBLE_EQ(rand_augment_argument("Posterize", 7, &is_signed), 2.0);  // int(0.7 * 4)
  EXPECT_FALSE(is_signed);
  EXPECT_DOUBLE_EQ(rand_augment_argument("Solarize", 5, &is_signed), 128.0);
  EXPECT_DOUBLE_EQ(rand_augment_argument("SolarizeAdd", 10, &is_signed), 110.0);
  EXPECT_DOUBLE_EQ(rand_augment_argument("Sharpness", 10, &is_signed), 1.9);
  EXPECT_DOUBLE_EQ(rand_augment_argument("TranslateY", 10, &is_signed), 0.45);
  EXPECT_EQ(rand_augment_ops().size(), 15u);
  EXPECT_THROW(rand_augment_op("Blur", torch::zeros({1, 3, 4, 4}, torch::kUInt8), {0}), Error);
}

TEST(RandAugment, BatchAppliesEachImagesOwnDraws) {
  auto images = torch::randint(0, 256, {48, 3, 9, 9}, torch::kUInt8);
  Rng rng(1);
  EXPECT_TRUE(torch::equal(rand_augment(images, 0, 10, 0.5, rng), images));
  EXPECT_EQ(rng.state(), Rng(1).state());
  // One layer without magnitude noise: replaying the draws, each image is its operation's result alone.
  Rng a(5), replay(5);
  auto out = rand_augment(images, 1, 9, 0, a);
  int unchanged = 0;
  for (int64_t i = 0; i < 48; ++i) {
    const auto& name = rand_augment_ops()[size_t(replay.uniform_int(15))];
    if (replay.uniform() > 0.5) {
      EXPECT_TRUE(torch::equal(out[i], images[i])) << i;
      ++unchanged;
      continue;
    }
    bool is_signed = false;
    double argument = rand_augment_argument(name, 9, &is_signed);
    if (is_signed && replay.uniform() > 0.5) argument = -argument;
    auto alone = rand_augment_op(name, images.narrow(0, i, 1), {argument});
    EXPECT_TRUE(torch::equal(out[i], alone[0])) << i << " " << name;
  }
  EXPECT_GT(unchanged, 12);  // about half skip
  EXPECT_LT(unchanged, 36);
}

}  // namespace smcl::augment
