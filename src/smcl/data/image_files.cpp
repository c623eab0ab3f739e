#include "smcl/data/image_files.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "smcl/core/error.h"
#include "smcl/core/parallel.h"

namespace smcl::data {
namespace fs = std::filesystem;
namespace {

bool has_image_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

// Adds one file to `list`, or counts it as skipped, or throws, by what check_image_file says.
void add_file(FileList& list, const std::string& path, const std::string& origin, int64_t label,
              const ImageChecks& checks) {
  std::string problem = check_image_file(path, checks.max_pixels);
  if (!problem.empty()) {
    if (checks.skip_bad) {
      ++list.skipped;
      return;
    }
    throw Error(origin + ": " + problem + " (set data.skip_bad_images: true to leave such images out)");
  }
  list.paths.push_back(path);
  list.origins.push_back(origin);
  list.labels.push_back(label);
}

// checks.skip_bad: decodes every image of `list` once and leaves out those that fail, and those that decode
// only with the decoder's warnings (counted apart, the first few named).
void drop_undecodable(FileList& list, const ImageChecks& checks) {
  if (!checks.skip_bad || list.paths.empty()) return;
  std::vector<char> good(list.paths.size(), 0);
  std::vector<std::string> warnings(list.paths.size());
  parallel_for(int64_t(list.paths.size()), checks.threads, [&](int64_t i) {
    try {
      decode_image(list.paths[size_t(i)], list.origins[size_t(i)], 3, checks.max_pixels, &warnings[size_t(i)]);
      good[size_t(i)] = warnings[size_t(i)].empty();
    } catch (const Error&) {
    }
  });
  FileList kept;
  kept.class_names = list.class_names;
  kept.skipped = list.skipped;
  for (size_t i = 0; i < list.paths.size(); ++i) {
    if (!good[i]) {
      ++kept.skipped;
      if (!warnings[i].empty() && kept.warned++ < kWarnedImagesNamed) {
        kept.first_warned.push_back("'" + list.paths[i] + "' " + warnings[i]);
      }
      continue;
    }
    kept.paths.push_back(list.paths[i]);
    kept.origins.push_back(list.origins[i]);
    kept.labels.push_back(list.labels[i]);
  }
  list = std::move(kept);
}

}  // namespace

std::string check_image_file(const std::string& path, int64_t max_pixels) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) return "image '" + path + "' does not exist";
  if (ec) return "cannot read image '" + path + "': " + ec.message();  // a link that loops, say
  if (fs::is_directory(status)) {
    const fs::directory_iterator probe(path, ec);
    return ec ? "cannot read folder '" + path + "': " + ec.message() : "'" + path + "' is a folder, not an image file";
  }
  if (!fs::is_regular_file(status)) return "'" + path + "' is not an image file";
  const auto size = fs::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (ec || !in) return "cannot read image '" + path + "'";
  std::array<unsigned char, 8> head{};
  in.read(reinterpret_cast<char*>(head.data()), std::streamsize(std::min<uintmax_t>(size, head.size())));
  // The last bytes: JPEG ends with FF D9 (writers may append padding), PNG with the 12-byte IEND chunk.
  std::array<unsigned char, 32> tail{};
  const auto tail_size = std::min<uintmax_t>(size, tail.size());
  in.seekg(std::streamoff(size - tail_size));
  in.read(reinterpret_cast<char*>(tail.data()), std::streamsize(tail_size));
  if (!in) return "cannot read image '" + path + "'";
  const bool jpeg = size >= 4 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF;
  const bool png = size >= 8 && head == std::array<unsigned char, 8>{0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (!jpeg && !png) return "'" + path + "' is not a JPEG or PNG file";
  int64_t width = 0, height = 0;
  const std::string unreadable = read_image_size(path, png, width, height);
  if (!unreadable.empty()) return unreadable;
  const int64_t pixels = width * height;  // each below 2^32: no overflow
  if (pixels > max_pixels) {
    return "image '" + path + "' declares " + std::to_string(pixels) + " pixels, more than data.max_image_pixels (" +
           std::to_string(max_pixels) + ")";
  }
  if (uint64_t(size) > max_image_bytes(pixels)) {
    return "image '" + path + "' is " + std::to_string(size) + " bytes, more than an image of " +
           std::to_string(width) + "x" + std::to_string(height) + " pixels can need (" +
           std::to_string(max_image_bytes(pixels)) + ")";
  }
  if (jpeg) {
    for (size_t i = 0; i + 1 < tail_size; ++i) {
      if (tail[i] == 0xFF && tail[i + 1] == 0xD9) return "";
    }
    return "JPEG '" + path + "' is truncated (no end-of-image marker)";
  }
  if (tail_size < 12 || std::string(reinterpret_cast<const char*>(&tail[tail_size - 8]), 4) != "IEND") {
    return "PNG '" + path + "' is truncated (no IEND chunk)";
  }
  return "";
}

