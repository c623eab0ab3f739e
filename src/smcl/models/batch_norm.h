// BatchNorm2d with torch.nn.BatchNorm2d's parameters, buffers, defaults and numbers (it calls the same
// batch_norm kernel), which can also synchronise its training statistics over the processes of a data-parallel
// job, as torch.nn.SyncBatchNorm does. Its own module rather than a subclass of torch::nn::BatchNorm2dImpl,
// whose template base libtorch does not export. Not here: options other than the number of channels.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace smcl::models {

class BatchNorm2dImpl : public torch::nn::Module {
 public:
  // weight (ones), bias (zeros), running_mean (zeros), running_var (ones), num_batches_tracked, registered in
  // PyTorch's order and with its names; eps 1e-5, momentum 0.1.
  explicit BatchNorm2dImpl(int64_t channels);

  // x [B, C, H, W] -> normalised x. Training uses the batch's statistics and updates the running ones; eval mode
  // the running ones. In training with synchronisation on and a process group of several processes
  // (core/distributed.h), the batch mean and variance are those of every process's batch together, and the
  // gradient flows through them to every process's input.
  torch::Tensor forward(const torch::Tensor& x);

  void set_synchronized(bool on) { synchronized_ = on; }

  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  torch::Tensor synchronized_forward(const torch::Tensor& x);

  static constexpr double kEps = 1e-5;
  static constexpr double kMomentum = 0.1;
  bool synchronized_ = false;
};

TORCH_MODULE(BatchNorm2d);

}  // namespace smcl::models
