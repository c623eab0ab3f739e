#include "smcl/models/resnet_cifar.h"

#include <gtest/gtest.h>

#include "smcl/core/error.h"

namespace smcl::models {

TEST(ResNetCifar, ParameterCountsFollowTheClosedForm) {
  // ResNet-32, 100 classes, counted by hand: conv1 3*16*9 = 432, bn1 32; stage 1: 5 blocks of
  // 2 * (16*16*9) + 2 * 32 = 4672 -> 23,360; stage 2: 16*32*9 + 32*32*9 + 128 = 13,952 then 4 * 18,560 -> 88,192;
  // stage 3: 32*64*9 + 64*64*9 + 256 = 55,552 then 4 * 73,984 -> 351,488; linear 64*100 + 100 = 6,500.
  EXPECT_EQ(parameter_count(*make_model(config::ModelName::kResNet32, 100, 3)), 470004);
  // ResNet-8, 10 classes, one input channel: 144 + 32 + 4672 + 13952 + 55552 + 650.
  EXPECT_EQ(parameter_count(*make_model(config::ModelName::kResNet8, 10, 1)), 75002);
}

TEST(ResNetCifar, ShapesForCifarAndMnistSizes) {
  torch::manual_seed(0);
  auto model = make_model(config::ModelName::kResNet20, 10, 3);
  auto out = model->forward(torch::randn({4, 3, 32, 32}));
  EXPECT_EQ(out.features.sizes(), (std::vector<int64_t>{4, 64}));
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{4, 10}));
  auto mnist = make_model(config::ModelName::kResNet8, 7, 1);
  EXPECT_EQ(mnist->forward(torch::randn({2, 1, 28, 28})).logits.sizes(), (std::vector<int64_t>{2, 7}));
}

TEST(ResNetCifar, OptionAShortcutIsSubsampleAndZeroChannels) {
  // With both convolutions' batch-norm scales at zero the residual branch is 0 and the block outputs
  // relu(shortcut): x[:, :, ::2, ::2] with planes / 4 = 4 zero channels on each side (8 -> 16 channels).
  BasicBlock block(8, 16, 2);
  torch::NoGradGuard no_grad;
  for (auto& p : block->named_parameters()) {
    if (p.key().find("bn") != std::string::npos && p.key().find("weight") != std::string::npos) p.value().zero_();
  }
  block->eval();
  auto x = torch::rand({2, 8, 6, 6});
  auto y = block->forward(x);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2, 16, 3, 3}));
  using namespace torch::indexing;
  EXPECT_TRUE(torch::allclose(y.index({Slice(), Slice(4, 12)}),
                              x.index({Slice(), Slice(), Slice(0, None, 2), Slice(0, None, 2)})));
  EXPECT_EQ(y.index({Slice(), Slice(0, 4)}).abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(y.index({Slice(), Slice(12, 16)}).abs().sum().item<float>(), 0.0f);
}

TEST(ResNetCifar, InitialisationIsKaimingNormal) {
  torch::manual_seed(0);
  auto model = make_model(config::ModelName::kResNet32, 10, 3);
  // layer3's convolutions have fan-in 64 * 9: std sqrt(2 / 576) = 0.0589.
  std::vector<torch::Tensor> weights;
  for (auto& p : model->named_parameters()) {
    if (p.key().rfind("layer3", 0) == 0 && p.key().find("conv") != std::string::npos && p.value().size(1) == 64) {
      weights.push_back(p.value().flatten());
    }
  }
  auto all = torch::cat(weights);
  EXPECT_NEAR(all.std().item<double>(), std::sqrt(2.0 / 576.0), 0.002);
  EXPECT_NEAR(all.mean().item<double>(), 0.0, 0.002);
}

}  // namespace smcl::models
