// libFuzzer entry point of the 'pickle' target (targets.h).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smcl::fuzz::pickle(data, size);
  return 0;
}
