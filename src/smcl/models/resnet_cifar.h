// ResNet for small images (He et al. 2016, section 4.2): depth 6n+2, three stages of n BasicBlocks at
// 16/32/64 channels, "option A" parameter-free shortcuts, global average pooling, a linear classifier.
// This is the network of LDAM-DRW, CMO and SMCL on CIFAR; ResNet-32 with 100 classes has 470,004 parameters.
#pragma once

#include <torch/nn.h>

#include <string>

namespace smcl::models {

struct Output {
  torch::Tensor feature_map; // [B, 64, H / 4, W / 4] output of the last stage, before pooling (for CAM)
  torch::Tensor features;    // [B, 64] pooled features h
  torch::Tensor logits;      // [B, K]
  torch::Tensor projection;  // [B, 128] L2-normalised projection head output; undefined without a head
};

// Output size of the projection head (SPEC section 6).
constexpr int64_t kProjectionDim = 128;

class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  int64_t pad_channels_ = 0;  // option A: channels zero-padded on each side of the subsampled input
  bool downsample_ = false;
};
TORCH_MODULE(BasicBlock);

class ResNetCifarImpl : public torch::nn::Module {
 public:
  // depth = 6n + 2 (8, 14, 20, 32, 44, 56, 110); in_channels follows the data (1 for MNIST-like, 3 for CIFAR).
  // with_projection adds the contrastive head Linear(64, 64) ReLU Linear(64, 128). cosine_classifier replaces
  // the linear classifier by LDAM's cosine one: logits cos(h, W_k) = h W_k / (||h|| ||W_k||), no bias.
  ResNetCifarImpl(int64_t depth, int64_t num_classes, int64_t in_channels, bool with_projection = false,
                  bool cosine_classifier = false);
  // x [B, C, H, W] float32 -> last feature map, pooled features, logits and (with a head) the normalised
  // projection, in one pass.
  Output forward(const torch::Tensor& x);

  int64_t feature_dim() const { return 64; }
  torch::nn::Linear& classifier() { return linear_; }
  bool cosine_classifier() const { return cosine_; }
  // The classifier alone: pooled features [B, 64] -> logits [B, K].
  torch::Tensor classify(const torch::Tensor& features);
  // NHWC (channels_last) convolution weights, and every input converted to it in forward: oneDNN and cuDNN
  // then skip their layout reorders. Call after the model is on its device; the numbers do not change.
  void use_channels_last();

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  torch::nn::Sequential layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr};
  torch::nn::Linear linear_{nullptr};
  torch::nn::Sequential head_{nullptr};
  bool cosine_ = false;
  bool channels_last_ = false;
};
TORCH_MODULE(ResNetCifar);

// model.name ("resnet32") -> network. Throws smcl::Error on an unknown name.
ResNetCifar make_model(const std::string& name, int64_t num_classes, int64_t in_channels,
                       bool with_projection = false, bool cosine_classifier = false);

// Number of trainable parameters.
int64_t parameter_count(const torch::nn::Module& module);

}  // namespace smcl::models
