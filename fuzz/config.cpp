// libFuzzer entry point of the 'config' target (targets.h).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smcl::fuzz::config(data, size);
  return 0;
}
