#include "smcl/train/static_step.h"

#include <torch/torch.h>

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

}  // namespace

StaticSteps::StaticSteps(torch::Device device, bool capture, std::function<std::vector<torch::Tensor>()> state)
    : device_(device), capture_(capture), state_(std::move(state)) {
  SMCL_ASSERT(!capture_ || cuda_graphs_available(), "StaticSteps: this build cannot capture CUDA graphs");
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
  auto& shape = shapes_[shape_key(step)];
  if (!shape.run) {
    shape.run = step.run;
    for (const auto& input : step.inputs) {
      shape.buffers.push_back(torch::empty_strided(input.sizes(), input.strides(), input.options()));
    }
  }
  for (size_t i = 0; i < step.inputs.size(); ++i) shape.buffers[i].copy_(step.inputs[i]);
  if (!capture_) return body(shape.run, shape.buffers);

  if (shape.is_captured && shape.storage != storage()) {  // the graph would read and write stale storage
    shape.graph.reset();
    shape.is_captured = false;
    shape.outputs = {};
  }
  if (!shape.graph) {
    shape.graph = std::make_unique<CudaGraph>(device_);
    shape.warmed_up = 0;
  }
  if (!shape.is_captured && shape.warmed_up < kWarmupSteps) {
    ++shape.warmed_up;
    methods::StepOutput out;
    shape.graph->run_eagerly([&] { out = body(shape.run, shape.buffers); });
    return out;
  }
  if (!shape.is_captured) {
    shape.graph->capture([&] { shape.outputs = body(shape.run, shape.buffers); });
    shape.is_captured = true;
    shape.storage = storage();
  }
  shape.graph->replay();
  ++replayed_;
  return shape.outputs;
}

}  // namespace smcl::train
