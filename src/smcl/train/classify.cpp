#include "smcl/train/classify.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "smcl/augment/batch_transforms.h"
#include "smcl/augment/image_views.h"
#include "smcl/core/error.h"
#include "smcl/core/parallel.h"
#include "smcl/data/datasets.h"
#include "smcl/data/image_files.h"
#include "smcl/train/run_folder.h"

namespace smcl::train {
namespace fs = std::filesystem;

Classifier::Classifier(const std::string& run_dir, const std::string& checkpoint) {
  OpenRun run = open_run(run_dir, checkpoint);
  config_ = run.config;
  device_ = run.device;
  model_ = run.model;
  epoch_ = run.epoch;
  class_names_ = run.class_names;
  temperature_ = run.temperature.value_or(1.0);
  channels_ = run.in_channels;
  const auto& info = data::dataset_info(config_.data.name);
  side_ = info.file_backed ? 0 : info.side;
}

torch::Tensor Classifier::load(const std::string& path, std::string& warning) const {
  const std::string origin = "'" + path + "'";
  const std::string problem = data::check_image_file(path, config_.data.max_image_pixels);
  SMCL_CHECK(problem.empty(), problem);
  // A file of any size becomes the run's test view at once: a batch then holds input-sized images only, and one
  // full-size image per decoding thread is the most that is ever decoded (issue 38).
  if (side_ == 0) {
    return augment::center_view(data::decode_image(path, origin, channels_, config_.data.max_image_pixels, &warning),
                                config_.data.image_size, config_.augment.test_crop);
  }
  // A run on an in-memory set saw its images as they are: the same size and colour, no resizing.
  auto rgb = data::decode_image(path, origin, 3, config_.data.max_image_pixels, &warning);
  const std::string title = data::dataset_title(config_.data);
  SMCL_CHECK(rgb.size(1) == side_ && rgb.size(2) == side_,
             "image " << origin << " is " << rgb.size(2) << "x" << rgb.size(1) << " pixels; the run on " << title
                      << " classifies images of " << side_ << "x" << side_);
  if (channels_ == 3) return rgb;
  SMCL_CHECK(torch::equal(rgb[0], rgb[1]) && torch::equal(rgb[0], rgb[2]),
             "image " << origin << " has colour; the run on " << title << " classifies grayscale images (1 channel)");
  return rgb.narrow(0, 0, 1).contiguous();
}

torch::Tensor Classifier::prepare(const std::vector<torch::Tensor>& images) const {
  SMCL_CHECK(!images.empty(), "no images to prepare");
  for (const auto& image : images) {
    SMCL_CHECK(image.dim() == 3 && image.scalar_type() == torch::kUInt8 && image.size(0) == channels_,
               "an image for this run is a uint8 tensor [" << channels_ << ", H, W], not " << image.sizes() << " "
                                                           << image.scalar_type());
    SMCL_CHECK(side_ == 0 || (image.size(1) == side_ && image.size(2) == side_),
               "an image for the run on " << data::dataset_title(config_.data) << " is " << side_ << "x" << side_
                                          << " pixels, not " << image.size(2) << "x" << image.size(1));
  }
  // The run's own test transform (augment::test_view), as evaluation applies it; decoded files are resized on
  // the CPU.
  std::vector<torch::Tensor> views;
  for (const auto& image : images) {
    views.push_back(
        side_ == 0 ? augment::center_view(image.to(torch::kCPU), config_.data.image_size, config_.augment.test_crop)
                   : image);
  }
  return normalized(views);
}

torch::Tensor Classifier::normalized(const std::vector<torch::Tensor>& views) const {
  return augment::normalize(torch::stack(views).to(device_), config_.augment.mean, config_.augment.std);
}

std::vector<Classification> Classifier::classify(const std::vector<std::string>& paths, int64_t top_k,
                                                 const std::function<void(int64_t, int64_t)>& progress) {
  SMCL_CHECK(top_k >= 1, "--top-k is at least 1, not " << top_k);
  const int64_t k = std::min<int64_t>(top_k, num_classes());
  const int64_t n = int64_t(paths.size()), batch = config_.eval.batch_size;
  std::vector<Classification> out(paths.size());
  c10::InferenceMode inference;
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t length = std::min(batch, n - start);
    std::vector<torch::Tensor> images(static_cast<size_t>(length));
    parallel_for(length, config_.data.decode_threads, [&](int64_t i) {
      auto& result = out[size_t(start + i)];
      result.path = paths[size_t(start + i)];
      try {
        images[size_t(i)] = load(result.path, result.warning);
      } catch (const Error& e) {
        result.error = e.what();
      }
    });
    std::vector<torch::Tensor> good;
    std::vector<size_t> rows;
    for (int64_t i = 0; i < length; ++i) {
      if (!images[size_t(i)].defined()) continue;
      good.push_back(images[size_t(i)]);
      rows.push_back(size_t(start + i));
    }
    if (!good.empty()) {
      auto logits = model_->forward(normalized(good)).logits.to(torch::kFloat64) / temperature_;
      auto probabilities = torch::softmax(logits, 1).to(torch::kCPU);
      auto [values, indices] = probabilities.topk(k, 1);
      for (size_t j = 0; j < rows.size(); ++j) {
        auto& result = out[rows[j]];
        for (int64_t r = 0; r < k; ++r) {
          result.classes.push_back(indices[int64_t(j)][r].item<int64_t>());
          result.probabilities.push_back(values[int64_t(j)][r].item<double>());
        }
      }
    }
    if (progress) progress(start + length, n);
  }
  return out;
}

namespace {

bool is_image_file(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

// Adds the image files under `dir` to `found`, recursing into subfolders (not into links to folders, as
// recursive_directory_iterator does not). What cannot be read, an unreadable subfolder or a link that loops, is
// added as it is: its row then says why (data::check_image_file), and the other files are classified.
void walk(const fs::path& dir, std::vector<std::string>& found) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    found.push_back(dir.string());
    return;
  }
  for (const fs::directory_iterator end; it != end; it.increment(ec)) {
    std::error_code status_ec;
    if (fs::is_directory(it->symlink_status(status_ec))) {
      walk(it->path(), found);
    } else if (is_image_file(it->path())) {
      found.push_back(it->path().string());
    }
  }
  if (ec) found.push_back(dir.string());  // the folder stopped being readable part way
}

}  // namespace

std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs, const std::vector<std::string>& lists) {
  std::vector<std::string> paths;
  for (const auto& input : inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      std::vector<std::string> found;
      walk(input, found);
      std::sort(found.begin(), found.end());
      paths.insert(paths.end(), found.begin(), found.end());
    } else {
      // A missing file is still listed: it becomes a row of its own with its error.
      paths.push_back(input);
    }
  }
  for (const auto& list : lists) {
    std::ifstream in(list);
    SMCL_CHECK(in && fs::is_regular_file(list), "cannot read list file '" << list << "'");
    const fs::path base = fs::path(list).parent_path();
    std::string line;
    while (std::getline(in, line)) {
      while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      // `path label` (ImageNet-LT's lists) or a path alone; a path may hold spaces.
      const auto split = line.find_last_of(" \t");
      if (split != std::string::npos && line.find_first_not_of("0123456789", split + 1) == std::string::npos) {
        line = line.substr(0, line.find_last_not_of(" \t", split) + 1);
      }
      paths.push_back(fs::path(line).is_absolute() ? line : (base / line).string());
    }
  }
  return paths;
}

}  // namespace smcl::train
