#include "smcl/data/cifar.h"

#include <cstring>
#include <filesystem>

#include "smcl/core/error.h"
#include "smcl/core/io.h"
#include "smcl/data/pickle.h"

namespace smcl::data {
namespace {

constexpr int64_t kPixels = 3 * 32 * 32;

void check_labels(const torch::Tensor& labels, int num_classes, const std::string& path) {
  if (labels.numel() == 0) return;
  int64_t lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
  SMCL_CHECK(lo >= 0 && hi < num_classes,
             "'" << path << "' holds label " << (lo < 0 ? lo : hi) << ", outside [0, " << num_classes << ")");
}

// The largest CIFAR file, CIFAR-100's training set (50,000 images), with room to spare: a gzip'd file that
// inflates past it is not a CIFAR file, and is stopped before it fills memory.
constexpr uint64_t kMaxCifarFileBytes = uint64_t(1) << 30;

Dataset concat(const std::vector<Dataset>& parts, int num_classes) {
  std::vector<torch::Tensor> images, labels;
  for (const auto& p : parts) {
    images.push_back(p.images);
    labels.push_back(p.labels);
  }
  return {torch::cat(images), nullptr, torch::cat(labels), num_classes};
}

}  // namespace

Dataset read_cifar_binary_file(const std::string& path, int label_bytes, int num_classes) {
  std::string bytes = read_file_bounded(path, kMaxCifarFileBytes);
  const int64_t record = label_bytes + kPixels;
  SMCL_CHECK(!bytes.empty() && int64_t(bytes.size()) % record == 0,
             "'" << path << "' has " << bytes.size() << " bytes, not a whole number of " << record
                 << "-byte CIFAR records (the file is truncated or not a CIFAR binary batch)");
  int64_t n = int64_t(bytes.size()) / record;
  auto raw = torch::from_blob(bytes.data(), {n, record}, torch::kUInt8);
  Dataset out;
  out.images = raw.narrow(1, label_bytes, kPixels).reshape({n, 3, 32, 32}).clone();
  out.labels = raw.select(1, label_bytes - 1).to(torch::kInt64);
  out.num_classes = num_classes;
  check_labels(out.labels, num_classes, path);
  return out;
}

Dataset read_cifar_pickle_file(const std::string& path, int num_classes) {
  auto root = pickle::parse(read_file_bounded(path, kMaxCifarFileBytes), path);
  SMCL_CHECK(root->kind == pickle::Value::Kind::Dict, "'" << path << "' does not hold a dict");
  auto data = root->get("data");
  std::string label_key = num_classes == 100 ? "fine_labels" : "labels";
  auto labels = root->get(label_key);
  SMCL_CHECK(data, "'" << path << "' has no 'data' entry");
  SMCL_CHECK(labels, "'" << path << "' has no '" << label_key << "' entry");
  torch::Tensor images = pickle::to_tensor(data, "'" + path + "' entry 'data'");
  SMCL_CHECK(images.dim() == 2 && images.size(1) == kPixels && images.scalar_type() == torch::kUInt8,
             "'" << path << "' entry 'data' has shape " << images.sizes() << " and type " << images.scalar_type()
                 << "; expected [N, 3072] uint8");
  torch::Tensor label_tensor;
  if (labels->kind == pickle::Value::Kind::List) {
    std::vector<int64_t> values;
    for (const auto& item : labels->items) {
      SMCL_CHECK(item->kind == pickle::Value::Kind::Int,
                 "'" << path << "' entry '" << label_key << "' holds a value that is not an integer");
      values.push_back(item->int_value);
    }
    label_tensor = torch::tensor(values, torch::kInt64);
  } else {
    label_tensor = pickle::to_tensor(labels, "'" + path + "' entry '" + label_key + "'").to(torch::kInt64).flatten();
  }
  SMCL_CHECK(label_tensor.size(0) == images.size(0),
             "'" << path << "' has " << images.size(0) << " images but " << label_tensor.size(0) << " labels");
  check_labels(label_tensor, num_classes, path);
  return {images.reshape({-1, 3, 32, 32}).contiguous(), nullptr, label_tensor, num_classes};
}

Dataset read_cifar(const std::string& root, int num_classes, bool train) {
  namespace fs = std::filesystem;
  const bool c10 = num_classes == 10;
  const fs::path bin = fs::path(root) / (c10 ? "cifar-10-batches-bin" : "cifar-100-binary");
  const fs::path py = fs::path(root) / (c10 ? "cifar-10-batches-py" : "cifar-100-python");
  std::vector<std::string> names;
  if (c10) {
    if (train) {
      for (int i = 1; i <= 5; ++i) names.push_back("data_batch_" + std::to_string(i));
    } else {
      names.push_back("test_batch");
    }
  } else {
    names.push_back(train ? "train" : "test");
  }
  std::vector<Dataset> parts;
  if (fs::is_directory(bin)) {
    for (const auto& name : names) {
      parts.push_back(read_cifar_binary_file((bin / (name + ".bin")).string(), c10 ? 1 : 2, num_classes));
    }
  } else if (fs::is_directory(py)) {
    for (const auto& name : names) parts.push_back(read_cifar_pickle_file((py / name).string(), num_classes));
  } else {
    throw Error("no CIFAR-" + std::to_string(num_classes) + " found in '" + root + "': expected the folder '" +
                bin.filename().string() + "' (binary version) or '" + py.filename().string() +
                "' (Python version) there; set data.root to the folder that holds it");
  }
  return concat(parts, num_classes);
}

}  // namespace smcl::data
