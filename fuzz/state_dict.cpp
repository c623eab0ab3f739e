// PyTorch state-dict files (model.init_from): the zip container is libtorch's reader, the pickle and the tensor
// references in it smcl's.
#include "harness.h"
#include "smcl/train/exchange.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = smcl::fuzz::as_file(data, size, "state.pt");
  smcl::fuzz::expect_clean([&] { smcl::train::read_state_dict(path); });
  return 0;
}
