#include "smcl/core/io.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>

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
}

// A write that fails part-way (a full disk, simulated by the fault hook) is an error naming the file; the old
// content stays, and no temporary file or partial line is left.
TEST(Io, FailedWritesLeaveTheOldFileWhole) {
  test::TempDir dir;
  write_file_atomic(dir / "f.txt", "old");
  append_line(dir / "m.jsonl", "{\"epoch\": 0}");
  setenv("SMCL_DEBUG_FAIL_WRITE", "f.txt", 1);
  EXPECT_NE(test::error_of([&] { write_file_atomic(dir / "f.txt", "new content"); }).find("No space left on device"),
            std::string::npos);
  setenv("SMCL_DEBUG_FAIL_WRITE", "m.jsonl", 1);
  EXPECT_NE(test::error_of([&] { append_line(dir / "m.jsonl", "{\"epoch\": 1}"); }).find("m.jsonl"), std::string::npos);
  unsetenv("SMCL_DEBUG_FAIL_WRITE");
  EXPECT_EQ(test::slurp(dir / "f.txt"), "old");
  EXPECT_EQ(test::slurp(dir / "m.jsonl"), "{\"epoch\": 0}\n");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.str()), std::filesystem::directory_iterator()), 2);
}

TEST(Io, StaleTemporariesOfDeadProcessesAreRemoved) {
  test::TempDir dir;
  // PID 2^22 + 1 is above Linux's largest PID (pid_max is at most 2^22): no process has it.
  test::write_bytes(dir / "last.pt.tmp.4194305", "partial");
  test::write_bytes(dir / ("best.pt.tmp." + std::to_string(::getpid())), "being written");
  test::write_bytes(dir / "notes.tmp.txt", "kept");
  EXPECT_EQ(remove_stale_temporaries(dir.str()), 1);
  EXPECT_FALSE(std::filesystem::exists(dir / "last.pt.tmp.4194305"));
  EXPECT_TRUE(std::filesystem::exists(dir / ("best.pt.tmp." + std::to_string(::getpid()))));
  EXPECT_TRUE(std::filesystem::exists(dir / "notes.tmp.txt"));
}

// A gzip stream is inflated no further than asked: a 2 KB file that inflates to 100 MB is refused after the
// bound, and a head is read without inflating the rest.
TEST(Io, GzipInflationIsBounded) {
  test::TempDir dir;
  std::string zeros(100 << 20, '\0');
  gzFile gz = gzopen((dir / "bomb.gz").c_str(), "wb9");
  gzwrite(gz, zeros.data(), unsigned(zeros.size()));
  gzclose(gz);
  EXPECT_LT(std::filesystem::file_size(dir / "bomb.gz"), 200000u);
  EXPECT_EQ(read_file_head(dir / "bomb.gz", 16), std::string(16, '\0'));
  const std::string message = test::error_of([&] { read_file_bounded(dir / "bomb.gz", 1000); });
  EXPECT_NE(message.find("decompresses to more than the 1000 bytes"), std::string::npos) << message;
  EXPECT_EQ(read_file_bounded(dir / "bomb.gz", zeros.size()).size(), zeros.size());
}

}  // namespace smcl
