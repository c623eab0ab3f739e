#include "smcl/data/datasets.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <tuple>

#include "smcl/core/error.h"
#include "smcl/core/rng.h"
#include "smcl/data/background.h"
#include "smcl/data/cifar.h"
#include "smcl/data/idx.h"
#include "smcl/data/image_files.h"
#include "smcl/data/long_tail.h"

namespace smcl::data {
namespace {

using config::DatasetName;

const std::vector<double> kImageNetMean{0.485, 0.456, 0.406}, kImageNetStd{0.229, 0.224, 0.225};

// File sets: classes come from the files (ImageNet-LT: 1000), channels from data.channels, mean and std are
// ImageNet's (for one channel, those of its luma).
const std::vector<DatasetInfo>& known() {
  // One dataset per line reads as a table.
  // clang-format off
  static const std::vector<DatasetInfo> infos = {
      {DatasetName::kFashionMnist, "Fashion-MNIST", 10, 1, 6000, {0.2860}, {0.3530},
       "/usr/share/datasets/fashion-mnist", false, 28},
      {DatasetName::kMnist, "MNIST", 10, 1, 6000, {0.1307}, {0.3081}, "data", false, 28},
      // The background-biased wrappers (background.h): 32x32 RGB; mean and std of fashion_mnist_bg's default
      // long-tailed training set (smcl data prints them).
      {DatasetName::kFashionMnistBg, "Fashion-MNIST on biased backgrounds", 10, 3, 6000, {0.6405, 0.5563, 0.5352},
       {0.2971, 0.2604, 0.2866}, "/usr/share/datasets/fashion-mnist", false, kBackgroundSide},
      {DatasetName::kMnistBg, "MNIST on biased backgrounds", 10, 3, 6000, {0.6405, 0.5563, 0.5352},
       {0.2971, 0.2604, 0.2866}, "data", false, kBackgroundSide},
      {DatasetName::kCifar10, "CIFAR-10", 10, 3, 5000, {0.4914, 0.4822, 0.4465}, {0.2023, 0.1994, 0.2010},
       "data", false, 32},
      {DatasetName::kCifar100, "CIFAR-100", 100, 3, 500, {0.4914, 0.4822, 0.4465}, {0.2023, 0.1994, 0.2010},
       "data", false, 32},
      {DatasetName::kImageList, "image list", 0, 3, 0, kImageNetMean, kImageNetStd, "", true},
      {DatasetName::kImagenetLt, "ImageNet-LT", 1000, 3, 0, kImageNetMean, kImageNetStd, "data/imagenet", true},
      {DatasetName::kImageFolder, "image folder", 0, 3, 0, kImageNetMean, kImageNetStd, "", true},
  };
  // clang-format on
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

// The class names of the sets that have them in their documentation or meta files.
std::vector<std::string> official_class_names(DatasetName name) {
  switch (name) {
    case DatasetName::kFashionMnist:
      return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    case DatasetName::kMnist: return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    case DatasetName::kCifar10: return cifar_class_names(10);
    case DatasetName::kCifar100: return cifar_class_names(100);
    default: return {};
  }
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
  return {images.unsqueeze(1).contiguous(), nullptr, labels.to(torch::kInt64), 10};
}

}  // namespace

const DatasetInfo& dataset_info(DatasetName name) {
  for (const auto& info : known()) {
    if (info.name == name) return info;
  }
  SMCL_ASSERT(false, "data.name " << config::name_of(name) << " has no entry in datasets.cpp's table");
}

void resolve_defaults(config::Config& config) {
  auto& data = config.data;
  const DatasetInfo& info = dataset_info(data.name);
  if (data.root.empty()) data.root = info.default_root;
  if (data.subset == config::Subset::kAuto) {
    data.subset = info.file_backed ? config::Subset::kNone : config::Subset::kLongTail;
  }
  int64_t channels = info.channels;
  if (info.file_backed) {
    SMCL_CHECK(!data.root.empty(),
               "data.root is required for data.name " << config::name_of(data.name) << " (the folder of the images)");
    if (data.image_size == 0) data.image_size = 224;
    if (data.name == DatasetName::kImagenetLt) {
      if (data.train_list.empty()) data.train_list = "ImageNet_LT_train.txt";
      if (data.test_list.empty()) data.test_list = "ImageNet_LT_test.txt";
      if (data.val_list.empty()) data.val_list = "ImageNet_LT_val.txt";
      if (data.num_classes == 0) data.num_classes = info.num_classes;
    }
    if (data.name != DatasetName::kImageFolder) {
      SMCL_CHECK(!data.train_list.empty() && !data.test_list.empty(),
                 "data.train_list and data.test_list are required for data.name " << config::name_of(data.name));
    }
    channels = data.channels;
    if (channels == 1 && config.augment.mean.empty()) config.augment.mean = {0.449};
    if (channels == 1 && config.augment.std.empty()) config.augment.std = {0.226};
  } else {
    SMCL_CHECK(data.image_size == 0, "data.image_size is for file sets; " << info.title << " images keep their size");
    if (data.max_per_class == 0) data.max_per_class = info.per_class_train;
  }
  if (config.augment.mean.empty()) config.augment.mean = info.mean;
  if (config.augment.std.empty()) config.augment.std = info.std;
  SMCL_CHECK(int64_t(config.augment.mean.size()) == channels && int64_t(config.augment.std.size()) == channels,
             "augment.mean and augment.std need " << channels << " values for " << info.title << ", one per channel");
}

std::string dataset_title(const config::DataConfig& data) {
  const DatasetInfo& info = dataset_info(data.name);
  if (data.name == DatasetName::kImageList || data.name == DatasetName::kImageFolder)
    return info.title + " '" + data.root + "'";
  return info.title;
}

Dataset load_split(const config::DataConfig& data, bool train) {
  const DatasetInfo& info = dataset_info(data.name);
  std::string root = data.root.empty() ? info.default_root : data.root;
  switch (data.name) {
    case DatasetName::kFashionMnist: return read_mnist_like(root, "FashionMNIST", train);
    case DatasetName::kMnist: return read_mnist_like(root, "MNIST", train);
    case DatasetName::kCifar10:
    case DatasetName::kCifar100: return read_cifar(root, int(info.num_classes), train);
    default: throw Error("load_split reads the official splits of in-memory sets, not " + config::name_of(data.name));
  }
}

namespace {

std::string under_root(const std::string& root, const std::string& path) {
  return std::filesystem::path(path).is_absolute() ? path : (std::filesystem::path(root) / path).string();
}

void report_skipped(const FileList& list, const std::string& what) {
  if (list.skipped > 0) {
    std::printf("data: left out %lld bad images of %s (data.skip_bad_images)\n", static_cast<long long>(list.skipped),
                what.c_str());
  }
  if (list.warned > 0) {
    std::printf("data: %lld of them decoded only with warnings, e.g.\n", static_cast<long long>(list.warned));
    for (const auto& line : list.first_warned) std::printf("  %s\n", line.c_str());
  }
}

Dataset file_dataset(const FileList& list, int64_t num_classes, const config::DataConfig& data) {
  return {{},
          std::make_shared<ImageFiles>(list.paths, list.origins, data.channels, data.image_size, data.decode_threads,
                                       data.max_image_pixels),
          torch::tensor(list.labels, torch::kInt64),
          num_classes};
}

// image_folder without a test folder: of each class, a seeded random holdout_fraction (rounded, at least one
// image, at most all but one) is tested on; the rest, in folder order, trained on.
std::pair<FileList, FileList> hold_out(const FileList& all, const config::DataConfig& data) {
  std::vector<std::vector<int64_t>> by_class(all.class_names.size());
  for (size_t i = 0; i < all.labels.size(); ++i) by_class[size_t(all.labels[i])].push_back(int64_t(i));
  std::vector<bool> tested(all.labels.size(), false);
  NumpyLegacyRng rng(uint32_t(data.subset_seed));
  for (size_t k = 0; k < by_class.size(); ++k) {
    auto rows = by_class[k];
    SMCL_CHECK(rows.size() >= 2, "class '" << all.class_names[k] << "' of '" << data.root << "' has " << rows.size()
                                           << " image; holding out a test share needs at least 2 per class (or "
                                              "give a test folder in data.test_root)");
    auto n_test = int64_t(std::nearbyint(data.holdout_fraction * double(rows.size())));
    n_test = std::clamp<int64_t>(n_test, 1, int64_t(rows.size()) - 1);
    rng.shuffle(rows);
    for (int64_t j = 0; j < n_test; ++j) tested[size_t(rows[size_t(j)])] = true;
  }
  std::pair<FileList, FileList> split;
  split.first.class_names = split.second.class_names = all.class_names;
  for (size_t i = 0; i < all.labels.size(); ++i) {
    FileList& part = tested[i] ? split.second : split.first;
    part.paths.push_back(all.paths[i]);
    part.origins.push_back(all.origins[i]);
    part.labels.push_back(all.labels[i]);
  }
  return split;
}

// The training part of `out`: `full` as it is, or (cut) its long-tailed subset of SPEC section 1 with n_max
// data.max_per_class (0: the largest class).
void set_training_set(LongTailedData& out, const Dataset& full, const config::DataConfig& data, bool cut) {
  out.counts = class_counts(full);
  if (!cut) {
    out.train = full;
    out.train_indices.resize(size_t(full.size()));
    std::iota(out.train_indices.begin(), out.train_indices.end(), int64_t(0));
    return;
  }
  const int64_t n_max =
      data.max_per_class > 0 ? data.max_per_class : *std::max_element(out.counts.begin(), out.counts.end());
  out.counts = long_tail_counts(data.profile, full.num_classes, n_max, data.imbalance_ratio);
  out.train_indices = long_tail_indices(full.labels, out.counts, uint32_t(data.subset_seed));
  out.train = select(full, torch::tensor(out.train_indices, torch::kInt64));
}

LongTailedData load_file_sets(const config::DataConfig& data) {
  FileList train, test;
  int64_t num_classes = data.num_classes;
  const ImageChecks checks{data.skip_bad_images, data.max_image_pixels, data.decode_threads};
  if (data.name == DatasetName::kImageFolder) {
    train = scan_image_folder(data.root, {}, checks);
    report_skipped(train, "'" + data.root + "'");
    if (!data.test_root.empty()) {
      test = scan_image_folder(data.test_root, train.class_names, checks);
      report_skipped(test, "'" + data.test_root + "'");
    } else {
      std::tie(train, test) = hold_out(train, data);
    }
    num_classes = int64_t(train.class_names.size());
  } else {
    const std::string train_list = under_root(data.root, data.train_list);
    train = read_image_list(train_list, data.root, num_classes, checks);
    report_skipped(train, "'" + train_list + "'");
    if (num_classes == 0) {
      // The class count comes from the largest label. More classes than training images would mean most of them
      // have none: that is a typo in a label (one 2000000000 would ask for gigabytes of per-class tables).
      const auto largest = std::max_element(train.labels.begin(), train.labels.end());
      const auto images = int64_t(train.labels.size());
      SMCL_CHECK(*largest < images, train.origins[size_t(largest - train.labels.begin())]
                                        << ": label " << *largest << " implies " << *largest + 1 << " classes for "
                                        << images << " training images (a typo? set data.num_classes when classes "
                                        << "really lack images)");
      num_classes = 1 + *largest;
    }
    const std::string test_list = under_root(data.root, data.test_list);
    test = read_image_list(test_list, data.root, num_classes, checks);
    report_skipped(test, "'" + test_list + "'");
  }
  LongTailedData out;
  if (!data.val_list.empty()) {
    SMCL_CHECK(data.name != DatasetName::kImageFolder, "data.val_list is for list files (image_list, imagenet_lt)");
    const std::string val_list = under_root(data.root, data.val_list);
    FileList val = read_image_list(val_list, data.root, num_classes, checks);
    report_skipped(val, "'" + val_list + "'");
    out.val = file_dataset(val, num_classes, data);
  }
  out.class_names = train.class_names;
  Dataset full = file_dataset(train, num_classes, data);
  out.test = file_dataset(test, num_classes, data);
  set_training_set(out, full, data, /*cut=*/data.subset == config::Subset::kLongTail);
  return out;
}

}  // namespace

std::string LongTailedData::class_name(int64_t k) const {
  return size_t(k) < class_names.size() ? class_names[size_t(k)] : "class " + std::to_string(k);
}

LongTailedData load_long_tailed(const config::DataConfig& data) {
  const DatasetInfo& info = dataset_info(data.name);
  if (info.file_backed) return load_file_sets(data);
  if (const auto objects = background_base(data.name)) {
    config::DataConfig base = data;
    base.name = *objects;
    LongTailedData out = load_long_tailed(base);
    add_biased_backgrounds(out, data.bg_bias, uint32_t(data.subset_seed));
    return out;
  }
  LongTailedData out;
  Dataset full = load_split(data, true);
  out.test = load_split(data, false);
  out.class_names = official_class_names(data.name);
  // auto (a config not yet resolved, e.g. of an older run folder) means long_tail for in-memory sets.
  set_training_set(out, full, data, /*cut=*/data.subset != config::Subset::kNone);
  return out;
}

Images gather(const Dataset& dataset, const torch::Tensor& indices) {
  if (!dataset.files) return dataset.images.index_select(0, indices.to(dataset.images.device()));
  return Images(dataset.files->decode(to_host_vector(indices)), dataset.files->side(), dataset.files->threads(),
                indices.device());
}

Dataset to_device(const Dataset& dataset, const torch::Device& device) {
  Dataset moved = dataset;
  if (moved.images.defined()) moved.images = moved.images.to(device);
  moved.labels = moved.labels.to(device);
  return moved;
}

Dataset select(const Dataset& dataset, const torch::Tensor& indices) {
  if (!dataset.files) {
    return {dataset.images.index_select(0, indices), nullptr, dataset.labels.index_select(0, indices),
            dataset.num_classes};
  }
  return {{},
          std::make_shared<ImageFiles>(dataset.files->select(to_host_vector(indices))),
          dataset.labels.index_select(0, indices.to(dataset.labels.device())),
          dataset.num_classes};
}

std::vector<int64_t> class_counts(const Dataset& dataset) {
  return to_host_vector(torch::bincount(dataset.labels, {}, dataset.num_classes));
}

std::vector<int64_t> to_host_vector(const torch::Tensor& values) {
  // Copied to the host first: with train.device cuda labels live on the GPU, whose memory data_ptr cannot read.
  auto cpu = values.to(torch::kCPU, torch::kInt64).contiguous();
  return std::vector<int64_t>(cpu.data_ptr<int64_t>(), cpu.data_ptr<int64_t>() + cpu.numel());
}

}  // namespace smcl::data
