#include "smcl/train/cuda_graph.h"

#include "smcl/core/error.h"
#include "smcl/core/features.h"

#if SMCL_HAVE_CUDA_GRAPHS
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/cuda.h>
#endif

namespace smcl::train {

#if SMCL_HAVE_CUDA_GRAPHS

struct CudaGraph::State {
  explicit State(torch::Device device) : side(c10::cuda::getStreamFromPool(false, device.index())) {}
  c10::cuda::CUDAStream side;
  at::cuda::CUDAGraph graph;
};

bool cuda_graphs_available() { return true; }

CudaGraph::CudaGraph(torch::Device device) {
  SMCL_CHECK(device.is_cuda(), "a CUDA graph needs a CUDA device, not " << device);
  state_ = std::make_unique<State>(device);
}

CudaGraph::~CudaGraph() = default;

void CudaGraph::run_eagerly(const std::function<void()>& work) {
  auto current = c10::cuda::getCurrentCUDAStream(state_->side.device_index());
  at::cuda::CUDAEvent before, after;
  before.record(current);
  before.block(state_->side);
  {
    c10::cuda::CUDAStreamGuard on_side(state_->side);
    work();
  }
  after.record(state_->side);
  after.block(current);
}

void CudaGraph::capture(const std::function<void()>& work) {
  torch::cuda::synchronize();  // nothing of the eager steps still in flight, as torch.cuda.graph does
  const bool cache = at::autocast::is_autocast_cache_enabled();
  at::autocast::set_autocast_cache_enabled(false);
  c10::cuda::CUDAStreamGuard on_side(state_->side);
  std::string failure;
  try {
    state_->graph.capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
  } catch (const std::exception& e) {
    at::autocast::set_autocast_cache_enabled(cache);
    throw Error(std::string("capturing a training step as a CUDA graph failed: ") + e.what());
  }
  try {
    work();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  try {
    state_->graph.capture_end();  // after a failure too: it ends the capture (and throws, the capture being invalid)
  } catch (const std::exception& e) {
    if (failure.empty()) failure = e.what();
  }
  at::autocast::set_autocast_cache_enabled(cache);
  if (failure.empty()) return;
  // PyTorch 2.1-2.x's capture_end throws at cudaStreamEndCapture's error before it tells the caching allocator to
  // stop serving this stream from the graph's pool, which would then serve it for the rest of the process (the
  // eager steps that follow run on this stream). Told here; when capture_end did tell it, it refuses a second
  // time, which changes nothing.
  try {
    c10::cuda::CUDACachingAllocator::endAllocateToPool(state_->side.device_index(), state_->graph.pool());
  } catch (const std::exception&) {
  }
  throw Error("capturing a training step as a CUDA graph failed: " + failure);
}

void CudaGraph::replay() {
  try {
    state_->graph.replay();
  } catch (const std::exception& e) {
    throw Error(std::string("replaying a training step's CUDA graph failed: ") + e.what());
  }
}

#else

struct CudaGraph::State {};

bool cuda_graphs_available() { return false; }

CudaGraph::CudaGraph(torch::Device /*device*/) {
  throw Error(
      "this build cannot capture CUDA graphs (it needs a CUDA libtorch of PyTorch 2.1 or later); set "
      "train.cuda_graphs: off or auto");
}

CudaGraph::~CudaGraph() = default;
void CudaGraph::run_eagerly(const std::function<void()>& work) { work(); }
void CudaGraph::capture(const std::function<void()>& /*work*/) {}
void CudaGraph::replay() {}

#endif

}  // namespace smcl::train
