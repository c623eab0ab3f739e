// CIFAR binary batches, CIFAR-10's layout (1 label byte) and CIFAR-100's (2), plain or gzip'd.
#include "harness.h"
#include "smcl/data/cifar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = smcl::fuzz::as_file(data, size, "cifar.bin");
  smcl::fuzz::expect_clean([&] { smcl::data::read_cifar_binary_file(path, 1, 10); });
  smcl::fuzz::expect_clean([&] { smcl::data::read_cifar_binary_file(path, 2, 100); });
  return 0;
}
