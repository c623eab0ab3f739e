// ResNet for small images (He et al. 2016, section 4.2): depth 6n+2, three stages of n BasicBlocks at
// 16/32/64 channels, "option A" parameter-free shortcuts, global average pooling, a linear classifier.
// This is the network of LDAM-DRW, CMO and SMCL on CIFAR, with their parameter names (conv1, bn1, layer1-3,
// linear); ResNet-32 with 100 classes has 470,004 parameters.
#pragma once

#include "smcl/models/network.h"

namespace smcl::models {

class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  int64_t pad_channels_ = 0;  // option A: channels zero-padded on each side of the subsampled input
  bool downsample_ = false;
};
TORCH_MODULE(BasicBlock);

class ResNetCifarImpl : public NetworkImpl {
 public:
  // depth = 6n + 2 (8, 14, 20, 32, 44, 56, 110); in_channels follows the data (1 for MNIST-like, 3 for CIFAR).
  // Features are 64-d. Kaiming-normal initialisation of every conv and linear weight (LDAM-DRW's _weights_init).
  ResNetCifarImpl(int64_t depth, int64_t num_classes, int64_t in_channels, const Heads& heads = {});

 protected:
  torch::Tensor backbone(const torch::Tensor& x) override;

 private:
  torch::nn::Conv2d conv1_{nullptr};
  BatchNorm2d bn1_{nullptr};
  torch::nn::Sequential layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr};
};

}  // namespace smcl::models
