#include "smcl/data/idx.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "smcl/core/error.h"
#include "test_util.h"

namespace smcl::data {
namespace {

// An IDX file of unsigned bytes written by hand from the format's definition.
std::string idx_bytes(const std::vector<int>& dims, const std::string& payload, uint8_t type = 0x08) {
  std::string out = {0, 0, char(type), char(dims.size())};
  for (int d : dims) {
    out += {char((d >> 24) & 255), char((d >> 16) & 255), char((d >> 8) & 255), char(d & 255)};
  }
  return out + payload;
}

std::string expect_error(const std::string& path) {
  return test::error_of([&] { read_idx(path); });
}

}  // namespace

TEST(Idx, ReadsPlainAndGzippedFiles) {
  test::TempDir dir;
  std::string payload;
  for (int i = 0; i < 2 * 3 * 4; ++i) payload += char(i * 10);
  test::write_bytes(dir / "images-idx3-ubyte", idx_bytes({2, 3, 4}, payload));
  std::string whole = idx_bytes({2, 3, 4}, payload);
  gzFile gz = gzopen((dir / "images-idx3-ubyte.gz").c_str(), "wb");
  gzwrite(gz, whole.data(), unsigned(whole.size()));
  gzclose(gz);
  for (const auto& name : {"images-idx3-ubyte", "images-idx3-ubyte.gz"}) {
    auto t = read_idx(dir / name);
    ASSERT_EQ(t.sizes(), (std::vector<int64_t>{2, 3, 4}));
    EXPECT_EQ(t[1][2][3].item<int>(), 230);  // element 23
    EXPECT_EQ(t[0][1][0].item<int>(), 40);   // element 4
  }
}

TEST(Idx, BadFilesNameTheFileAndTheProblem) {
  test::TempDir dir;
  test::write_bytes(dir / "short", idx_bytes({10}, std::string(9, 'a')));
  test::write_bytes(dir / "long", idx_bytes({10}, std::string(11, 'a')));
  test::write_bytes(dir / "float", idx_bytes({1}, std::string(4, 'a'), 0x0D));
  test::write_bytes(dir / "text", "hello world");
  test::write_bytes(dir / "header", std::string({0, 0, 8, 3, 0, 0}));
  EXPECT_NE(expect_error(dir / "short").find("truncated"), std::string::npos);
  EXPECT_NE(expect_error(dir / "short").find(dir / "short"), std::string::npos);
  EXPECT_NE(expect_error(dir / "long").find("11 data bytes but its header declares 10"), std::string::npos);
  EXPECT_NE(expect_error(dir / "float").find("only unsigned bytes"), std::string::npos);
  EXPECT_NE(expect_error(dir / "text").find("not an IDX file"), std::string::npos);
  EXPECT_NE(expect_error(dir / "header").find("truncated"), std::string::npos);
  EXPECT_NE(expect_error(dir / "missing").find("no such file"), std::string::npos);
}

// A gzip'd IDX file is inflated no further than its header's size: 16 bytes of header claiming one 1x1 image,
// followed by 100 MB of zeros (100 KB once compressed), is refused without inflating the rest.
TEST(Idx, GzipInflationStopsAtTheSizeTheHeaderDeclares) {
  test::TempDir dir;
  std::string whole = idx_bytes({1, 1, 1}, std::string(100 << 20, '\0'));
  gzFile gz = gzopen((dir / "bomb-idx3-ubyte.gz").c_str(), "wb9");
  gzwrite(gz, whole.data(), unsigned(whole.size()));
  gzclose(gz);
  const std::string message = expect_error(dir / "bomb-idx3-ubyte.gz");
  EXPECT_NE(message.find("decompresses to more than the 17 bytes its header implies"), std::string::npos) << message;
  // A header whose dimensions multiply past 2^40 values is corrupt, not an allocation.
  test::write_bytes(dir / "huge", idx_bytes({0x7fffffff, 0x7fffffff, 0x7fffffff}, ""));
  EXPECT_NE(expect_error(dir / "huge").find("more than 2^40 values"), std::string::npos);
}

TEST(Idx, RealFashionMnistWhenInstalled) {
  const std::string root = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(root + "/t10k-labels-idx1-ubyte.gz")) GTEST_SKIP() << "dataset-fashion-mnist missing";
  auto labels = read_idx(root + "/t10k-labels-idx1-ubyte.gz");
  auto images = read_idx(root + "/t10k-images-idx3-ubyte.gz");
  EXPECT_EQ(labels.sizes(), (std::vector<int64_t>{10000}));
  EXPECT_EQ(images.sizes(), (std::vector<int64_t>{10000, 28, 28}));
  // The test set is balanced: 1000 images per class.
  auto counts = torch::bincount(labels.to(torch::kInt64));
  EXPECT_TRUE(torch::equal(counts, torch::full({10}, 1000, torch::kInt64)));
}

}  // namespace smcl::data
