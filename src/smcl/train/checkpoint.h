// Checkpoints: model, optimiser, and every other piece of resumable state (TrainState) in one versioned
// libtorch archive behind a header with its CRC-32, written atomically (temporary file, fsync, rename). Every
// load verifies the checksum first, so a corrupt checkpoint is an error naming the file, never silently
// different weights. A checkpoint also carries the resolved config, so a run folder can be re-evaluated or
// resumed from it alone.
#pragma once

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <optional>
#include <string>

#include "smcl/eval/record.h"

namespace smcl::train {

constexpr int64_t kCheckpointVersion = 1;

// Everything besides model and optimiser that a resumed run needs to continue exactly.
struct TrainState {
  int64_t next_epoch = 0;                 // the first epoch not yet completed
  std::string rng_state;                  // smcl::Rng state at the start of next_epoch
  double train_seconds = 0;               // time spent in training steps, over all sessions
  int64_t train_images = 0;               // images trained on, over all sessions
  double wall_seconds = 0;                // wall time of completed epochs (training + evaluation), over all sessions
  std::optional<eval::EpochRecord> best;  // the best epoch so far (with details), none before the first epoch
  std::optional<eval::EpochRecord> last;  // the last completed epoch (with details)
  std::string config_yaml;                // the resolved config of the run
  double loss_scale = 0;  // train.amp fp16: the loss scaler's scale; 0: none yet (older checkpoints too)
};

// Writes the checkpoint atomically; throws smcl::Error naming the file when it cannot be written (a full disk),
// leaving the previous checkpoint in place. method: the training method's own module (Method::module), when it
// has one; saved beside the model.
void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const TrainState& state, torch::nn::Module* method = nullptr);

// Restores model (and optimiser and the method's module, when not null) in place and returns the state. Throws
// smcl::Error naming the file when it is missing, fails its checksum, is of another version, or does not fit the
// model (or the method). A checkpoint of an older smcl, without a checksum, loads with a warning.
TrainState load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                           const torch::Device& device, torch::nn::Module* method = nullptr);

// Throws smcl::Error naming the file when the checkpoint is missing or fails its checksum; restores nothing.
void verify_checkpoint(const std::string& path);

// The CRC-32 of a checkpoint's content (8 hex digits), verified as load_checkpoint verifies it: what tells one
// checkpoint from a later one written at the same path (a temperature belongs to one). Throws smcl::Error.
std::string checkpoint_crc32(const std::string& path);

// The resolved config a checkpoint was trained with (TrainState::config_yaml), read without its weights.
// Throws smcl::Error naming the file.
std::string read_checkpoint_config(const std::string& path);

// The class count and input channels of the network in a checkpoint, read from its classifier ("linear" or
// "fc") and first convolution ("conv1"), so a model can be built for it without its data. Throws smcl::Error.
struct CheckpointShapes {
  int64_t num_classes = 0;
  int64_t in_channels = 0;
};
CheckpointShapes read_checkpoint_shapes(const std::string& path);

}  // namespace smcl::train
