// Helpers shared by the tests: temporary folders, golden files, running the smcl binary.
#pragma once

#include <gtest/gtest.h>
#include <torch/types.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "smcl/config/choices.h"
#include "smcl/core/error.h"

namespace smcl::test {

// The value of E named `name` (a golden file's or a loop's string); a test failure when no value has that name.
template <typename E>
E choice(const std::string& name) {
  const auto value = config::parse_choice<E>(name);
  if (!value) ADD_FAILURE() << "'" << name << "' is not one of: " << config::choice_list<E>();
  return value.value_or(config::Choices<E>::table[0].value);
}

// The message of the smcl::Error that f throws; a test failure (and "") when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an smcl::Error";
  return "";
}

// A fresh folder under the system temp dir, removed when the object goes out of scope.
class TempDir {
 public:
  TempDir() {
    auto base = std::filesystem::temp_directory_path();
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("smcl-") + (info ? info->name() : "test") + "-" + std::to_string(::getpid());
    path_ = base / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& child) const { return (path_ / child).string(); }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

inline std::string golden(const std::string& name) { return std::string(SMCL_GOLDEN_DIR) + "/" + name; }

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// `jpeg` with its entropy-coded bytes [from, to) after the start-of-scan marker scrambled (none made a marker's
// 0xFF, the file's last two bytes kept), which libjpeg decodes only with a "Corrupt JPEG data" warning. Empty when
// `jpeg` has no scan.
inline std::string with_corrupt_scan(std::string jpeg, size_t from, size_t to) {
  const size_t scan = jpeg.find("\xFF\xDA");
  if (scan == std::string::npos) return "";
  for (size_t i = scan + from; i < scan + to && i + 2 < jpeg.size(); ++i) {
    jpeg[i] = char(static_cast<unsigned char>(jpeg[i]) ^ 0x5A);
    if (static_cast<unsigned char>(jpeg[i]) == 0xFF) jpeg[i] = char(0x7F);
  }
  return jpeg;
}

inline nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(slurp(path)); }

// The JSON objects of a .jsonl file (metrics.jsonl), one per non-empty line.
inline std::vector<nlohmann::json> read_json_lines(const std::string& path) {
  std::istringstream in(slurp(path));
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

// Nested JSON lists of numbers (any depth, rectangular) as a tensor of that shape and `dtype` (golden images and
// values written by the Python scripts of tests/reference).
inline torch::Tensor tensor_from_json(const nlohmann::json& nested, torch::ScalarType dtype) {
  std::vector<int64_t> shape;
  for (const nlohmann::json* level = &nested; level->is_array(); level = &(*level)[0]) {
    shape.push_back(int64_t(level->size()));
  }
  std::vector<double> values;
  std::function<void(const nlohmann::json&)> flatten = [&](const nlohmann::json& v) {
    if (!v.is_array()) {
      values.push_back(v.get<double>());
      return;
    }
    for (const auto& item : v) flatten(item);
  };
  flatten(nested);
  return torch::tensor(values, torch::kFloat64).view(shape).to(dtype);
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

struct CommandResult {
  int status;          // exit status, or 128 + signal
  std::string output;  // stdout and stderr together
};

// Runs a shell command, capturing stdout and stderr together.
inline CommandResult run_command(const std::string& command_line) {
  std::string command = command_line + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  int raw = ::pclose(pipe);
  int status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  return {status, output};
}

// Runs `smcl <args>` through the shell, capturing output; env is prepended ("VAR=value ").
inline CommandResult run_smcl(const std::string& args, const std::string& env = "") {
  return run_command(env + std::string(SMCL_BINARY) + " " + args);
}

// Runs tests/reference/exchange.py (the PyTorch side of the weight-exchange tests) with Debian's Python.
inline CommandResult run_exchange_py(const std::string& args) {
  return run_command("/usr/bin/python3 " + std::string(SMCL_SOURCE_DIR) + "/tests/reference/exchange.py " + args);
}

// A CLI run that failed as user errors must: status 2, one "error: " message containing `fragment`, no libtorch
// backtrace, no crash.
inline void expect_clean_error(const CommandResult& r, const std::string& fragment) {
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("error: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(fragment), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Exception raised from"), std::string::npos) << r.output;  // no libtorch backtrace
  EXPECT_EQ(r.output.find("terminate"), std::string::npos) << r.output;
}

}  // namespace smcl::test
