// RandAugment's operations against PIL as timm applies them, AutoAugment's CIFAR-10 policy and operations against
// torchvision's (tests/reference/make_image_golden.py), and the per-image draws of both.
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

// Every operation of the CIFAR-10 policy, at every magnitude bin and both signs, is torchvision's _apply_op on a PIL
// image (nearest, black fill), pixel for pixel; the magnitudes are its _augmentation_space's for the image's size.
TEST(AutoAugment, EveryOperationIsTorchvisionsOnPilImages) {
  auto golden = test::read_json(test::golden("images/auto_augment.json"));
  int64_t checked = 0;
  for (const auto& [kind, entry] : golden["images"].items()) {
    auto image = test::tensor_from_json(entry["image"], torch::kUInt8).unsqueeze(0);
    for (const auto& c : entry["cases"]) {
      const std::string op = c["op"];
      const double magnitude = c["magnitude"];
      if (!c["bin"].is_null()) {
        bool is_signed = false;
        EXPECT_EQ(auto_augment_magnitude(op, c["bin"], image.size(2), image.size(3), &is_signed), std::abs(magnitude))
            << kind << " " << op << " bin " << c["bin"];
      }
      auto ours = auto_augment_op(op, image, {magnitude});
      auto expected = test::tensor_from_json(c["image"], torch::kUInt8).unsqueeze(0);
      ASSERT_EQ(ours.sizes(), expected.sizes()) << op;
      EXPECT_TRUE(torch::equal(ours, expected)) << kind << " " << op << " " << magnitude << ": "
                                                << (ours.ne(expected)).sum().item<int64_t>() << " pixels differ";
      ++checked;
    }
  }
  EXPECT_EQ(checked, 30 + 183 + 183);
  EXPECT_THROW(auto_augment_op("Blur", torch::zeros({1, 3, 4, 4}, torch::kUInt8), {0}), Error);
}

TEST(AutoAugment, TheCifar10PolicyIsTorchvisions) {
  auto golden = test::read_json(test::golden("images/auto_augment.json"))["policy"];
  const auto& policy = auto_augment_cifar10_policy();
  ASSERT_EQ(policy.size(), golden.size());
  for (size_t p = 0; p < policy.size(); ++p) {
    for (size_t k = 0; k < 2; ++k) {
      const auto& step = golden[p][k];
      EXPECT_EQ(policy[p][k].op, step[0].get<std::string>()) << p;
      EXPECT_EQ(policy[p][k].probability, step[1].get<double>()) << p;
      EXPECT_EQ(policy[p][k].bin, step[2].is_null() ? -1 : step[2].get<int>()) << p;
    }
  }
}

// Replaying the draws, each image is its sub-policy's operations applied in turn, and nothing else.
TEST(AutoAugment, BatchAppliesEachImagesOwnDraws) {
  auto images = torch::randint(0, 256, {64, 3, 12, 12}, torch::kUInt8);
  Rng rng(2), replay(2);
  auto out = auto_augment_cifar10(images, rng);
  const auto& policy = auto_augment_cifar10_policy();
  int changed = 0;
  for (int64_t i = 0; i < 64; ++i) {
    const auto& steps = policy[size_t(replay.uniform_int(25))];
    auto alone = images.narrow(0, i, 1);
    for (const auto& step : steps) {
      const bool applies = replay.uniform() < step.probability, negative = replay.uniform() < 0.5;
      if (!applies) continue;
      bool is_signed = false;
      const double magnitude = auto_augment_magnitude(step.op, step.bin, 12, 12, &is_signed);
      alone = auto_augment_op(step.op, alone, {is_signed && negative ? -magnitude : magnitude});
    }
    EXPECT_TRUE(torch::equal(out[i], alone[0])) << i;
    changed += !torch::equal(out[i], images[i]);
  }
  EXPECT_EQ(rng.state(), replay.state());
  EXPECT_GT(changed, 32);  // most sub-policies change the image
}

}  // namespace smcl::augment
