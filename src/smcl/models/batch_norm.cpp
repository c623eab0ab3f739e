#include "smcl/models/batch_norm.h"

#include <torch/torch.h>

#include "smcl/core/distributed.h"
#include "smcl/core/error.h"

namespace smcl::models {

BatchNorm2dImpl::BatchNorm2dImpl(int64_t channels) {
  weight = register_parameter("weight", torch::ones({channels}));
  bias = register_parameter("bias", torch::zeros({channels}));
  running_mean = register_buffer("running_mean", torch::zeros({channels}));
  running_var = register_buffer("running_var", torch::ones({channels}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
}

torch::Tensor BatchNorm2dImpl::forward(const torch::Tensor& x) {
  SMCL_ASSERT(x.dim() == 4, "BatchNorm2d expects [B, C, H, W], got " << x.sizes());
  if (synchronized_ && is_training() && dist::active()) return synchronized_forward(x);
  if (is_training()) {
    torch::NoGradGuard no_grad;
    num_batches_tracked.add_(1);
  }
  return torch::batch_norm(x, weight, bias, running_mean, running_var, is_training(), kMomentum, kEps,
                           torch::globalContext().userEnabledCuDNN());
}

torch::Tensor BatchNorm2dImpl::synchronized_forward(const torch::Tensor& x) {
  const int64_t c = x.size(1);
  const std::vector<int64_t> dims{0, 2, 3}, per_channel{1, c, 1, 1};
  // Statistics in float32 whatever autocast gave the input, in two passes (the mean, then the centred squares)
  // for the precision of the fused kernel.
  auto xf = x.to(torch::kFloat);
  auto count_here = torch::full({1}, double(x.numel() / std::max<int64_t>(1, c)), xf.options());
  auto sums = dist::all_reduce_sum(torch::cat({xf.sum(dims), count_here}));
  // The count stays a tensor: reading it back would stall a GPU at every layer. It is > 1: the step runner
  // never trains on fewer than two images.
  auto n = sums.narrow(0, c, 1).detach();
  auto mean = sums.narrow(0, 0, c) / n;
  auto centred = xf - mean.view(per_channel);
  auto var = dist::all_reduce_sum(centred.pow(2).sum(dims)) / n;
  auto y = centred * torch::rsqrt(var + kEps).view(per_channel) * weight.view(per_channel) + bias.view(per_channel);
  {
    torch::NoGradGuard no_grad;
    running_mean.mul_(1 - kMomentum).add_(mean.detach(), kMomentum);
    running_var.mul_(1 - kMomentum).add_(var.detach() * (n / (n - 1)), kMomentum);  // unbiased, as PyTorch
    num_batches_tracked.add_(1);
  }
  return y.to(x.scalar_type());
}

}  // namespace smcl::models
