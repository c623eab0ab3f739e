// List files (`relative/path label` lines, ImageNet-LT's format): the line parser and the label checks, with
// the images missing (left out as bad images).
#include "harness.h"
#include "smcl/data/image_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = smcl::fuzz::as_file(data, size, "list.txt");
  smcl::fuzz::expect_clean([&] { smcl::data::read_image_list(path, "/nonexistent", 0, {true, 1000, 1}); });
  return 0;
}
