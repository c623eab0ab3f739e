// Training steps from fixed input buffers (train.cuda_graphs). A prepared step is a function of its inputs
// (methods::PreparedStep); steps of one kind whose inputs have the same shapes are one static shape. Its buffers
// (one per input, of the input's shape and strides) and its function are those of its first step; every later
// step of the shape copies its inputs into the buffers and runs that first function on them.
//
// With capture (CUDA), a shape's first kWarmupSteps steps run so on a side stream; the next one is captured as a
// CUDA graph and replayed, and so is every later one: the copies plus one graph launch instead of a few hundred
// kernel launches. The graph keeps the storage of the parameters, gradients and buffers it was captured with; when
// any of them moved (a checkpoint loaded into the model, the fused optimiser's buffers made again), the shape warms
// up and is captured again. Steps without a kind run as they are.
//
// Without capture (the CPU) the same static-shape steps run eagerly: the tests train every method both ways and
// compare the weights bit for bit, which fails for a step function that reads anything of its own step other
// than its inputs (a graph would replay the captured step's value).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "smcl/methods/method.h"
#include "smcl/train/cuda_graph.h"

namespace smcl::train {

class StaticSteps {
 public:
  // Eager runs of a shape before its capture.
  static constexpr int64_t kWarmupSteps = 3;

  // The step's forward, loss and backward: run on inputs, its outputs detached.
  using Body =
      std::function<methods::StepOutput(const methods::PreparedStep::Run& run, const methods::PreparedStep::Inputs&)>;

  // capture: CUDA graphs on `device` (cuda_graphs_available() must hold). state: the tensors a graph reads and
  // writes in place besides its buffers (the parameters, their gradients, the model's buffers), looked at before
  // every replay.
  StaticSteps(torch::Device device, bool capture, std::function<std::vector<torch::Tensor>()> state);

  // body(run, inputs) of `step` as the comment above says. The returned tensors are valid until the next call.
  methods::StepOutput run(const methods::PreparedStep& step, const Body& body);

  int64_t replayed() const { return replayed_; }  // steps replayed from a graph so far

 private:
  struct Shape {
    methods::PreparedStep::Run run;         // the function of the shape's first step
    methods::PreparedStep::Inputs buffers;  // the fixed inputs every step of the shape is copied into
    std::unique_ptr<CudaGraph> graph;       // capture only
    int64_t warmed_up = 0;                  // eager runs on the graph's side stream since it was made
    bool is_captured = false;
    methods::StepOutput outputs;  // the captured body's outputs, which every replay writes again
    std::vector<void*> storage;   // the data pointers of state() at the capture
  };

  std::vector<void*> storage() const;

  torch::Device device_;
  bool capture_;
  std::function<std::vector<torch::Tensor>()> state_;
  std::map<std::string, Shape> shapes_;  // by kind, input shapes, strides and dtypes
  int64_t replayed_ = 0;
};

}  // namespace smcl::train
