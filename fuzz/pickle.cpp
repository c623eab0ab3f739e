// The pickle reader on arbitrary bytes, then numpy arrays as CIFAR's batches hold them.
#include "harness.h"
#include "smcl/data/pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smcl::fuzz::expect_clean([&] {
    auto root = smcl::data::pickle::parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz.pkl");
    for (const char* key : {"data", "labels", "fine_labels"}) {
      if (auto value = root->get(key)) smcl::data::pickle::to_tensor(value, key);
    }
  });
  return 0;
}
