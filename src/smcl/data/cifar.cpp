#include "smcl/data/cifar.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include "smcl/core/error.h"
#include "smcl/core/io.h"
#include "smcl/core/parallel.h"
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

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Natural order of file names: two names whose stems are both numbers compare as numbers (2.png before 10.png,
// 0002.jpg before 0010.jpg), any other pair as strings.
bool natural_less(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::string sa = a.stem().string(), sb = b.stem().string();
  if (all_digits(sa) && all_digits(sb)) {
    sa.erase(0, std::min(sa.find_first_not_of('0'), sa.size()));
    sb.erase(0, std::min(sb.find_first_not_of('0'), sb.size()));
    if (sa.size() != sb.size()) return sa.size() < sb.size();
    if (sa != sb) return sa < sb;
  }
  return a.filename().string() < b.filename().string();
}

}  // namespace

const std::vector<std::string>& cifar_class_names(int num_classes) {
  // clang-format off
  static const std::vector<std::string> cifar10 = {
      "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  static const std::vector<std::string> cifar100 = {
      "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle", "bowl", "boy",
      "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle", "chair", "chimpanzee", "clock",
      "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish",
      "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion",
      "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain", "mouse", "mushroom", "oak_tree", "orange",
      "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine",
      "possum", "rabbit", "raccoon", "ray", "road", "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk",
      "skyscraper", "snail", "snake", "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table",
      "tank", "telephone", "television", "tiger", "tractor", "train", "trout", "tulip", "turtle", "wardrobe",
      "whale", "willow_tree", "wolf", "woman", "worm"};
  // clang-format on
  SMCL_ASSERT(num_classes == 10 || num_classes == 100);
  return num_classes == 10 ? cifar10 : cifar100;
}

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

Dataset read_cifar_folder(const std::string& split_dir, int num_classes, int64_t threads) {
  namespace fs = std::filesystem;
  const auto& names = cifar_class_names(num_classes);
  const std::string title = "CIFAR-" + std::to_string(num_classes);
  SMCL_CHECK(fs::is_directory(split_dir),
             "'" << split_dir << "' is not a folder (expected " << title << "'s class folders there)");
  // Anything else in the split folder means the folder is not what it is taken for (another dataset, a split
  // one level too high): an error, not a silently smaller set.
  const std::set<std::string> known(names.begin(), names.end());
  for (const auto& entry : fs::directory_iterator(split_dir)) {
    SMCL_CHECK(entry.is_directory() && known.count(entry.path().filename().string()),
               "'" << entry.path().string() << "' is not one of " << title << "'s class folders ('" << names.front()
                   << "', '" << names[1] << "', ... as the official meta file names them)");
  }
  std::vector<std::string> paths;
  std::vector<int64_t> labels;
  for (size_t k = 0; k < names.size(); ++k) {
    const fs::path dir = fs::path(split_dir) / names[k];
    SMCL_CHECK(fs::is_directory(dir), "'" << dir.string() << "' is missing: " << title << "'s class " << k
                                          << " needs a folder of that name holding its images");
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      SMCL_CHECK(entry.is_regular_file(), "'" << entry.path().string() << "' is not an image file");
      files.push_back(entry.path());
    }
    SMCL_CHECK(!files.empty(), "class folder '" << dir.string() << "' holds no images");
    std::sort(files.begin(), files.end(), natural_less);
    for (const auto& f : files) {
      paths.push_back(f.string());
      labels.push_back(int64_t(k));
    }
  }
  const auto n = int64_t(paths.size());
  auto images = torch::empty({n, 3, 32, 32}, torch::kUInt8);
  // Workers copy into the tensor's memory rather than through tensor operations: they do not share this
  // thread's grad mode.
  uint8_t* out = images.data_ptr<uint8_t>();
  parallel_for(n, threads, [&](int64_t i) {
    const std::string& path = paths[size_t(i)];
    const torch::Tensor rgb = decode_image(path, title + " image folder", 3);
    SMCL_CHECK(rgb.size(1) == 32 && rgb.size(2) == 32, "'" << path << "' is " << rgb.size(2) << "x" << rgb.size(1)
                                                           << " pixels; " << title << " images are 32x32");
    std::memcpy(out + i * kPixels, rgb.data_ptr<uint8_t>(), size_t(kPixels));
  });
  return {images, nullptr, torch::tensor(labels, torch::kInt64), num_classes};
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
  } else if (fs::is_directory(fs::path(root) / "train") || fs::is_directory(fs::path(root) / "test")) {
    return read_cifar_folder((fs::path(root) / (train ? "train" : "test")).string(), num_classes);
  } else {
    throw Error("no CIFAR-" + std::to_string(num_classes) + " found in '" + root + "': expected the folder '" +
                bin.filename().string() + "' (binary version), '" + py.filename().string() +
                "' (Python version) or the image folders 'train' and 'test' (train/<class>/0000.jpg, ...) there; "
                "set data.root to the folder that holds it");
  }
  return concat(parts, num_classes);
}

}  // namespace smcl::data
