// CUDA graph capture and replay for train/static_step.h: the one file that needs a CUDA libtorch
// (SMCL_HAVE_CUDA_GRAPHS in smcl/core/features.h). Without one, CudaGraph's constructor throws.
#pragma once

#include <torch/types.h>

#include <functional>
#include <memory>

namespace smcl::train {

// Whether this build can capture CUDA graphs (a CUDA libtorch, PyTorch 2.0 or later).
bool cuda_graphs_available();

// One piece of GPU work captured as a CUDA graph, as PyTorch's torch.cuda.graph does it: warm-up runs and the
// capture on a side stream of the graph's own, replays on the current stream.
class CudaGraph {
 public:
  // Throws smcl::Error when the build cannot capture or `device` is not a CUDA device.
  explicit CudaGraph(torch::Device device);
  ~CudaGraph();
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  // Runs `work` now on the side stream, after the current stream's work so far and before its later work (the
  // warm-up runs before a capture: libraries set up their per-stream state there, not inside the capture).
  void run_eagerly(const std::function<void()>& work);

  // Captures `work` on the side stream without running it. Autocast's cast cache is off meanwhile (a cast taken
  // from the cache is not in the graph), and the capture mode is thread-local, so that the prefetch thread may
  // keep preparing batches. Throws smcl::Error naming train.cuda_graphs when the capture fails.
  void capture(const std::function<void()>& work);

  // Runs the captured work again, on the current stream.
  void replay();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace smcl::train
