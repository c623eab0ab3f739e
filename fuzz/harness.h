// What every fuzz harness shares: the input as a file (the readers take paths, as smcl's commands do), and the
// contract that a bad input is an smcl::Error and nothing else.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "smcl/core/error.h"

namespace smcl::fuzz {

// The input written to one file per process (in /dev/shm when it exists: no disk wear).
inline std::string as_file(const uint8_t* data, size_t size, const std::string& name) {
  static const std::string dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  const std::string path = dir + "/smcl-fuzz-" + std::to_string(getpid()) + "-" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

// Runs `read`; an smcl::Error is the expected answer to a bad input, so it is swallowed. Any other exception
// escapes, and libFuzzer reports it as a crash: every bad input must be a clear smcl::Error.
template <typename F>
void expect_clean(F&& read) {
  try {
    read();
  } catch (const Error&) {
  }
}

}  // namespace smcl::fuzz
