// CUDA graph capture and replay for train/static_step.h: the one file that needs a CUDA libtorch
// (SMCL_HAVE_CUDA_GRAPHS in smcl/core/features.h). Without one, CudaGraph's constructor throws.
#pragma once

#include <torch/types.h>

#include <functional>
#include <memory>

namespace smcl::train {

// Whether this build can capture CUDA graphs (a CUDA libtorch, PyTorch 2.1 or later).
bool cuda_graphs_available();

// What train/static_step.h needs of a graph: warm-up runs, one capture, replays. CudaGraph is the one the program
// uses; the tests give their own to exercise capture failures on the CPU.
class StepGraph {
 public:
  virtual ~StepGraph() = default;

  // Runs `work` now (the warm-up runs before a capture: libraries set up their per-stream state there, not inside
  // the capture).
  virtual void run_eagerly(const std::function<void()>& work) = 0;

  // Captures `work` without running it. Throws smcl::Error when the capture fails; the graph is then unusable,
  // and nothing of `work` has run.
  virtual void capture(const std::function<void()>& work) = 0;

  // Runs the captured work again. Throws smcl::Error when it cannot.
  virtual void replay() = 0;
};

// One piece of GPU work captured as a CUDA graph, as PyTorch's torch.cuda.graph does it: warm-up runs and the
// capture on a side stream of the graph's own, replays on the current stream.
class CudaGraph : public StepGraph {
 public:
  // Throws smcl::Error when the build cannot capture or `device` is not a CUDA device.
  explicit CudaGraph(torch::Device device);
  ~CudaGraph() override;
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  // On the side stream, after the current stream's work so far and before its later work.
  void run_eagerly(const std::function<void()>& work) override;

  // On the side stream. Autocast's cast cache is off meanwhile (a cast taken from the cache is not in the graph),
  // and the capture mode is thread-local, so that the prefetch thread may keep preparing batches.
  void capture(const std::function<void()>& work) override;

  // On the current stream.
  void replay() override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace smcl::train
