#include "smcl/train/checkpoint.h"

#include <torch/serialize.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "smcl/core/error.h"
#include "smcl/core/io.h"

namespace smcl::train {

namespace {

// A checkpoint file: this magic line, a line "crc32 <8 hex digits> bytes <N>", then the N bytes of a libtorch
// archive. The CRC-32 (zlib's, as gzip and zip use) covers every byte of the archive, so a flipped bit anywhere
// in it is found before anything is restored. Files that start with the zip signature are checkpoints of
// smcl before the checksum; they load with a warning.
constexpr const char* kMagic = "SMCL-CHECKPOINT\n";

std::string crc32_hex(const std::string& bytes) {
  char text[9];
  std::snprintf(text, sizeof(text), "%08lx", crc32_z(0L, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
  return text;
}

// The archive bytes of a checkpoint file, verified. Throws smcl::Error naming the file.
std::string read_verified(const std::string& path) {
  SMCL_CHECK(std::filesystem::is_regular_file(path), "checkpoint '" << path << "' does not exist");
  std::ifstream in(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  SMCL_CHECK(!in.bad(), "cannot read checkpoint '" << path << "'");
  if (content.rfind("PK\x03\x04", 0) == 0) {
    std::fprintf(stderr, "warning: checkpoint '%s' has no checksum (written by an older smcl): loading it unverified\n",
                 path.c_str());
    return content;
  }
  const std::string magic = kMagic;
  SMCL_CHECK(content.rfind(magic, 0) == 0, "'" << path << "' is not an smcl checkpoint (no checkpoint header)");
  const size_t line_end = content.find('\n', magic.size());
  char crc[9] = {};
  unsigned long long size = 0;
  const std::string line = content.substr(magic.size(), line_end == std::string::npos ? 0 : line_end - magic.size());
  SMCL_CHECK(line_end != std::string::npos && std::sscanf(line.c_str(), "crc32 %8[0-9a-f] bytes %llu", crc, &size) == 2,
             "checkpoint '" << path << "' has a corrupt header");
  std::string payload = content.substr(line_end + 1);
  SMCL_CHECK(payload.size() == size, "checkpoint '" << path << "' is corrupt: it holds " << payload.size()
                                                    << " bytes of data, its header says " << size);
  SMCL_CHECK(crc32_hex(payload) == crc, "checkpoint '" << path << "' is corrupt: its content does not match its "
                                                       << "checksum (crc32 " << crc32_hex(payload) << ", header " << crc
                                                       << ")");
  return payload;
}

void open_archive(torch::serialize::InputArchive& archive, const std::string& path, const torch::Device& device) {
  const std::string bytes = read_verified(path);
  try {
    archive.load_from(bytes.data(), bytes.size(), device);
  } catch (const c10::Error& e) {
    throw Error("cannot load checkpoint '" + path + "' (corrupt): " + e.what_without_backtrace());
  }
}

}  // namespace

void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const TrainState& state, torch::nn::Module* method) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  model.save(model_archive);
  archive.write("model", model_archive);
  if (method) {
    torch::serialize::OutputArchive method_archive;
    method->save(method_archive);
    archive.write("method", method_archive);
  }
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
  // The records as JSON text (empty: none yet), as every version of smcl has written them.
  auto json_of = [](const std::optional<eval::EpochRecord>& r) {
    return r ? eval::to_json(*r, /*with_details=*/true).dump() : std::string();
  };
  archive.write("best_json", c10::IValue(json_of(state.best)));
  archive.write("last_json", c10::IValue(json_of(state.last)));
  archive.write("config_yaml", c10::IValue(state.config_yaml));
  archive.write("loss_scale", c10::IValue(state.loss_scale));
  // Serialised in memory, so that the file is written by write_file_atomic, whose failures (a full disk) are
  // errors naming the file, with the previous checkpoint left in place.
  std::string payload;
  try {
    archive.save_to([&payload](const void* data, size_t size) {
      payload.append(static_cast<const char*>(data), size);
      return size;
    });
  } catch (const c10::Error& e) {
    throw Error("cannot serialise checkpoint '" + path + "': " + e.what_without_backtrace());
  }
  write_file_atomic(path, std::string(kMagic) + "crc32 " + crc32_hex(payload) + " bytes " +
                              std::to_string(payload.size()) + "\n" + payload);
}

TrainState load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                           const torch::Device& device, torch::nn::Module* method) {
  TrainState state;
  torch::serialize::InputArchive archive;
  open_archive(archive, path, device);
  try {
    c10::IValue value;
    archive.read("version", value);
    SMCL_CHECK(value.toInt() == kCheckpointVersion, "checkpoint '" << path << "' has format version " << value.toInt()
                                                                   << "; this smcl reads version "
                                                                   << kCheckpointVersion);
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    model.load(model_archive);
    if (method) {
      torch::serialize::InputArchive method_archive;
      SMCL_CHECK(archive.try_read("method", method_archive),
                 "checkpoint '" << path << "' holds no state of the training method (a run of another method?)");
      method->load(method_archive);
    }
    if (optimizer) {
      torch::serialize::InputArchive optimizer_archive;
      archive.read("optimizer", optimizer_archive);
      optimizer->load(optimizer_archive);
    }
    auto read_int = [&](const char* key) {
      archive.read(key, value);
      return value.toInt();
    };
    auto read_double = [&](const char* key) {
      archive.read(key, value);
      return value.toDouble();
    };
    auto read_string = [&](const char* key) {
      archive.read(key, value);
      return value.toStringRef();
    };
    state.next_epoch = read_int("next_epoch");
    state.rng_state = read_string("rng_state");
    state.train_seconds = read_double("train_seconds");
    state.train_images = read_int("train_images");
    state.wall_seconds = read_double("wall_seconds");
    auto read_record = [&](const char* key) -> std::optional<eval::EpochRecord> {
      const std::string text = read_string(key);
      if (text.empty()) return std::nullopt;
      const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      const std::string origin = "checkpoint '" + path + "': " + key;
      SMCL_CHECK(!json.is_discarded(), origin << " is not JSON");
      return eval::epoch_record_from_json(json, origin);
    };
    state.best = read_record("best_json");
    state.last = read_record("last_json");
    state.config_yaml = read_string("config_yaml");
    if (archive.try_read("loss_scale", value)) state.loss_scale = value.toDouble();  // absent before fp16 existed
  } catch (const c10::Error& e) {
    throw Error("cannot load checkpoint '" + path +
                "' (corrupt, or made for another model): " + e.what_without_backtrace());
  }
  return state;
}

void verify_checkpoint(const std::string& path) { read_verified(path); }

std::string checkpoint_crc32(const std::string& path) { return crc32_hex(read_verified(path)); }

std::string read_checkpoint_config(const std::string& path) {
  torch::serialize::InputArchive archive;
  open_archive(archive, path, torch::kCPU);
  c10::IValue value;
  try {
    archive.read("config_yaml", value);
  } catch (const c10::Error& e) {
    throw Error("cannot read checkpoint '" + path + "' (corrupt): " + e.what_without_backtrace());
  }
  SMCL_CHECK(value.isString(), "checkpoint '" << path << "' is corrupt: its config is not text");
  return value.toStringRef();
}

CheckpointShapes read_checkpoint_shapes(const std::string& path) {
  CheckpointShapes shapes;
  torch::serialize::InputArchive archive;
  open_archive(archive, path, torch::kCPU);
  try {
    torch::serialize::InputArchive model, classifier, conv1;
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
