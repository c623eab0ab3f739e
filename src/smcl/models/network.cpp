#include "smcl/models/network.h"

#include <algorithm>

#include "smcl/core/error.h"
#include "smcl/models/resnet.h"
#include "smcl/models/resnet_cifar.h"

namespace smcl::models {
namespace F = torch::nn::functional;

void NetworkImpl::add_heads(int64_t feature_dim, int64_t num_classes, const std::string& classifier_name,
                            const Heads& heads) {
  SMCL_ASSERT(heads.cosine_scale >= 0 && heads.projection.dim >= 0 && heads.projection.hidden_layers >= 0,
              "heads: cosine scale " << heads.cosine_scale << ", projection dim " << heads.projection.dim);
  feature_dim_ = feature_dim;
  cosine_scale_ = heads.cosine_scale;
  classifier_name_ = classifier_name;
  classifier_ =
      register_module(classifier_name,
                      torch::nn::Linear(torch::nn::LinearOptions(feature_dim, num_classes).bias(!cosine_classifier())));
  if (heads.projection.dim > 0) {
    // The linear layers are made last first: their default biases draw from torch's global generator in the order
    // in which GCC evaluated the arguments of the Sequential(Linear, ReLU, Linear) that this replaced, which every
    // recorded run of SCL and SMCL used.
    const auto last = torch::nn::Linear(feature_dim, heads.projection.dim);
    std::vector<torch::nn::Linear> hidden;
    for (int64_t i = 0; i < heads.projection.hidden_layers; ++i) {
      hidden.insert(hidden.begin(), torch::nn::Linear(feature_dim, feature_dim));
    }
    torch::nn::Sequential head;
    for (const auto& linear : hidden) {
      head->push_back(linear);
      if (heads.projection.batch_norm) head->push_back(torch::nn::BatchNorm1d(feature_dim));
      head->push_back(torch::nn::ReLU());
    }
    head->push_back(last);
    head_ = register_module("head", head);
  }
}

void NetworkImpl::init_cosine_classifier() {
  torch::NoGradGuard no_grad;
  auto& w = classifier_->weight;
  w.uniform_(-1, 1);
  w.div_(w.norm(2, 1, /*keepdim=*/true));
}

torch::Tensor NetworkImpl::classify(const torch::Tensor& features) {
  if (!cosine_classifier()) return classifier_(features);
  auto cosines = F::normalize(features, F::NormalizeFuncOptions().dim(1))
                     .mm(F::normalize(classifier_->weight, F::NormalizeFuncOptions().dim(1)).t());
  return cosine_scale_ * cosines;  // exact for LDAM's s = 1 (its scale is in its loss)
}

void NetworkImpl::use_channels_last() {
  torch::NoGradGuard no_grad;
  for (auto& p : parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
  }
  channels_last_ = true;
}

void NetworkImpl::synchronize_batch_norm(bool on) {
  for (auto& module : modules()) {
    if (auto* bn = dynamic_cast<BatchNorm2dImpl*>(module.get())) bn->set_synchronized(on);
  }
}

Output NetworkImpl::forward(const torch::Tensor& x) {
  auto map = backbone(channels_last_ ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x);
  auto features = map.mean({2, 3});
  torch::Tensor projection;
  if (head_) projection = F::normalize(head_->forward(features), F::NormalizeFuncOptions().dim(1));
  return {map, features, classify(features), projection};
}

Network make_model(config::ModelName name, int64_t num_classes, int64_t in_channels, const Heads& heads) {
  using config::ModelName;
  int64_t cifar_depth = 0;  // ResNet-CIFAR's 6n+2; 0: torchvision's ResNet
  int64_t depth = 0;
  switch (name) {
    case ModelName::kResNet8: cifar_depth = 8; break;
    case ModelName::kResNet14: cifar_depth = 14; break;
    case ModelName::kResNet20: cifar_depth = 20; break;
    case ModelName::kResNet32: cifar_depth = 32; break;
    case ModelName::kResNet44: cifar_depth = 44; break;
    case ModelName::kResNet56: cifar_depth = 56; break;
    case ModelName::kResNet110: cifar_depth = 110; break;
    case ModelName::kResNet50: depth = 50; break;
    case ModelName::kResNet101: depth = 101; break;
    case ModelName::kResNet152: depth = 152; break;
  }
  SMCL_ASSERT(cifar_depth > 0 || depth > 0, "model.name value " << static_cast<int>(name) << " has no network");
  std::shared_ptr<NetworkImpl> network;
  if (cifar_depth > 0) {
    network = std::make_shared<ResNetCifarImpl>(cifar_depth, num_classes, in_channels, heads);
  } else {
    network = std::make_shared<ResNetImpl>(depth, num_classes, in_channels, heads);
  }
  return Network(network);
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters()) total += p.numel();
  return total;
}

}  // namespace smcl::models
