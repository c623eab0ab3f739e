#include "smcl/models/resnet_cifar.h"

#include "smcl/core/error.h"

namespace smcl::models {
namespace {

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride) {
  conv1_ = register_module("conv1", conv3x3(in_planes, planes, stride));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(planes));
  conv2_ = register_module("conv2", conv3x3(planes, planes, 1));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(planes));
  if (stride != 1 || in_planes != planes) {
    SMCL_ASSERT(stride == 2 && planes == 2 * in_planes, "option A needs stride 2 and doubled channels");
    downsample_ = true;
    pad_channels_ = planes / 4;
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  auto out = torch::relu(bn1_(conv1_(x)));
  out = bn2_(conv2_(out));
  torch::Tensor shortcut = x;
  if (downsample_) {
    // Option A: x[:, :, ::2, ::2] with planes/4 zero channels on each side.
    using namespace torch::indexing;
    shortcut = torch::constant_pad_nd(x.index({Slice(), Slice(), Slice(None, None, 2), Slice(None, None, 2)}),
                                      {0, 0, 0, 0, pad_channels_, pad_channels_}, 0);
  }
  return torch::relu(out + shortcut);
}

ResNetCifarImpl::ResNetCifarImpl(int64_t depth, int64_t num_classes, int64_t in_channels, bool with_projection,
                                 bool cosine_classifier)
    : cosine_(cosine_classifier) {
  SMCL_CHECK(depth >= 8 && (depth - 2) % 6 == 0, "ResNet-CIFAR depth must be 6n+2 with n >= 1, got " << depth);
  const int64_t blocks = (depth - 2) / 6;
  conv1_ = register_module("conv1", conv3x3(in_channels, 16, 1));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(16));
  int64_t in_planes = 16;
  auto stage = [&](int64_t planes, int64_t stride) {
    torch::nn::Sequential layer;
    for (int64_t i = 0; i < blocks; ++i) {
      layer->push_back(BasicBlock(in_planes, planes, i == 0 ? stride : 1));
      in_planes = planes;
    }
    return layer;
  };
  layer1_ = register_module("layer1", stage(16, 1));
  layer2_ = register_module("layer2", stage(32, 2));
  layer3_ = register_module("layer3", stage(64, 2));
  linear_ = register_module("linear", torch::nn::Linear(torch::nn::LinearOptions(64, num_classes).bias(!cosine_)));
  if (with_projection) {
    head_ = register_module("head", torch::nn::Sequential(torch::nn::Linear(64, 64), torch::nn::ReLU(),
                                                         torch::nn::Linear(64, kProjectionDim)));
  }
  // Kaiming-normal (fan-in, gain sqrt(2)) for conv and linear weights, as LDAM-DRW's _weights_init; biases
  // and batch norm keep PyTorch's defaults.
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) torch::nn::init::kaiming_normal_(conv->weight);
    if (auto* linear = module->as<torch::nn::Linear>()) torch::nn::init::kaiming_normal_(linear->weight);
  }
  if (cosine_) {
    // LDAM-DRW's NormedLinear: uniform(-1, 1) weights with each class row scaled to unit norm.
    torch::NoGradGuard no_grad;
    auto& w = linear_->weight;
    w.uniform_(-1, 1);
    w.div_(w.norm(2, 1, /*keepdim=*/true));
  }
}

torch::Tensor ResNetCifarImpl::classify(const torch::Tensor& features) {
  if (!cosine_) return linear_(features);
  namespace F = torch::nn::functional;
  return F::normalize(features, F::NormalizeFuncOptions().dim(1))
      .mm(F::normalize(linear_->weight, F::NormalizeFuncOptions().dim(1)).t());
}

void ResNetCifarImpl::use_channels_last() {
  torch::NoGradGuard no_grad;
  for (auto& p : parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
  }
  channels_last_ = true;
}

Output ResNetCifarImpl::forward(const torch::Tensor& x) {
  auto out = torch::relu(bn1_(conv1_(channels_last_ ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x)));
  out = layer3_->forward(layer2_->forward(layer1_->forward(out)));
  auto features = out.mean({2, 3});
  torch::Tensor projection;
  if (head_) {
    projection = torch::nn::functional::normalize(head_->forward(features),
                                                  torch::nn::functional::NormalizeFuncOptions().dim(1));
  }
  return {out, features, classify(features), projection};
}

ResNetCifar make_model(const std::string& name, int64_t num_classes, int64_t in_channels, bool with_projection,
                       bool cosine_classifier) {
  const std::string prefix = "resnet";
  if (name.rfind(prefix, 0) == 0 && name.size() > prefix.size()) {
    std::string digits = name.substr(prefix.size());
    if (digits.find_first_not_of("0123456789") == std::string::npos && digits.size() <= 4) {
      int64_t depth = std::stoll(digits);
      if (depth >= 8 && (depth - 2) % 6 == 0) {
        return ResNetCifar(depth, num_classes, in_channels, with_projection, cosine_classifier);
      }
    }
  }
  throw Error("unknown model '" + name + "' (allowed: resnet8, resnet14, resnet20, resnet32, resnet44, resnet56, "
              "resnet110: ResNet-CIFAR of depth 6n+2)");
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters()) total += p.numel();
  return total;
}

}  // namespace smcl::models
