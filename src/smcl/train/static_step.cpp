#include "smcl/train/static_step.h"

#include <torch/torch.h>

#include <cstdio>
#include <sstream>

#include "smcl/core/error.h"

namespace smcl::train {
namespace {

// What makes two steps one static shape: the kind and every input's dtype, sizes and strides.
std::string shape_key(const methods::PreparedStep& step) {
  std::ostringstream key;
  key << step.kind;
  for (const auto& input : step.inputs) {
    key << '|' << input.scalar_type() << input.sizes() << input.strides() << input.device();
  }
  return key.str();
}

thread_local bool running_body = false;

// Marks the body's run on this thread (it may throw: the destructor clears the mark).
struct BodyScope {
  BodyScope() { running_body = true; }
  ~BodyScope() { running_body = false; }
};

GraphMaker& test_maker() {
  static GraphMaker maker;
  return maker;
}

}  // namespace

bool in_static_step_body() { return running_body; }

void set_graph_maker_for_tests(GraphMaker maker) { test_maker() = std::move(maker); }
const GraphMaker& graph_maker_for_tests() { return test_maker(); }

StaticSteps::StaticSteps(torch::Device device, GraphMaker make_graph, std::function<std::vector<torch::Tensor>()> state)
    : device_(device), make_graph_(std::move(make_graph)), state_(std::move(state)) {}

size_t StaticSteps::graphs() const {
  size_t alive = 0;
  for (const auto& [key, shape] : shapes_) alive += shape.graph != nullptr;
  return alive;
}

void StaticSteps::make_room() {
  while (graphs() >= kMaxGraphs) {
    Shape* oldest = nullptr;
    for (auto& [key, shape] : shapes_) {
      if (shape.graph && (!oldest || shape.last_used < oldest->last_used)) oldest = &shape;
    }
    oldest->graph.reset();
    oldest->is_captured = false;
    oldest->outputs = {};
  }
}

void StaticSteps::give_up_graph(const std::string& key, Shape& shape, const std::string& what,
                                const std::string& reason) {
  shape.graph.reset();
  shape.is_captured = false;
  shape.outputs = {};
  shape.eager = true;
  std::fprintf(stderr,
               "warning: train.cuda_graphs: the %s of the step shape %s failed; its steps run without a graph "
               "from now on (the run goes on, with the numbers of eager steps): %s\n",
               what.c_str(), key.c_str(), reason.c_str());
}

std::vector<void*> StaticSteps::storage() const {
  std::vector<void*> pointers;
  for (const auto& tensor : state_()) pointers.push_back(tensor.defined() ? tensor.data_ptr() : nullptr);
  return pointers;
}

methods::StepOutput StaticSteps::run(const methods::PreparedStep& step, const Body& body) {
  if (step.kind.empty()) return body(step.run, step.inputs);
  for (const auto& input : step.inputs) {
    SMCL_ASSERT(input.defined() && input.device() == device_,
                "static step '" << step.kind << "': an input is undefined or not on " << device_);
  }
  const std::string key = shape_key(step);
  auto& shape = shapes_[key];
  shape.last_used = ++steps_;
  if (!shape.run) {
    shape.run = step.run;
    for (const auto& input : step.inputs) {
      shape.buffers.push_back(torch::empty_strided(input.sizes(), input.strides(), input.options()));
    }
  }
  for (size_t i = 0; i < step.inputs.size(); ++i) shape.buffers[i].copy_(step.inputs[i]);
  auto run_body = [&] {
    const BodyScope in_body;
    return body(shape.run, shape.buffers);
  };
  if (!make_graph_ || shape.eager) return run_body();

  if (shape.is_captured && shape.storage != storage()) {  // the graph would read and write stale storage
    shape.graph.reset();
    shape.is_captured = false;
    shape.outputs = {};
  }
  if (!shape.graph) {
    make_room();
    shape.graph = make_graph_();
    shape.warmed_up = 0;
  }
  if (!shape.is_captured && shape.warmed_up < kWarmupSteps) {
    ++shape.warmed_up;
    methods::StepOutput out;
    shape.graph->run_eagerly([&] { out = run_body(); });
    return out;
  }
  if (!shape.is_captured) {
    try {
      shape.graph->capture([&] { shape.outputs = run_body(); });
    } catch (const Error& e) {
      give_up_graph(key, shape, "capture", e.what());
      return run_body();  // a failed capture ran nothing of the step
    }
    shape.is_captured = true;
    shape.storage = storage();
  }
  try {
    shape.graph->replay();
  } catch (const Error& e) {
    give_up_graph(key, shape, "replay", e.what());
    return run_body();
  }
  ++replayed_;
  return shape.outputs;
}

}  // namespace smcl::train
