// The fuzz targets: each feeds one input to one reader of untrusted files, as smcl's commands do, and holds it
// to the contract that a bad input is an smcl::Error and nothing else (any other exception escapes; libFuzzer
// reports it, as it does a crash or a sanitizer finding). Shared by the libFuzzer harnesses (fuzz/*.cpp) and the
// test that replays every past finding (tests/data/fuzz_regression_test.cpp).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include "smcl/config/config.h"
#include "smcl/core/error.h"
#include "smcl/data/cifar.h"
#include "smcl/data/idx.h"
#include "smcl/data/image_files.h"
#include "smcl/data/pickle.h"
#include "smcl/train/exchange.h"

namespace smcl::fuzz {

// The input written to one file per process and target (in /dev/shm when it exists: no disk wear); the readers
// take paths.
inline std::string as_file(const uint8_t* data, size_t size, const std::string& name) {
  static const std::string dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  const std::string path = dir + "/smcl-fuzz-" + std::to_string(getpid()) + "-" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

// Runs `read`; an smcl::Error is the expected answer to a bad input.
inline void expect_clean(const std::function<void()>& read) {
  try {
    read();
  } catch (const Error&) {
  }
}

// The pickle reader on arbitrary bytes, then numpy arrays as CIFAR's batches hold them.
inline void pickle(const uint8_t* data, size_t size) {
  expect_clean([&] {
    auto root = data::pickle::parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz.pkl");
    for (const char* key : {"data", "labels", "fine_labels"}) {
      if (auto value = root->get(key)) data::pickle::to_tensor(value, key);
    }
  });
}

// IDX files, plain or gzip'd (the input decides by its first two bytes).
inline void idx(const uint8_t* data, size_t size) {
  const std::string path = as_file(data, size, "idx");
  expect_clean([&] { data::read_idx(path); });
}

// CIFAR binary batches in CIFAR-10's layout (1 label byte) and CIFAR-100's (2), plain or gzip'd.
inline void cifar_binary(const uint8_t* data, size_t size) {
  const std::string path = as_file(data, size, "cifar.bin");
  expect_clean([&] { data::read_cifar_binary_file(path, 1, 10); });
  expect_clean([&] { data::read_cifar_binary_file(path, 2, 100); });
}

// YAML configs: parsing, every key's type and range, aliases, complex keys, and writing the result back.
inline void config(const uint8_t* data, size_t size) {
  expect_clean([&] {
    auto parsed = config::parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
    config::to_yaml(parsed);
  });
}

// List files (`relative/path label` lines, ImageNet-LT's format): the line parser and the label checks, the
// images missing (left out as bad images).
inline void list(const uint8_t* data, size_t size) {
  const std::string path = as_file(data, size, "list.txt");
  expect_clean([&] { data::read_image_list(path, "/nonexistent", 0, data::ImageChecks{true, 1000, 1}); });
}

// PyTorch state-dict files (model.init_from): the zip container is libtorch's reader; the pickle and the tensor
// references in it are smcl's.
inline void state_dict(const uint8_t* data, size_t size) {
  const std::string path = as_file(data, size, "state.pt");
  expect_clean([&] { train::read_state_dict(path); });
}

// Image files' checks before decoding (data::check_image_file): the signature, libjpeg's or libpng's header
// reader (issue 38: what decides the size a decoder allocates for), the pixel and byte bounds; then, for a JPEG
// that passes, libjpeg's decoding with its warnings (data::decode_jpeg). Both answer with a message, never an
// exception; what is fuzzed is that nothing crashes, leaks or reads out of bounds.
inline void image_header(const uint8_t* data, size_t size) {
  const std::string path = as_file(data, size, "image");
  if (!data::check_image_file(path, 1 << 20).empty() || size < 3 || data[0] != 0xFF) return;
  data::JpegPixels pixels;
  (void)data::decode_jpeg(path, pixels);
}

inline const std::map<std::string, void (*)(const uint8_t*, size_t)> kTargets = {{"pickle", pickle},
                                                                                 {"idx", idx},
                                                                                 {"cifar_binary", cifar_binary},
                                                                                 {"config", config},
                                                                                 {"list", list},
                                                                                 {"state_dict", state_dict},
                                                                                 {"image_header", image_header}};

}  // namespace smcl::fuzz
