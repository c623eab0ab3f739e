// torchvision's ResNet-50/101/152 (the v1.5 Bottleneck: stride on the 3x3 convolution) with torchvision's
// parameter names (conv1, bn1, layer1-4 of Bottleneck blocks with conv1-3, bn1-3 and downsample.0/.1, fc), so a
// torchvision state dict loads as it is. The ImageNet-LT network of the paper; ResNet-50 has 25,557,032
// parameters with 1000 classes.
#pragma once

#include "smcl/models/network.h"

namespace smcl::models {

class BottleneckImpl : public torch::nn::Module {
 public:
  // width = planes; output 4 * planes channels; stride on conv2; a 1x1 conv + BN shortcut when the shape changes.
  BottleneckImpl(int64_t in_planes, int64_t planes, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(Bottleneck);

class ResNetImpl : public NetworkImpl {
 public:
  // depth 50, 101 or 152; features are 2048-d. Initialised as torchvision does: Kaiming-normal (fan-out, ReLU)
  // convolutions, batch norm 1 and 0, PyTorch's default linear layers.
  ResNetImpl(int64_t depth, int64_t num_classes, int64_t in_channels, const Heads& heads = {});

 protected:
  torch::Tensor backbone(const torch::Tensor& x) override;

 private:
  torch::nn::Conv2d conv1_{nullptr};
  BatchNorm2d bn1_{nullptr};
  torch::nn::Sequential layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr}, layer4_{nullptr};
};

}  // namespace smcl::models
