#include "smcl/train/fused_sgd.h"

#include <torch/torch.h>

#include <memory>

#include "smcl/core/torch_compat.h"

namespace smcl::train {
namespace {

using torch::optim::SGDOptions;
using torch::optim::SGDParamState;

// The view of one member in a buffer: the parameter's own shape and strides (channels_last kept).
torch::Tensor member_view(const torch::Tensor& buffer, const torch::Tensor& parameter, int64_t offset) {
  return buffer.as_strided(parameter.sizes(), parameter.strides(), offset);
}

const void* address(const torch::Tensor& buffer, int64_t offset) {
  return static_cast<const char*>(buffer.data_ptr()) + offset * int64_t(buffer.element_size());
}

}  // namespace

bool fuses_sgd(config::Switch setting, const torch::Device& device) {
  return setting == config::Switch::kOn || (setting == config::Switch::kAuto && device.is_cuda());
}

FusedSgd::FusedSgd(const std::vector<torch::Tensor>& parameters, const SGDOptions& options, bool fuse)
    : torch::optim::SGD(parameters, options), fuse_(fuse) {}

bool FusedSgd::can_fuse() const {
  if (!fuse_ || param_groups().size() != 1) return false;
  size_t with_buffer = 0;
  const auto& params = param_groups()[0].params();
  for (const auto& p : params) {
    if (!p.grad().defined() || !p.is_non_overlapping_and_dense()) return false;
    with_buffer += state().count(optimizer_state_key<torch::optim::SGD>(p));
  }
  return with_buffer == 0 || with_buffer == params.size();
}

bool FusedSgd::flat_is_current() const {
  if (flats_.empty() || param_groups().size() != 1) return false;
  size_t members = 0;
  for (const auto& flat : flats_) {
    for (size_t i = 0; i < flat.members.size(); ++i) {
      const auto& p = flat.members[i];
      const int64_t offset = flat.offsets[i];
      if (p.data_ptr() != address(flat.params, offset) || !p.grad().defined() ||
          p.grad().data_ptr() != address(flat.grads, offset) ||
          (flat.states[i] != nullptr &&
           flat.states[i]->momentum_buffer().data_ptr() != address(flat.momentum, offset))) {
        return false;
      }
    }
    members += flat.members.size();
  }
  return members == param_groups()[0].params().size();
}

void FusedSgd::flatten() {
  torch::NoGradGuard no_grad;
  flats_.clear();
  std::vector<int64_t> totals;
  for (const auto& p : param_groups()[0].params()) {
    size_t k = 0;
    while (k < flats_.size() &&
           (flats_[k].members[0].scalar_type() != p.scalar_type() || flats_[k].members[0].device() != p.device())) {
      ++k;
    }
    if (k == flats_.size()) {
      flats_.emplace_back();
      totals.push_back(0);
    }
    flats_[k].members.push_back(p);
    flats_[k].offsets.push_back(totals[k]);
    totals[k] += p.numel();
  }
  for (size_t k = 0; k < flats_.size(); ++k) {
    auto& flat = flats_[k];
    const auto options = flat.members[0].options().requires_grad(false);
    flat.params = torch::empty({totals[k]}, options);
    flat.grads = torch::zeros({totals[k]}, options);
    flat.momentum = torch::zeros({totals[k]}, options);
    for (size_t i = 0; i < flat.members.size(); ++i) {
      auto& p = flat.members[i];
      const int64_t offset = flat.offsets[i];
      auto param = member_view(flat.params, p, offset);
      param.copy_(p.detach());
      p.set_data(param);
      auto grad = member_view(flat.grads, p, offset);
      grad.copy_(p.grad());
      p.mutable_grad() = grad;
      SGDParamState* buffer_state = nullptr;
      auto found = state_.find(optimizer_state_key<torch::optim::SGD>(p));
      if (found != state_.end()) {
        buffer_state = static_cast<SGDParamState*>(found->second.get());
        auto buffer = member_view(flat.momentum, p, offset);
        buffer.copy_(buffer_state->momentum_buffer());
        buffer_state->momentum_buffer(buffer);
      }
      flat.states.push_back(buffer_state);
    }
  }
}

torch::Tensor FusedSgd::step(LossClosure closure) {
  torch::Tensor loss;
  if (closure) {
    torch::AutoGradMode enable_grad(true);
    loss = closure();
  }
  // Checked by storage addresses alone while the buffers are current (no state lookups in the common case).
  if (fuse_ && !flat_is_current() && can_fuse()) flatten();
  fused_ = fuse_ && flat_is_current();
  if (!fused_) {
    torch::optim::SGD::step();
    return loss;
  }
  torch::NoGradGuard no_grad;
  const auto& options = static_cast<const SGDOptions&>(param_groups()[0].options());
  const bool first = state_.empty();
  // The same operations as SGD::step, each once per buffer instead of once per parameter.
  for (auto& flat : flats_) {
    auto d_p = flat.grads;
    if (options.weight_decay() != 0) d_p = d_p.add(flat.params, options.weight_decay());
    if (options.momentum() != 0) {
      if (first) {
        flat.momentum.copy_(d_p);
        for (size_t i = 0; i < flat.members.size(); ++i) {
          auto buffer_state = std::make_unique<SGDParamState>();
          buffer_state->momentum_buffer(member_view(flat.momentum, flat.members[i], flat.offsets[i]));
          flat.states[i] = buffer_state.get();
          state_[optimizer_state_key<torch::optim::SGD>(flat.members[i])] = std::move(buffer_state);
        }
      } else {
        flat.momentum.mul_(options.momentum()).add_(d_p, 1 - options.dampening());
      }
      d_p = options.nesterov() ? d_p.add(flat.momentum, options.momentum()) : flat.momentum;
    }
    flat.params.add_(d_p, -1 * options.lr());
  }
  return loss;
}

void FusedSgd::load(torch::serialize::InputArchive& archive) {
  torch::optim::SGD::load(archive);
  flats_.clear();
}

void FusedSgd::zero_gradients() {
  torch::NoGradGuard no_grad;
  if (flat_is_current()) {
    for (auto& flat : flats_) flat.grads.zero_();
    return;
  }
  for (auto& group : param_groups()) {
    for (auto& p : group.params()) {
      if (p.grad().defined()) p.mutable_grad().zero_();
    }
  }
}

}  // namespace smcl::train