FileList read_image_list(const std::string& list_path, const std::string& root, int64_t num_classes,
                         const ImageChecks& checks) {
  std::ifstream in(list_path);
  SMCL_CHECK(in, "cannot open list file '" << list_path << "'");
  FileList list;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string origin = "'" + list_path + "' line " + std::to_string(number);
    const auto split = line.find_last_of(" \t");
    SMCL_CHECK(split != std::string::npos && split > 0,
               origin << ": expected 'relative/path label', got '" << line << "'");
    const std::string relative = line.substr(0, line.find_last_not_of(" \t", split) + 1);
    const std::string label_text = line.substr(split + 1);
    int64_t label = -1;
    size_t used = 0;
    try {
      label = std::stoll(label_text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    SMCL_CHECK(used == label_text.size() && label >= 0 && (num_classes == 0 || label < num_classes),
               origin << ": label '" << label_text << "' is not an integer in [0, "
                      << (num_classes == 0 ? std::string("inf") : std::to_string(num_classes)) << ")");
    add_file(list, (fs::path(root) / relative).string(), origin, label, checks);
  }
  drop_undecodable(list, checks);
  SMCL_CHECK(!list.paths.empty(), "list file '" << list_path << "' names no usable images");
  return list;
}

FileList scan_image_folder(const std::string& root, const std::vector<std::string>& class_names,
                           const ImageChecks& checks) {
  SMCL_CHECK(fs::is_directory(root), "image folder '" << root << "' does not exist or is not a folder");
  FileList list;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.is_directory()) list.class_names.push_back(entry.path().filename().string());
  }
  std::sort(list.class_names.begin(), list.class_names.end());
  SMCL_CHECK(!list.class_names.empty(),
             "image folder '" << root << "' has no class folders (expected root/<class>/<image>)");
  if (!class_names.empty() && list.class_names != class_names) {
    for (const auto& name : list.class_names) {
      SMCL_CHECK(std::count(class_names.begin(), class_names.end(), name),
                 "class folder '" << (fs::path(root) / name).string() << "' is not a class of the training folder");
    }
    for (const auto& name : class_names) {
      SMCL_CHECK(std::count(list.class_names.begin(), list.class_names.end(), name),
                 "image folder '" << root << "' lacks the training class folder '" << name << "'");
    }
  }
  for (size_t k = 0; k < list.class_names.size(); ++k) {
    std::vector<std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(root) / list.class_names[k])) {
      if (entry.is_regular_file() && has_image_extension(entry.path())) files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    const size_t before = list.paths.size();
    for (const auto& file : files) add_file(list, file, "'" + file + "'", int64_t(k), checks);
    SMCL_CHECK(list.paths.size() > before, "class folder '" << (fs::path(root) / list.class_names[k]).string()
                                                            << "' holds no usable .jpg/.jpeg/.png images");
  }
  drop_undecodable(list, checks);
  for (size_t k = 0; k < list.class_names.size(); ++k) {
    SMCL_CHECK(std::count(list.labels.begin(), list.labels.end(), int64_t(k)),
               "class folder '" << (fs::path(root) / list.class_names[k]).string() << "' holds no image that decodes");
  }
  return list;
}

ImageFiles::ImageFiles(std::vector<std::string> paths, std::vector<std::string> origins, int64_t channels, int64_t side,
                       int64_t threads, int64_t max_pixels)
    : paths_(std::move(paths)),
      origins_(std::move(origins)),
      channels_(channels),
      side_(side),
      threads_(threads),
      max_pixels_(max_pixels) {
  SMCL_ASSERT(paths_.size() == origins_.size());
}

std::vector<torch::Tensor> ImageFiles::decode(const std::vector<int64_t>& rows) const {
  std::vector<torch::Tensor> images(rows.size());
  parallel_for(int64_t(rows.size()), threads_, [&](int64_t i) {
    const auto row = size_t(rows[size_t(i)]);
    SMCL_ASSERT(row < paths_.size());
    images[size_t(i)] = decode_image(paths_[row], origins_[row], channels_, max_pixels_);
  });
  return images;
}

ImageFiles ImageFiles::select(const std::vector<int64_t>& rows) const {
  std::vector<std::string> paths, origins;
  for (int64_t row : rows) {
    paths.push_back(paths_[size_t(row)]);
    origins.push_back(origins_[size_t(row)]);
  }
  return ImageFiles(std::move(paths), std::move(origins), channels_, side_, threads_, max_pixels_);
}

}  // namespace smcl::data
