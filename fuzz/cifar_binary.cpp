// libFuzzer entry point of the 'cifar_binary' target (targets.h).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smcl::fuzz::cifar_binary(data, size);
  return 0;
}
