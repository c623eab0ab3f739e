// libFuzzer entry point of the 'image_header' target (targets.h).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smcl::fuzz::image_header(data, size);
  return 0;
}
