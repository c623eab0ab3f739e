// The networks smcl trains, behind one interface: a backbone to a feature map, global average pooling to the
// features h, a classifier (linear, or a cosine one) and optionally a contrastive projection head.
// Backbones: ResNet-CIFAR (resnet_cifar.h) and torchvision's ResNet-50/101/152 (resnet.h), each with the
// parameter names of the code it comes from, so state dicts can be exchanged with PyTorch (exchange.h).
#pragma once

#include <torch/nn.h>

#include <string>
#include <vector>

#include "smcl/config/choices.h"
#include "smcl/models/batch_norm.h"

namespace smcl::models {

struct Output {
  torch::Tensor feature_map;  // [B, D, H', W'] output of the last stage, before pooling (for CAM)
  torch::Tensor features;     // [B, D] pooled features h
  torch::Tensor logits;       // [B, K]
  torch::Tensor projection;   // [B, P] L2-normalised projection head output; undefined without a head
};

// A contrastive projection head: hidden_layers blocks of Linear(D, D), [BatchNorm1d(D),] ReLU, then Linear(D, dim),
// its output L2-normalised. Its Sequential's indices are the state-dict names of the codebases it comes from.
struct ProjectionHead {
  int64_t dim = 0;  // output size; 0: no head
  int64_t hidden_layers = 1;
  bool batch_norm = false;
};
// SupCon's head (SCL and SMCL; SPEC section 6): Linear(D, D) ReLU Linear(D, 128).
constexpr ProjectionHead kSupConHead{128, 1, false};

// What a network carries besides its backbone.
struct Heads {
  ProjectionHead projection;  // dim 0: none
  double cosine_scale = 0;    // > 0: a cosine classifier, logits cosine_scale * cos(h, W_k), no bias; 0: linear
};

class NetworkImpl : public torch::nn::Module {
 public:
  // x [B, C, H, W] float32 -> last feature map, pooled features, logits and (with a head) the normalised
  // projection, in one pass.
  Output forward(const torch::Tensor& x);

  int64_t feature_dim() const { return feature_dim_; }
  torch::nn::Linear& classifier() { return classifier_; }
  // The classifier's name in the state dict: "linear" (ResNet-CIFAR) or "fc" (torchvision).
  const std::string& classifier_name() const { return classifier_name_; }
  bool cosine_classifier() const { return cosine_scale_ > 0; }
  double cosine_scale() const { return cosine_scale_; }
  bool has_projection() const { return !head_.is_empty(); }
  // The classifier alone: pooled features [B, D] -> logits [B, K].
  torch::Tensor classify(const torch::Tensor& features);
  // NHWC (channels_last) convolution weights, and every input converted to it in forward: oneDNN and cuDNN
  // then skip their layout reorders. Call after the model is on its device; the numbers do not change.
  void use_channels_last();

  // Synchronised batch norm (train.sync_bn): every BatchNorm2d normalises with the statistics of all processes.
  void synchronize_batch_norm(bool on);

 protected:
  // The layers before pooling: x [B, C, H, W] -> [B, D, H', W'].
  virtual torch::Tensor backbone(const torch::Tensor& x) = 0;
  // Registers the classifier (as `classifier_name`: its name in the source codebase) and the projection head, if
  // any, as "head". Backbones call it after registering their layers, which fixes the parameter order (checkpoints'
  // optimiser state follows it). A cosine classifier's logits are s h W_k / (||h|| ||W_k||), no bias.
  void add_heads(int64_t feature_dim, int64_t num_classes, const std::string& classifier_name, const Heads& heads);
  // The NormedLinear initialisation of LDAM-DRW and BCL: uniform(-1, 1) weights, each class row scaled to unit
  // norm; backbones call it after their own initialisation when the classifier is a cosine one.
  void init_cosine_classifier();

 private:
  torch::nn::Linear classifier_{nullptr};
  torch::nn::Sequential head_{nullptr};
  std::string classifier_name_;
  int64_t feature_dim_ = 0;
  double cosine_scale_ = 0;
  bool channels_last_ = false;
};

// A network of any backbone (a ModuleHolder, like TORCH_MODULE's).
class Network : public torch::nn::ModuleHolder<NetworkImpl> {
 public:
  using torch::nn::ModuleHolder<NetworkImpl>::ModuleHolder;
};

// model.name -> network: resnet8 .. resnet110 (ResNet-CIFAR, depth 6n+2) or resnet50, resnet101, resnet152
// (torchvision).
Network make_model(config::ModelName name, int64_t num_classes, int64_t in_channels, const Heads& heads = {});

// Number of trainable parameters.
int64_t parameter_count(const torch::nn::Module& module);

}  // namespace smcl::models
