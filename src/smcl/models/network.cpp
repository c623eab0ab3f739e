#include "smcl/models/network.h"

#include <algorithm>

#include "smcl/core/error.h"
#include "smcl/models/resnet.h"
#include "smcl/models/resnet_cifar.h"

namespace smcl::models {
namespace F = torch::nn::functional;

void NetworkImpl::add_heads(int64_t feature_dim, int64_t num_classes, const std::string& classifier_name,
                            bool with_projection, bool cosine_classifier) {
  feature_dim_ = feature_dim;
  cosine_ = cosine_classifier;
  classifier_name_ = classifier_name;
  classifier_ = register_module(classifier_name,
                                torch::nn::Linear(torch::nn::LinearOptions(feature_dim, num_classes).bias(!cosine_)));
  if (with_projection) {
    head_ =
        register_module("head", torch::nn::Sequential(torch::nn::Linear(feature_dim, feature_dim), torch::nn::ReLU(),
                                                      torch::nn::Linear(feature_dim, kProjectionDim)));
  }
}

void NetworkImpl::init_cosine_classifier() {
  torch::NoGradGuard no_grad;
  auto& w = classifier_->weight;
  w.uniform_(-1, 1);
  w.div_(w.norm(2, 1, /*keepdim=*/true));
}

torch::Tensor NetworkImpl::classify(const torch::Tensor& features) {
  if (!cosine_) return classifier_(features);
  return F::normalize(features, F::NormalizeFuncOptions().dim(1))
      .mm(F::normalize(classifier_->weight, F::NormalizeFuncOptions().dim(1)).t());
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

Network make_model(config::ModelName name, int64_t num_classes, int64_t in_channels, bool with_projection,
                   bool cosine_classifier) {
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
    network =
        std::make_shared<ResNetCifarImpl>(cifar_depth, num_classes, in_channels, with_projection, cosine_classifier);
  } else {
    network = std::make_shared<ResNetImpl>(depth, num_classes, in_channels, with_projection, cosine_classifier);
  }
  return Network(network);
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters()) total += p.numel();
  return total;
}

}  // namespace smcl::models
