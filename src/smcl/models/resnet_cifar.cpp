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
  bn1_ = register_module("bn1", BatchNorm2d(planes));
  conv2_ = register_module("conv2", conv3x3(planes, planes, 1));
  bn2_ = register_module("bn2", BatchNorm2d(planes));
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

ResNetCifarImpl::ResNetCifarImpl(int64_t depth, int64_t num_classes, int64_t in_channels, const Heads& heads) {
  SMCL_CHECK(depth >= 8 && (depth - 2) % 6 == 0, "ResNet-CIFAR depth must be 6n+2 with n >= 1, got " << depth);
  const int64_t blocks = (depth - 2) / 6;
  conv1_ = register_module("conv1", conv3x3(in_channels, 16, 1));
  bn1_ = register_module("bn1", BatchNorm2d(16));
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
  add_heads(64, num_classes, "linear", heads);
  // Kaiming-normal (fan-in, gain sqrt(2)) for conv and linear weights, as LDAM-DRW's _weights_init; biases
  // and batch norm keep PyTorch's defaults.
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) torch::nn::init::kaiming_normal_(conv->weight);
    if (auto* linear = module->as<torch::nn::Linear>()) torch::nn::init::kaiming_normal_(linear->weight);
  }
  if (cosine_classifier()) init_cosine_classifier();
}

torch::Tensor ResNetCifarImpl::backbone(const torch::Tensor& x) {
  auto out = torch::relu(bn1_(conv1_(x)));
  return layer3_->forward(layer2_->forward(layer1_->forward(out)));
}

}  // namespace smcl::models
