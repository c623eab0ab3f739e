#include "smcl/data/datasets.h"

#include <filesystem>

#include "smcl/core/error.h"
#include "smcl/data/cifar.h"
#include "smcl/data/idx.h"
#include "smcl/data/long_tail.h"

namespace smcl::data {
namespace {

const std::vector<DatasetInfo>& known() {
  static const std::vector<DatasetInfo> infos = {
      {"fashion_mnist", "Fashion-MNIST", 10, 1, 6000, {0.2860}, {0.3530}, "/usr/share/datasets/fashion-mnist"},
      {"mnist", "MNIST", 10, 1, 6000, {0.1307}, {0.3081}, "data"},
      {"cifar10", "CIFAR-10", 10, 3, 5000, {0.4914, 0.4822, 0.4465}, {0.2023, 0.1994, 0.2010}, "data"},
      {"cifar100", "CIFAR-100", 100, 3, 500, {0.4914, 0.4822, 0.4465}, {0.2023, 0.1994, 0.2010}, "data"},
  };
  return infos;
}

// Finds an IDX file by its official name, plain or gzip'd, directly in root or in torchvision's
// <root>/<MNIST|FashionMNIST>/raw layout.
std::string find_idx(const std::string& root, const std::string& name, const std::string& torchvision_folder) {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  for (const fs::path& dir : {fs::path(root), fs::path(root) / torchvision_folder / "raw"}) {
    candidates.push_back(dir / name);
    candidates.push_back(dir / (name + ".gz"));
  }
  for (const auto& c : candidates) {
    if (fs::is_regular_file(c)) return c.string();
  }
  throw Error("cannot find '" + name + "' (or '" + name + ".gz') in '" + root + "' or '" +
              (fs::path(root) / torchvision_folder / "raw").string() + "'; set data.root to the folder holding it");
}

Dataset read_mnist_like(const std::string& root, const std::string& torchvision_folder, bool train) {
  std::string prefix = train ? "train" : "t10k";
  std::string images_path = find_idx(root, prefix + "-images-idx3-ubyte", torchvision_folder);
  std::string labels_path = find_idx(root, prefix + "-labels-idx1-ubyte", torchvision_folder);
  torch::Tensor images = read_idx(images_path);
  torch::Tensor labels = read_idx(labels_path);
  SMCL_CHECK(images.dim() == 3, "'" << images_path << "' has " << images.dim() << " dimensions; expected 3 (N, H, W)");
  SMCL_CHECK(labels.dim() == 1, "'" << labels_path << "' has " << labels.dim() << " dimensions; expected 1");
  SMCL_CHECK(images.size(0) == labels.size(0), "'" << images_path << "' has " << images.size(0) << " images but '"
                                                   << labels_path << "' has " << labels.size(0) << " labels");
  if (labels.numel() > 0) {
    int64_t hi = labels.max().item<int64_t>();
    SMCL_CHECK(hi < 10, "'" << labels_path << "' holds label " << hi << ", outside [0, 10)");
  }
  return {images.unsqueeze(1).contiguous(), labels.to(torch::kInt64), 10};
}

}  // namespace

const DatasetInfo& dataset_info(const std::string& name) {
  std::string names;
  for (const auto& info : known()) {
    if (info.name == name) return info;
    names += (names.empty() ? "" : ", ") + info.name;
  }
  throw Error("unknown dataset '" + name + "' (known: " + names + ")");
}

void resolve_defaults(config::Config& config) {
  const DatasetInfo& info = dataset_info(config.data.name);
  if (config.data.root.empty()) config.data.root = info.default_root;
  if (config.data.max_per_class == 0) config.data.max_per_class = info.per_class_train;
  if (config.augment.mean.empty()) config.augment.mean = info.mean;
  if (config.augment.std.empty()) config.augment.std = info.std;
  SMCL_CHECK(int64_t(config.augment.mean.size()) == info.channels && int64_t(config.augment.std.size()) == info.channels,
             "augment.mean and augment.std need " << info.channels << " values for " << info.title << ", one per channel");
}

Dataset load_split(const config::DataConfig& data, bool train) {
  const DatasetInfo& info = dataset_info(data.name);
  std::string root = data.root.empty() ? info.default_root : data.root;
  if (data.name == "fashion_mnist") return read_mnist_like(root, "FashionMNIST", train);
  if (data.name == "mnist") return read_mnist_like(root, "MNIST", train);
  return read_cifar(root, int(info.num_classes), train);
}

LongTailedData load_long_tailed(const config::DataConfig& data) {
  const DatasetInfo& info = dataset_info(data.name);
  LongTailedData out;
  Dataset full = load_split(data, true);
  out.test = load_split(data, false);
  out.counts = long_tail_counts(data.profile, info.num_classes, data.max_per_class, data.imbalance_ratio);
  out.train_indices = long_tail_indices(full.labels, out.counts, uint32_t(data.subset_seed));
  out.train = select(full, torch::tensor(out.train_indices, torch::kInt64));
  return out;
}

Dataset select(const Dataset& dataset, const torch::Tensor& indices) {
  return {dataset.images.index_select(0, indices), dataset.labels.index_select(0, indices), dataset.num_classes};
}

std::vector<int64_t> class_counts(const Dataset& dataset) {
  auto counts = torch::bincount(dataset.labels, {}, dataset.num_classes);
  return std::vector<int64_t>(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel());
}

}  // namespace smcl::data
