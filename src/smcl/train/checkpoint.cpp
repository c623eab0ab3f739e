#include "smcl/train/checkpoint.h"

#include <torch/serialize.h>

#include <filesystem>

#include "smcl/core/error.h"
#include "smcl/core/io.h"

namespace smcl::train {

void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const TrainState& state) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  model.save(model_archive);
  archive.write("model", model_archive);
  if (optimizer) {
    torch::serialize::OutputArchive optimizer_archive;
    optimizer->save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
  }
  archive.write("version", c10::IValue(kCheckpointVersion));
  archive.write("next_epoch", c10::IValue(state.next_epoch));
  archive.write("rng_state", c10::IValue(state.rng_state));
  archive.write("train_seconds", c10::IValue(state.train_seconds));
  archive.write("train_images", c10::IValue(state.train_images));
  archive.write("wall_seconds", c10::IValue(state.wall_seconds));
  archive.write("best_json", c10::IValue(state.best_json));
  archive.write("last_json", c10::IValue(state.last_json));
  archive.write("config_yaml", c10::IValue(state.config_yaml));
  archive.write("loss_scale", c10::IValue(state.loss_scale));
  write_atomic_with(path, [&](const std::string& tmp) {
    try {
      archive.save_to(tmp);
    } catch (const c10::Error& e) {
      throw Error("cannot write checkpoint '" + tmp + "': " + e.what_without_backtrace());
    }
  });
}

TrainState load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                           const torch::Device& device) {
  SMCL_CHECK(std::filesystem::is_regular_file(path), "checkpoint '" << path << "' does not exist");
  TrainState state;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path, device);
    c10::IValue value;
    archive.read("version", value);
    SMCL_CHECK(value.toInt() == kCheckpointVersion, "checkpoint '" << path << "' has format version "
                                                                   << value.toInt() << "; this smcl reads version "
                                                                   << kCheckpointVersion);
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    model.load(model_archive);
    if (optimizer) {
      torch::serialize::InputArchive optimizer_archive;
      archive.read("optimizer", optimizer_archive);
      optimizer->load(optimizer_archive);
    }
    auto read_int = [&](const char* key) { archive.read(key, value); return value.toInt(); };
    auto read_double = [&](const char* key) { archive.read(key, value); return value.toDouble(); };
    auto read_string = [&](const char* key) { archive.read(key, value); return value.toStringRef(); };
    state.next_epoch = read_int("next_epoch");
    state.rng_state = read_string("rng_state");
    state.train_seconds = read_double("train_seconds");
    state.train_images = read_int("train_images");
    state.wall_seconds = read_double("wall_seconds");
    state.best_json = read_string("best_json");
    state.last_json = read_string("last_json");
    state.config_yaml = read_string("config_yaml");
    if (archive.try_read("loss_scale", value)) state.loss_scale = value.toDouble();  // absent before fp16 existed
  } catch (const c10::Error& e) {
    throw Error("cannot load checkpoint '" + path + "' (corrupt, or made for another model): " +
                e.what_without_backtrace());
  }
  return state;
}

CheckpointShapes read_checkpoint_shapes(const std::string& path) {
  SMCL_CHECK(std::filesystem::is_regular_file(path), "checkpoint '" << path << "' does not exist");
  CheckpointShapes shapes;
  try {
    torch::serialize::InputArchive archive, model, classifier, conv1;
    archive.load_from(path, torch::kCPU);
    archive.read("model", model);
    torch::Tensor weight;
    SMCL_CHECK(model.try_read("linear", classifier) || model.try_read("fc", classifier),
               "checkpoint '" << path << "' has no classifier (linear or fc)");
    classifier.read("weight", weight);
    shapes.num_classes = weight.size(0);
    model.read("conv1", conv1);
    conv1.read("weight", weight);
    shapes.in_channels = weight.size(1);
  } catch (const c10::Error& e) {
    throw Error("cannot read checkpoint '" + path + "': " + e.what_without_backtrace());
  }
  return shapes;
}

}  // namespace smcl::train
