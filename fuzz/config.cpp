// YAML configs: parsing, every key's type and range, aliases, complex keys.
#include "harness.h"
#include "smcl/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smcl::fuzz::expect_clean([&] {
    auto config = smcl::config::parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
    smcl::config::to_yaml(config);
  });
  return 0;
}
