// Every input in fuzz/regressions/<target>/ (hostile files found by hand or by the fuzzers: deep nesting, gzip
// bombs, alias bombs, shapes past their bytes, ...) replayed through the same fuzz target (fuzz/targets.h) in
// the normal build: each must end in an smcl::Error or be read, never crash or throw anything else.
#include <gtest/gtest.h>

#include <filesystem>

#include "fuzz/targets.h"
#include "test_util.h"

namespace smcl {

TEST(FuzzRegressions, EveryPastFindIsAClearErrorOrRead) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(SMCL_SOURCE_DIR) / "fuzz" / "regressions";
  int replayed = 0;
  for (const auto& [name, target] : fuzz::kTargets) {
    if (!fs::is_directory(root / name)) continue;
    for (const auto& entry : fs::directory_iterator(root / name)) {
      const std::string bytes = test::slurp(entry.path().string());
      EXPECT_NO_THROW(target(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())) << entry.path();
      ++replayed;
    }
  }
  EXPECT_GE(replayed, 15);
}

}  // namespace smcl
