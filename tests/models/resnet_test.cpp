// torchvision's ResNet-50: size, shapes and initialisation (its names and numerics are tested against
// torchvision itself in train/exchange_test.cpp).
#include "smcl/models/resnet.h"

#include <gtest/gtest.h>

#include <cmath>

namespace smcl::models {

TEST(ResNet, Resnet50HasTorchvisionsParameterCount) {
  // torchvision.models.resnet50(): 25,557,032 parameters with 1000 classes.
  EXPECT_EQ(parameter_count(*make_model(config::ModelName::kResNet50, 1000, 3)), 25557032);
  // With SMCL's projection head 2048 -> 2048 -> 128: + 2048 * 2048 + 2048 + 2048 * 128 + 128.
  EXPECT_EQ(parameter_count(*make_model(config::ModelName::kResNet50, 1000, 3, {kSupConHead})),
            25557032 + 4196352 + 262272);
}

TEST(ResNet, ShapesAndFeatureMapForCam) {
  torch::manual_seed(0);
  auto model = make_model(config::ModelName::kResNet50, 7, 3, {kSupConHead});
  EXPECT_EQ(model->feature_dim(), 2048);
  EXPECT_EQ(model->classifier_name(), "fc");
  auto out = model->forward(torch::randn({2, 3, 64, 64}));
  EXPECT_EQ(out.feature_map.sizes(), (std::vector<int64_t>{2, 2048, 2, 2}));
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{2, 7}));
  EXPECT_EQ(out.projection.sizes(), (std::vector<int64_t>{2, 128}));
  EXPECT_NEAR(out.projection.norm(2, 1).mean().item<double>(), 1.0, 1e-5);
}

TEST(ResNet, ConvolutionsAreKaimingNormalFanOut) {
  torch::manual_seed(0);
  auto model = make_model(config::ModelName::kResNet50, 10, 3);
  // layer3's 3x3 convolutions: 256 output channels, fan-out 256 * 9: std sqrt(2 / 2304).
  std::vector<torch::Tensor> weights;
  for (auto& p : model->named_parameters()) {
    if (p.key().rfind("layer3", 0) == 0 && p.key().find("conv2.weight") != std::string::npos) {
      weights.push_back(p.value().flatten());
    }
  }
  ASSERT_EQ(weights.size(), 6u);
  EXPECT_NEAR(torch::cat(weights).std().item<double>(), std::sqrt(2.0 / 2304.0), 0.0005);
}

}  // namespace smcl::models
