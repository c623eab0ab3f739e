// IDX files, plain or gzip'd (the input decides by its first two bytes).
#include "harness.h"
#include "smcl/data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = smcl::fuzz::as_file(data, size, "idx");
  smcl::fuzz::expect_clean([&] { smcl::data::read_idx(path); });
  return 0;
}
