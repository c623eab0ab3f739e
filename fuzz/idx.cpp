// libFuzzer entry point of the 'idx' target (targets.h).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smcl::fuzz::idx(data, size);
  return 0;
}
