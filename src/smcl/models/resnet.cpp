#include "smcl/models/resnet.h"

#include "smcl/core/error.h"

namespace smcl::models {
namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false));
}

constexpr int64_t kExpansion = 4;

}  // namespace

BottleneckImpl::BottleneckImpl(int64_t in_planes, int64_t planes, int64_t stride) {
  conv1_ = register_module("conv1", conv(in_planes, planes, 1, 1));
  bn1_ = register_module("bn1", BatchNorm2d(planes));
  conv2_ = register_module("conv2", conv(planes, planes, 3, stride));
  bn2_ = register_module("bn2", BatchNorm2d(planes));
  conv3_ = register_module("conv3", conv(planes, planes * kExpansion, 1, 1));
  bn3_ = register_module("bn3", BatchNorm2d(planes * kExpansion));
  if (stride != 1 || in_planes != planes * kExpansion) {
    downsample_ = register_module("downsample", torch::nn::Sequential(conv(in_planes, planes * kExpansion, 1, stride),
                                                                      BatchNorm2d(planes * kExpansion)));
  }
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  auto out = torch::relu(bn1_(conv1_(x)));
  out = torch::relu(bn2_(conv2_(out)));
  out = bn3_(conv3_(out));
  return torch::relu(out + (downsample_ ? downsample_->forward(x) : x));
}

ResNetImpl::ResNetImpl(int64_t depth, int64_t num_classes, int64_t in_channels, const Heads& heads) {
  std::vector<int64_t> blocks;
  if (depth == 50) blocks = {3, 4, 6, 3};
  if (depth == 101) blocks = {3, 4, 23, 3};
  if (depth == 152) blocks = {3, 8, 36, 3};
  SMCL_CHECK(!blocks.empty(), "torchvision ResNet depth must be 50, 101 or 152, got " << depth);
  conv1_ = register_module(
      "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, 64, 7).stride(2).padding(3).bias(false)));
  bn1_ = register_module("bn1", BatchNorm2d(64));
  int64_t in_planes = 64;
  auto stage = [&](int64_t planes, int64_t count, int64_t stride) {
    torch::nn::Sequential layer;
    for (int64_t i = 0; i < count; ++i) {
      layer->push_back(Bottleneck(in_planes, planes, i == 0 ? stride : 1));
      in_planes = planes * kExpansion;
    }
    return layer;
  };
  layer1_ = register_module("layer1", stage(64, blocks[0], 1));
  layer2_ = register_module("layer2", stage(128, blocks[1], 2));
  layer3_ = register_module("layer3", stage(256, blocks[2], 2));
  layer4_ = register_module("layer4", stage(512, blocks[3], 2));
  add_heads(512 * kExpansion, num_classes, "fc", heads);
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* c = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(c->weight, 0, torch::kFanOut, torch::kReLU);
    }
  }
  if (cosine_classifier()) init_cosine_classifier();
}

torch::Tensor ResNetImpl::backbone(const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  auto out = torch::relu(bn1_(conv1_(x)));
  out = F::max_pool2d(out, F::MaxPool2dFuncOptions(3).stride(2).padding(1));
  return layer4_->forward(layer3_->forward(layer2_->forward(layer1_->forward(out))));
}

}  // namespace smcl::models
