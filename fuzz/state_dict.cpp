// libFuzzer entry point of the 'state_dict' target (targets.h).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smcl::fuzz::state_dict(data, size);
  return 0;
}
