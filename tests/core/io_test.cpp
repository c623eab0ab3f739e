#include "smcl/core/io.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "smcl/core/error.h"
#include "test_util.h"

namespace smcl {

TEST(Io, ReadsPlainAndGzipFilesAlike) {
  test::TempDir dir;
  std::string content(100000, 'x');
  for (size_t i = 0; i < content.size(); ++i) content[i] = char(i * 31 % 251);
  test::write_bytes(dir / "plain", content);
  gzFile gz = gzopen((dir / "packed.gz").c_str(), "wb");
  gzwrite(gz, content.data(), unsigned(content.size()));
  gzclose(gz);
  EXPECT_EQ(read_file(dir / "plain"), content);
  EXPECT_EQ(read_file(dir / "packed.gz"), content);
}

TEST(Io, TruncatedGzipAndMissingFileNameTheFile) {
  test::TempDir dir;
  gzFile gz = gzopen((dir / "packed.gz").c_str(), "wb");
  std::string content(50000, 'a');
  gzwrite(gz, content.data(), unsigned(content.size()));
  gzclose(gz);
  std::string packed = test::slurp(dir / "packed.gz");
  test::write_bytes(dir / "cut.gz", packed.substr(0, packed.size() / 2));
  std::string message = test::error_of([&] { read_file(dir / "cut.gz"); });
  EXPECT_NE(message.find("cut.gz"), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  EXPECT_THROW(read_file(dir / "missing"), Error);
}

TEST(Io, AtomicWriteReplacesTheFileAndLeavesNoTemporary) {
  test::TempDir dir;
  write_file_atomic(dir / "f.txt", "one");
  write_file_atomic(dir / "f.txt", "two");
  EXPECT_EQ(test::slurp(dir / "f.txt"), "two");
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.str())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
  // A failing writer leaves the old file in place.
  EXPECT_THROW(write_atomic_with(dir / "f.txt", [](const std::string&) { throw Error("writer failed"); }), Error);
  EXPECT_EQ(test::slurp(dir / "f.txt"), "two");
}

}  // namespace smcl
