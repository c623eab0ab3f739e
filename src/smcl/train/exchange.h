// Weight exchange with PyTorch: state dict files as Python's `torch.save(model.state_dict(), FILE)` writes
// them (the zip format of PyTorch >= 1.6, read with smcl's own safe unpickler: nothing is executed), and files
// that `torch.load(FILE)` reads back as a dict of tensors. Not here: smcl's own checkpoints (checkpoint.h).
#pragma once

#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "smcl/models/network.h"

namespace smcl::train {

using StateDict = std::vector<std::pair<std::string, torch::Tensor>>;

// The tensors of a PyTorch file holding a dict of tensors: a state dict (OrderedDict), a plain dict, or a
// training checkpoint dict whose "state_dict" or "model" entry is one. Keys keep their order; a "module."
// prefix on every key (DataParallel) is removed. Throws smcl::Error naming the file and what is wrong (not a
// zip-format file, an entry that is not a tensor, an unknown storage type).
StateDict read_state_dict(const std::string& path);

// Writes `tensors` (CPU copies) so that torch.load(path) returns a dict of them; atomically (temporary file,
// then rename). Throws smcl::Error when the file cannot be written.
void write_state_dict(const StateDict& tensors, const std::string& path);

// The model's parameters and buffers by their state dict names (without the projection head "head.*" unless
// with_head), in registration order, as PyTorch's model.state_dict() lists them.
StateDict model_state_dict(torch::nn::Module& model, bool with_head);

struct LoadReport {
  int64_t loaded = 0;
  std::vector<std::string> missing;     // model tensors the file lacks (they keep their initialisation)
  std::vector<std::string> unexpected;  // file tensors the model lacks (ignored)
  std::vector<std::string> resized;     // classifier tensors of another class count (re-initialised), with shapes
  std::string describe() const;         // one paragraph for the log
};

// Copies the file's tensors into the model by name (dtype converted, device kept). The classifier may differ
// in its number of classes (then it keeps its fresh initialisation); any other shape mismatch throws
// smcl::Error naming the key, both shapes and `source`.
LoadReport load_state_dict(models::NetworkImpl& model, const StateDict& tensors, const std::string& source);

}  // namespace smcl::train
