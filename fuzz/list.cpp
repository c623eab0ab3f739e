// libFuzzer entry point of the 'list' target (targets.h).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smcl::fuzz::list(data, size);
  return 0;
}
