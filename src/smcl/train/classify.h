// Using a trained run: classify image files with a run's checkpoint, its own test transform, class names and
// device (`smcl predict`). A file that cannot be classified (missing, not an image, the wrong size or colour
// for a run on an in-memory set) gets an error of its own; the others are classified regardless.
#pragma once

#include <torch/types.h>

#include <functional>
#include <string>
#include <vector>

#include "smcl/config/config.h"
#include "smcl/models/network.h"

namespace smcl::train {

struct Classification {
  std::string path;
  std::string error;                  // empty when classified
  std::string warning;                // what the decoder warned about (a corrupt JPEG scan), classified anyway
  std::vector<int64_t> classes;       // the top-k classes, most probable first
  std::vector<double> probabilities;  // their softmax probabilities
};

class Classifier {
 public:
  // Loads run_dir's checkpoints/<checkpoint>.pt ("last" or "best") onto the first GPU when there is one, else the
  // CPU, with the checkpoint's temperature from calibration.json when the run was calibrated. Throws smcl::Error
  // naming the run folder or checkpoint.
  Classifier(const std::string& run_dir, const std::string& checkpoint);

  // Classifies the files, batch by batch (eval.batch_size, decoding on data.decode_threads); progress(done,
  // total) after each batch, when given.
  std::vector<Classification> classify(const std::vector<std::string>& paths, int64_t top_k,
                                       const std::function<void(int64_t, int64_t)>& progress = {});

  // The run's test transform of uint8 images [C, H, W] (any size for a run on files, which resizes them; the
  // set's own size and channels for a run on an in-memory set): [B, C, S, S] float32 on the model's device, the
  // network's input.
  torch::Tensor prepare(const std::vector<torch::Tensor>& images) const;

  // The loaded network (in eval mode) and the run's config.
  models::Network& model() { return model_; }
  const config::Config& config() const { return config_; }
  const torch::Device& device() const { return device_; }
  const std::vector<std::string>& class_names() const { return class_names_; }
  int64_t num_classes() const { return int64_t(class_names_.size()); }
  int64_t channels() const { return channels_; }  // the network's input channels
  int64_t epoch() const { return epoch_; }
  // The temperature of calibration.json (smcl calibrate) the probabilities are divided by; 1 without one.
  double temperature() const { return temperature_; }

 private:
  // One file as the network sees it before normalisation, the run's test view: [C, S, S] uint8. Throws
  // smcl::Error naming the file.
  torch::Tensor load(const std::string& path, std::string& warning) const;
  // Test views [C, S, S] uint8 -> the network's input [B, C, S, S], normalised, on the model's device.
  torch::Tensor normalized(const std::vector<torch::Tensor>& views) const;

  config::Config config_;
  torch::Device device_ = torch::kCPU;
  models::Network model_{nullptr};
  std::vector<std::string> class_names_;
  int64_t channels_ = 0, side_ = 0;  // side: in-memory sets' image side; 0 for file sets (resized)
  int64_t epoch_ = 0;
  double temperature_ = 1.0;
};

// The image files named by `inputs`: a file as it is, a folder's .jpg/.jpeg/.png files (recursively, sorted),
// and each list file's paths (the first field of each non-empty line, `path [label]` as ImageNet-LT's lists;
// relative to the list file's folder). Throws smcl::Error for an input that does not exist.
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs, const std::vector<std::string>& lists);

}  // namespace smcl::train
