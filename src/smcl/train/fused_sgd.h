// SGD with momentum and coupled weight decay, as torch::optim::SGD computes it, in a handful of kernels for the
// whole model: the parameters, their gradients and their momentum buffers become views into one contiguous
// buffer each (per dtype and device), and the update runs once over each buffer instead of once per parameter.
// A GPU step is launch-bound (docs/performance.md); on the CPU the per-parameter loop costs little.
//
// It is a torch::optim::SGD: its parameter groups, options (the schedule sets the learning rate there), state
// and checkpoints are SGD's, so a checkpoint written with either resumes with the other. Its numbers are SGD's
// up to one rounding per element and step: ATen computes a + alpha * b with a fused multiply-add in its
// vectorised loop and without one in a tensor's last few elements, and one buffer has other last elements than
// each parameter. train.fused_sgd chooses it (auto: on CUDA only);
// unfused it is SGD itself.
#pragma once

#include <torch/optim/sgd.h>

#include <vector>

#include "smcl/config/choices.h"

namespace smcl::train {

// Whether train.fused_sgd fuses on `device`: on, or auto on a CUDA device.
bool fuses_sgd(config::Switch setting, const torch::Device& device);

class FusedSgd : public torch::optim::SGD {
 public:
  // fuse false: every step is SGD's own.
  FusedSgd(const std::vector<torch::Tensor>& parameters, const torch::optim::SGDOptions& options, bool fuse = true);

  // SGD's update. With fuse, fused when there is one parameter group, every parameter has a gradient and is dense, and
  // either every parameter or none has a momentum buffer yet; otherwise SGD's own per-parameter step. Whatever
  // replaced a parameter's, gradient's or buffer's storage since (a checkpoint loaded into the model, a
  // gradient set to none) is copied into the buffers again first.
  torch::Tensor step(LossClosure closure = nullptr) override;

  // SGD's load; the buffers are made again from what it loaded at the next step.
  void load(torch::serialize::InputArchive& archive) override;

  // Every defined gradient to zero in place (libtorch 1.13's zero_grad), one kernel per buffer once they are
  // flat. Call it instead of zero_grad, whose 2.x default sets gradients to none and so undoes the flat ones.
  void zero_gradients();

  // Whether the last step was fused (for the tests).
  bool fused() const { return fused_; }

 private:
  // One contiguous buffer of parameters, gradients and momentum for the parameters of one dtype and device.
  struct Flat {
    torch::Tensor params, grads, momentum;
    std::vector<torch::Tensor> members;                // the parameters, in the optimiser's order
    std::vector<int64_t> offsets;                      // where each member starts in the buffers, in elements
    std::vector<torch::optim::SGDParamState*> states;  // each member's momentum state, null before the first step
  };

  bool can_fuse() const;
  bool flat_is_current() const;
  void flatten();

  bool fuse_;
  std::vector<Flat> flats_;
  bool fused_ = false;
};

}  // namespace smcl::train
