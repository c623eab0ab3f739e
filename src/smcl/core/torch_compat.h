// The one place that knows libtorch version differences: Debian's 1.13.1 (CPU) and the 2.x inside a PyTorch
// install (CUDA). Everything else calls these instead of guarding versions itself.
// Not here: anything that both versions spell the same way.
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/optim/optimizer.h>
#include <torch/types.h>
#include <torch/version.h>

#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#define SMCL_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// The base class of c10d's process groups (ProcessGroupGloo, ProcessGroupNCCL): ProcessGroup in 1.13, Backend
// from 2.0. A macro, so that this header need not include c10d's; only core/distributed.cpp uses it.
#if SMCL_TORCH_AT_LEAST(2, 0)
#define SMCL_C10D_BACKEND c10d::Backend
#else
#define SMCL_C10D_BACKEND c10d::ProcessGroup
#endif

namespace smcl {

namespace detail {

// Autocast's thread-local flag and dtype for one device type, in either version's spelling.
inline bool autocast_enabled(torch::DeviceType device) {
#if SMCL_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(device);
#else
  return device == torch::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

inline torch::ScalarType autocast_dtype(torch::DeviceType device) {
#if SMCL_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(device);
#else
  return device == torch::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}

inline void set_autocast(torch::DeviceType device, bool enabled, torch::ScalarType dtype) {
#if SMCL_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(device, enabled);
  at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == torch::kCUDA) {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

}  // namespace detail

// The key of a parameter in an optimiser's state map: its TensorImpl's address, written as text in 1.13 (what
// c10::guts::to_string makes of a pointer) and the pointer itself where the map's key type is one.
template <class Optimizer = torch::optim::Optimizer>
auto optimizer_state_key(const torch::Tensor& parameter) {
  using Key = typename std::decay_t<decltype(std::declval<Optimizer&>().state())>::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;
    text << parameter.unsafeGetTensorImpl();
    return text.str();
  } else {
    return static_cast<Key>(parameter.unsafeGetTensorImpl());
  }
}

// Autocast (mixed precision) on `device` in `dtype` while alive; restores the previous state and drops the
// cast cache when it ends. Inactive when `enabled` is false. Thread-local, like libtorch's own flags.
class AutocastScope {
 public:
  AutocastScope(torch::DeviceType device, torch::ScalarType dtype, bool enabled) : device_(device), active_(enabled) {
    if (!active_) return;
    previous_enabled_ = detail::autocast_enabled(device_);
    previous_dtype_ = detail::autocast_dtype(device_);
    detail::set_autocast(device_, true, dtype);
    at::autocast::increment_nesting();
  }

  ~AutocastScope() {
    if (!active_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    detail::set_autocast(device_, previous_enabled_, previous_dtype_);
  }

  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  torch::DeviceType device_;
  bool active_;
  bool previous_enabled_ = false;
  torch::ScalarType previous_dtype_ = torch::kFloat;
};

// Autocast off on `device` while alive, then as it was: the losses run in float32 inside an autocast step.
// Nothing happens when autocast is off already.
class AutocastPause {
 public:
  explicit AutocastPause(torch::DeviceType device) : device_(device), paused_(detail::autocast_enabled(device)) {
    if (!paused_) return;
    dtype_ = detail::autocast_dtype(device_);
    detail::set_autocast(device_, false, dtype_);
  }

  ~AutocastPause() {
    if (paused_) detail::set_autocast(device_, true, dtype_);
  }

  AutocastPause(const AutocastPause&) = delete;
  AutocastPause& operator=(const AutocastPause&) = delete;

 private:
  torch::DeviceType device_;
  bool paused_;
  torch::ScalarType dtype_ = torch::kFloat;
};

}  // namespace smcl
