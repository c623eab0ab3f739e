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
    head_ = register_module("head", torch::nn::Sequential(torch::nn::Linear(feature_dim, feature_dim),
                                                         torch::nn::ReLU(),
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

Output NetworkImpl::forward(const torch::Tensor& x) {
  auto map = backbone(channels_last_ ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x);
  auto features = map.mean({2, 3});
  torch::Tensor projection;
  if (head_) projection = F::normalize(head_->forward(features), F::NormalizeFuncOptions().dim(1));
  return {map, features, classify(features), projection};
}

std::vector<std::string> model_names() {
  return {"resnet8", "resnet14", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110",
          "resnet50", "resnet101", "resnet152"};
}

Network make_model(const std::string& name, int64_t num_classes, int64_t in_channels, bool with_projection,
                   bool cosine_classifier) {
  const std::string prefix = "resnet";
  const auto names = model_names();
  if (std::find(names.begin(), names.end(), name) != names.end()) {
    const int64_t depth = std::stoll(name.substr(prefix.size()));
    std::shared_ptr<NetworkImpl> network;
    if (depth == 50 || depth == 101 || depth == 152) {
      network = std::make_shared<ResNetImpl>(depth, num_classes, in_channels, with_projection, cosine_classifier);
    } else {
      network = std::make_shared<ResNetCifarImpl>(depth, num_classes, in_channels, with_projection, cosine_classifier);
    }
    return Network(network);
  }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  throw Error("unknown model '" + name + "' (allowed: " + list +
              "; resnet8 .. resnet110 are ResNet-CIFAR of depth 6n+2, resnet50/101/152 torchvision's ResNets)");
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters()) total += p.numel();
  return total;
}

}  // namespace smcl::models
