// Training steps from fixed input buffers (train.cuda_graphs). A prepared step is a function of its inputs
// (methods::PreparedStep); steps of one kind whose inputs have the same shapes are one static shape. Its buffers
// (one per input, of the input's shape and strides) and its function are those of its first step; every later
// step of the shape copies its inputs into the buffers and runs that first function on them.
//
// With capture (CUDA), a shape's first kWarmupSteps steps run so on a side stream; the next one is captured as a
// CUDA graph and replayed, and so is every later one: the copies plus one graph launch instead of a few hundred
// kernel launches. The graph keeps the storage of the parameters, gradients and buffers it was captured with; when
// any of them moved (a checkpoint loaded into the model, the fused optimiser's buffers made again), the shape warms
// up and is captured again. At most kMaxGraphs graphs live at once: a new one frees the graph of the shape used
// longest ago (which warms up and is captured again if it comes back), so that the shapes of one epoch keep
// theirs and a run's memory does not grow with every shape it has seen. A shape whose capture or replay fails runs
// eagerly for the rest of the run, with one warning naming it and the reason: the run goes on with the numbers of
// eager steps. Steps without a kind run as they are.
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

// Whether this thread is running the body of a static-shape step now: the work a CUDA graph captures, which must
// never wait for the device (tests/train/step_runner_test.cpp watches every operator called while this holds).
bool in_static_step_body();

// Makes the graph of one step shape; empty: no capture (the steps run eagerly from their buffers).
using GraphMaker = std::function<std::unique_ptr<StepGraph>()>;

// For tests: a GraphMaker that StepRunner uses instead of CUDA graphs on any device (empty: none, the default),
// to exercise failing captures and replays on the CPU.
void set_graph_maker_for_tests(GraphMaker maker);
const GraphMaker& graph_maker_for_tests();

class StaticSteps {
 public:
  // Eager runs of a shape before its capture.
  static constexpr int64_t kWarmupSteps = 3;
  // Graphs alive at once.
  static constexpr size_t kMaxGraphs = 4;

  // The step's forward, loss and backward: run on inputs, its outputs detached.
  using Body =
      std::function<methods::StepOutput(const methods::PreparedStep::Run& run, const methods::PreparedStep::Inputs&)>;

  // make_graph: the graph of each shape (empty: no capture). state: the tensors a graph reads and writes in place
  // besides its buffers (the parameters, their gradients, the model's buffers), looked at before every replay.
  StaticSteps(torch::Device device, GraphMaker make_graph, std::function<std::vector<torch::Tensor>()> state);

  // body(run, inputs) of `step` as the comment above says. The returned tensors are valid until the next call.
  methods::StepOutput run(const methods::PreparedStep& step, const Body& body);

  int64_t replayed() const { return replayed_; }  // steps replayed from a graph so far
  size_t graphs() const;                          // graphs alive now

 private:
  struct Shape {
    methods::PreparedStep::Run run;         // the function of the shape's first step
    methods::PreparedStep::Inputs buffers;  // the fixed inputs every step of the shape is copied into
    std::unique_ptr<StepGraph> graph;       // capture only
    int64_t warmed_up = 0;                  // eager runs on the graph's side stream since it was made
    bool is_captured = false;
    bool eager = false;           // its capture or replay failed: eager steps from now on
    int64_t last_used = 0;        // the step count at its latest step
    methods::StepOutput outputs;  // the captured body's outputs, which every replay writes again
    std::vector<void*> storage;   // the data pointers of state() at the capture
  };

  std::vector<void*> storage() const;
  // Frees the graph of the shape used longest ago while kMaxGraphs or more are alive.
  void make_room();
  // Leaves `shape` eager for good after its graph failed (`what`: capture or replay), with one warning.
  void give_up_graph(const std::string& key, Shape& shape, const std::string& what, const std::string& reason);

  torch::Device device_;
  GraphMaker make_graph_;
  std::function<std::vector<torch::Tensor>()> state_;
  std::map<std::string, Shape> shapes_;  // by kind, input shapes, strides and dtypes
  int64_t replayed_ = 0;
  int64_t steps_ = 0;
};

}  // namespace smcl::train
