// File-backed sets: decoding against PIL (what torchvision's ImageFolder uses), the completeness checks, list
// files and class folders with their errors, the held-out split, and gathering a batch.
// Compiled with OpenCV when the build has it (to write test images); the tests skip without it.
#include "smcl/data/image_files.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "smcl/augment/batch_transforms.h"
#include "smcl/config/config.h"
#include "smcl/core/features.h"
#include "smcl/data/datasets.h"
#include "test_util.h"

#if SMCL_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

namespace smcl::data {
namespace {
namespace fs = std::filesystem;

int max_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kInt) - b.to(torch::kInt)).abs().max().item<int>();
}

// A random h x w image with `channels` channels written to `path` (format from the extension).
void write_image(const std::string& path, int h, int w, int channels, uint64_t seed) {
#if SMCL_HAVE_OPENCV
  fs::create_directories(fs::path(path).parent_path());
  cv::Mat image(h, w, channels == 1 ? CV_8UC1 : CV_8UC3);
  cv::randu(image, cv::Scalar::all(double(seed % 50)), cv::Scalar::all(200.0 + double(seed % 50)));
  ASSERT_TRUE(cv::imwrite(path, image)) << path;
#else
  (void)path, (void)h, (void)w, (void)channels, (void)seed;
#endif
}

void truncate_file(const std::string& path, double keep) {
  auto bytes = test::slurp(path);
  test::write_bytes(path, bytes.substr(0, size_t(double(bytes.size()) * keep)));
}

#define SKIP_WITHOUT_OPENCV()                                                                  \
  do {                                                                                         \
    if (!image_files_supported()) GTEST_SKIP() << "this build has no OpenCV to decode images"; \
  } while (0)

bool image_files_supported() {
#if SMCL_HAVE_OPENCV
  return true;
#else
  return false;
#endif
}

}  // namespace

TEST(ImageFiles, DecodesAsPilDoesForImageFolder) {
  SKIP_WITHOUT_OPENCV();
  auto decoded = test::read_json(test::golden("images/decoded.json"));
  for (const auto& [name, expected] : decoded.items()) {
    const std::string path = test::golden("images/" + name);
    auto rgb = decode_image(path, path, 3);
    auto gray = decode_image(path, path, 1);
    auto rgb_expected = test::tensor_from_json(expected["rgb"], torch::kUInt8);
    auto gray_expected = test::tensor_from_json(expected["gray"], torch::kUInt8);
    ASSERT_EQ(rgb.sizes(), rgb_expected.sizes()) << name;
    ASSERT_EQ(gray.sizes(), gray_expected.sizes()) << name;
    const bool jpeg = name.find(".jpg") != std::string::npos;
    // Lossless PNG (alpha dropped, grey replicated, luma in PIL's fixed point) is exact. libjpeg-turbo decodes
    // the same bytes in both, to within the rounding of its YCbCr conversion and chroma upsampling.
    EXPECT_LE(max_difference(rgb, rgb_expected), jpeg ? 2 : 0) << name;
    EXPECT_LE(max_difference(gray, gray_expected), jpeg ? 2 : 0) << name;
  }
}

TEST(ImageFiles, ChecksNameWhatIsWrongWithAFile) {
  test::TempDir dir;
  for (const auto& name : {"rgb_40x28.jpg", "rgb_23x17.png"}) {
    EXPECT_EQ(check_image_file(test::golden(std::string("images/") + name)), "") << name;
    fs::copy_file(test::golden(std::string("images/") + name), dir / name);
    truncate_file(dir / name, 0.7);
    EXPECT_NE(check_image_file(dir / name).find("is truncated"), std::string::npos) << check_image_file(dir / name);
  }
  test::write_bytes(dir / "notes.jpg", "not an image at all");
  EXPECT_NE(check_image_file(dir / "notes.jpg").find("is not a JPEG or PNG"), std::string::npos);
  test::write_bytes(dir / "empty.png", "");
  EXPECT_NE(check_image_file(dir / "empty.png").find("is not a JPEG or PNG"), std::string::npos);
  EXPECT_NE(check_image_file(dir / "missing.png").find("does not exist"), std::string::npos);
}

// A small file that declares a huge image is refused from its header, before any decoder allocates it.
TEST(ImageFiles, ImagesDeclaringTooManyPixelsAreRefusedFromTheHeader) {
  test::TempDir dir;
  auto png = test::slurp(test::golden("images/rgb_23x17.png"));
  ASSERT_EQ(png.substr(12, 4), "IHDR");
  const std::string side = {0, 0, char(0x4E), char(0x20)};  // 20000, big-endian
  png.replace(16, 4, side);
  png.replace(20, 4, side);
  // The chunk's CRC-32 (of its type and data) made right again: libpng checks it.
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(png.data() + 12), 17);
  for (int i = 0; i < 4; ++i) png[size_t(29 + i)] = char((crc >> (24 - 8 * i)) & 0xFF);
  test::write_bytes(dir / "huge.png", png);
  auto jpeg = test::slurp(test::golden("images/rgb_40x28.jpg"));
  size_t sof = 2;  // walk the segments to the frame header, as a reader does
  while (static_cast<unsigned char>(jpeg[sof + 1]) != 0xC0 && static_cast<unsigned char>(jpeg[sof + 1]) != 0xC2) {
    sof += 2 + size_t(static_cast<unsigned char>(jpeg[sof + 2])) * 256 + static_cast<unsigned char>(jpeg[sof + 3]);
  }
  jpeg.replace(sof + 5, 2, side.substr(2));
  jpeg.replace(sof + 7, 2, side.substr(2));
  test::write_bytes(dir / "huge.jpg", jpeg);
  for (const char* name : {"huge.png", "huge.jpg"}) {
    const std::string problem = check_image_file(dir / name);
    EXPECT_NE(problem.find("declares 400000000 pixels, more than data.max_image_pixels (89478485)"), std::string::npos)
        << problem;
    EXPECT_EQ(check_image_file(dir / name, 400000000), "") << name;
    if (image_files_supported()) {
      const std::string message = test::error_of([&] { decode_image(dir / name, "'list.txt' line 2", 3); });
      EXPECT_NE(message.find("'list.txt' line 2: image"), std::string::npos) << message;
    }
  }
  EXPECT_EQ(check_image_file(test::golden("images/rgb_40x28.jpg"), 40 * 28), "");
  EXPECT_NE(check_image_file(test::golden("images/rgb_40x28.jpg"), 40 * 28 - 1), "");

  // One stray byte before the frame header (issue 38): libjpeg skips it with a warning and reads the size, so the
  // check, which reads the header with libjpeg itself, does too. (A hand parser gave up there and let it through.)
  std::string stray = jpeg;
  stray.insert(sof, 1, '\0');
  test::write_bytes(dir / "stray.jpg", stray);
  EXPECT_NE(check_image_file(dir / "stray.jpg").find("declares 400000000 pixels"), std::string::npos)
      << check_image_file(dir / "stray.jpg");
  // A header that is not one: libjpeg's own reason.
  test::write_bytes(dir / "cut.jpg", jpeg.substr(0, sof) + "\xFF\xD9");
  EXPECT_NE(check_image_file(dir / "cut.jpg").find("JPEG '" + dir / "cut.jpg" + "' has no readable header"),
            std::string::npos)
      << check_image_file(dir / "cut.jpg");
}

// A file larger than its header's image can need is refused before it is read (issue 38: a 28x28 PNG header,
// 3 GiB of zeros and an IEND chunk cost 7.5 GB before the decoder's error). Here 1 GiB, sparse: nothing of it is
// written or read.
TEST(ImageFiles, FilesLargerThanTheirImageCanNeedAreRefusedUnread) {
  test::TempDir dir;
  const auto png = test::slurp(test::golden("images/rgb_23x17.png"));
  const std::string iend = png.substr(png.size() - 12);
  ASSERT_EQ(iend.substr(4, 4), "IEND");
  test::write_bytes(dir / "padded.png", png.substr(0, png.size() - 12));
  std::filesystem::resize_file(dir / "padded.png", uint64_t(1) << 30);
  {
    std::ofstream out(dir / "padded.png", std::ios::binary | std::ios::app);
    out << iend;
  }
  const std::string expected = "image '" + dir / "padded.png" + "' is 1073741836 bytes, more than an image of 23x17 " +
                               "pixels can need (" + std::to_string((16 << 20) + 9 * 23 * 17) + ")";
  EXPECT_EQ(check_image_file(dir / "padded.png"), expected);
  if (image_files_supported()) {
    const std::string message = test::error_of([&] { decode_image(dir / "padded.png", "'list.txt' line 3", 3); });
    EXPECT_NE(message.find("'list.txt' line 3: " + expected), std::string::npos) << message;
  }
}

// With skip_bad_images, an image that passes the header checks but fails to decode is left out when the list is
// read, instead of stopping a run mid-epoch.
TEST(ImageFiles, SkipBadImagesAlsoLeavesOutImagesThatFailToDecode) {
  SKIP_WITHOUT_OPENCV();
  test::TempDir dir;
  fs::copy_file(test::golden("images/rgb_40x28.jpg"), dir / "good.jpg");
  auto bytes = test::slurp(test::golden("images/rgb_23x17.png"));
  for (size_t i = 60; i < bytes.size() - 40; ++i) bytes[i] = char(bytes[i] ^ 0x5A);
  test::write_bytes(dir / "bad.png", bytes);
  test::write_bytes(dir / "list.txt", "good.jpg 0\nbad.png 1\n");
  auto list = read_image_list(dir / "list.txt", dir.str(), 0, ImageChecks{true});
  EXPECT_EQ(list.paths, std::vector<std::string>{dir / "good.jpg"});
  EXPECT_EQ(list.skipped, 1);
}

TEST(ImageFiles, CorruptImageFailsToDecodeNamingItsOrigin) {
  SKIP_WITHOUT_OPENCV();
  test::TempDir dir;
  // Garbage in the middle of a PNG's compressed data: start and end look complete, so only decoding tells.
  auto bytes = test::slurp(test::golden("images/rgb_23x17.png"));
  for (size_t i = 60; i < bytes.size() - 40; ++i) bytes[i] = char(bytes[i] ^ 0x5A);
  test::write_bytes(dir / "bad.png", bytes);
  EXPECT_EQ(check_image_file(dir / "bad.png"), "");
  auto message = test::error_of([&] { decode_image(dir / "bad.png", "'list.txt' line 7", 3); });
  EXPECT_NE(message.find("'list.txt' line 7"), std::string::npos) << message;
  EXPECT_NE(message.find("bad.png"), std::string::npos) << message;
}

// JPEGs decode through libjpeg itself (issue 38, so that its warnings are known) exactly as OpenCV's imdecode
// decodes them: every chroma subsampling, baseline and progressive, colour and grayscale, odd sizes, low and high
// quality; the pixels of every image the project has trained on stay the same.
TEST(ImageFiles, JpegsDecodeAsOpenCvDecodesThem) {
  SKIP_WITHOUT_OPENCV();
#if SMCL_HAVE_OPENCV
  test::TempDir dir;
  // PIL writes the chroma subsamplings OpenCV 4.6 cannot choose: 4:4:4, 4:2:2, 4:2:0, baseline and progressive.
  auto made = test::run_command(
      "/usr/bin/python3 -c 'import sys, numpy as np; from PIL import Image\n"
      "rng = np.random.default_rng(5)\n"
      "for s in (0, 1, 2):\n"
      "  for p in (False, True):\n"
      "    a = rng.integers(0, 256, (19 + s, 33 + 2 * s, 3), dtype=np.uint8)\n"
      "    Image.fromarray(a).save(f\"{sys.argv[1]}/pil_{s}_{int(p)}.jpg\", quality=40 + 20 * s, subsampling=s, "
      "progressive=p)' " +
      dir.str());
  ASSERT_EQ(made.status, 0) << made.output;
  int written = 0;
  for (const int progressive : {0, 1}) {
    for (const int channels : {1, 3}) {
      for (const int quality : {25, 95}) {
        const int h = 17 + written, w = 31 + 2 * written;
        cv::Mat image(h, w, channels == 1 ? CV_8UC1 : CV_8UC3);
        cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
        ASSERT_TRUE(cv::imwrite(dir / ("cv_" + std::to_string(written++) + ".jpg"), image,
                                {cv::IMWRITE_JPEG_QUALITY, quality, cv::IMWRITE_JPEG_PROGRESSIVE, progressive}));
      }
    }
  }
  std::vector<std::string> paths = {test::golden("images/rgb_40x28.jpg"), test::golden("images/gray_20x31.jpg")};
  for (const auto& entry : fs::directory_iterator(dir.str())) paths.push_back(entry.path().string());
  ASSERT_EQ(paths.size(), 2u + 6u + 8u);
  for (const auto& path : paths) {
    cv::Mat reference = cv::imread(path, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
    ASSERT_FALSE(reference.empty()) << path;
    auto expected = torch::from_blob(reference.data, {reference.rows, reference.cols, 3}, torch::kUInt8)
                        .flip({2})  // BGR -> RGB
                        .permute({2, 0, 1});
    std::string warning = "stale";
    auto decoded = decode_image(path, "test", 3, kDefaultMaxImagePixels, &warning);
    ASSERT_EQ(decoded.sizes(), expected.sizes()) << path;
    EXPECT_TRUE(torch::equal(decoded, expected)) << path << " differs by " << max_difference(decoded, expected);
    EXPECT_EQ(warning, "") << path;
  }
#endif
}

// A JPEG that libjpeg decodes only with warnings (a corrupt scan; a file cut short with an end marker appended)
// decodes as PIL keeps it, and the warning is said: into the caller's string, else once on stderr with the file.
TEST(ImageFiles, JpegDecodeWarningsAreNamed) {
  SKIP_WITHOUT_OPENCV();
  test::TempDir dir;
  const auto jpeg = test::slurp(test::golden("images/rgb_40x28.jpg"));
  const size_t scan = jpeg.find("\xFF\xDA");
  ASSERT_NE(scan, std::string::npos);
  test::write_bytes(dir / "corrupt.jpg", test::with_corrupt_scan(jpeg, 40, 60));
  test::write_bytes(dir / "cut.jpg", jpeg.substr(0, scan + 60) + "\xFF\xD9");
  for (const char* name : {"corrupt.jpg", "cut.jpg"}) {
    EXPECT_EQ(check_image_file(dir / name), "") << name;  // start and end look complete
    std::string warning;
    auto decoded = decode_image(dir / name, "'list.txt' line 4", 3, kDefaultMaxImagePixels, &warning);
    EXPECT_EQ(decoded.sizes(), torch::IntArrayRef({3, 28, 40})) << name;
    EXPECT_NE(warning.find("decoded with libjpeg's warning \"Corrupt JPEG data"), std::string::npos)
        << name << ": " << warning;
  }
  EXPECT_EQ(
      [&] {
        std::string warning;
        decode_image(test::golden("images/rgb_40x28.jpg"), "x", 3, kDefaultMaxImagePixels, &warning);
        return warning;
      }(),
      "");
  // Reading a list with skip_bad_images leaves them out, counted and named apart; without it they are kept (as
  // PIL keeps them), and each one's warning is said once when it is first decoded.
  fs::copy_file(test::golden("images/rgb_40x28.jpg"), dir / "good.jpg");
  test::write_bytes(dir / "list.txt", "good.jpg 0\ncorrupt.jpg 1\ncut.jpg 1\n");
  const auto skipping = read_image_list(dir / "list.txt", dir.str(), 2, ImageChecks{true, kDefaultMaxImagePixels, 1});
  EXPECT_EQ(skipping.paths, std::vector<std::string>{dir / "good.jpg"});
  EXPECT_EQ(skipping.skipped, 2);
  EXPECT_EQ(skipping.warned, 2);
  ASSERT_EQ(skipping.first_warned.size(), 2u);
  EXPECT_NE(skipping.first_warned[0].find("corrupt.jpg' decoded with libjpeg's warning"), std::string::npos)
      << skipping.first_warned[0];
  const auto keeping = read_image_list(dir / "list.txt", dir.str(), 2, ImageChecks{false, kDefaultMaxImagePixels, 1});
  EXPECT_EQ(keeping.paths.size(), 3u);
  EXPECT_EQ(keeping.warned, 0);
}

TEST(ImageFiles, ListFileReadsPathsAndLabelsAndNamesTheLineOfEachError) {
  test::TempDir dir;
  fs::create_directories(dir / "imgs/sub dir");
  fs::copy_file(test::golden("images/rgb_40x28.jpg"), dir / "imgs/a.jpg");
  fs::copy_file(test::golden("images/gray_21x14.png"), dir / "imgs/sub dir/b c.png");
  test::write_bytes(dir / "train.txt", "imgs/a.jpg 2\n\nimgs/sub dir/b c.png 0\r\n");
  auto list = read_image_list(dir / "train.txt", dir.str(), 0, {});
  ASSERT_EQ(list.paths.size(), 2u);
  EXPECT_EQ(list.paths[1], dir / "imgs/sub dir/b c.png");
  EXPECT_EQ(list.labels, (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(list.origins[1], "'" + dir / "train.txt" + "' line 3");

  auto error_for = [&](const std::string& text, int64_t num_classes = 0) {
    test::write_bytes(dir / "bad.txt", text);
    return test::error_of([&] { read_image_list(dir / "bad.txt", dir.str(), num_classes, {}); });
  };
  EXPECT_NE(error_for("imgs/a.jpg 1\nimgs/a.jpg x\n").find("line 2: label 'x' is not an integer"), std::string::npos);
  EXPECT_NE(error_for("imgs/a.jpg 1\n\nimgs/a.jpg 5\n", 5).find("line 3: label '5' is not an integer in [0, 5)"),
            std::string::npos);
  EXPECT_NE(error_for("imgs/a.jpg -1\n").find("line 1"), std::string::npos);
  EXPECT_NE(error_for("imgs/a.jpg\n").find("line 1: expected 'relative/path label'"), std::string::npos);
  auto missing = error_for("imgs/a.jpg 1\nimgs/gone.jpg 0\n");
  EXPECT_NE(missing.find("line 2: image '" + dir / "imgs/gone.jpg" + "' does not exist"), std::string::npos) << missing;
  EXPECT_NE(missing.find("data.skip_bad_images"), std::string::npos) << missing;
  EXPECT_NE(test::error_of([&] { read_image_list(dir / "nothing.txt", dir.str(), 0, {}); }).find("cannot open list"),
            std::string::npos);

  test::write_bytes(dir / "some_bad.txt", "imgs/a.jpg 1\nimgs/gone.jpg 0\nimgs/sub dir/b c.png 0\n");
  auto skipping = read_image_list(dir / "some_bad.txt", dir.str(), 0, ImageChecks{true});
  EXPECT_EQ(skipping.paths.size(), 2u);
  EXPECT_EQ(skipping.skipped, 1);
}

TEST(ImageFiles, FolderScanSortsClassesAndFilesAndChecksTheTestFolder) {
  test::TempDir dir;
  fs::create_directories(dir / "train/zebra");
  fs::create_directories(dir / "train/ant/deeper");
  fs::copy_file(test::golden("images/rgb_40x28.jpg"), dir / "train/zebra/2.JPG");
  fs::copy_file(test::golden("images/gray_21x14.png"), dir / "train/zebra/1.png");
  fs::copy_file(test::golden("images/rgb_23x17.png"), dir / "train/ant/deeper/x.jpeg.png");
  test::write_bytes(dir / "train/ant/readme.txt", "ignored");
  test::write_bytes(dir / "train/stray.jpg", "a file beside the class folders is ignored");
  auto list = scan_image_folder(dir / "train", {}, {});
  EXPECT_EQ(list.class_names, (std::vector<std::string>{"ant", "zebra"}));
  EXPECT_EQ(list.labels, (std::vector<int64_t>{0, 1, 1}));
  EXPECT_EQ(list.paths[1], dir / "train/zebra/1.png");

  fs::create_directories(dir / "test/ant");
  fs::create_directories(dir / "test/zebra");
  fs::create_directories(dir / "test/bee");
  auto other = test::error_of([&] { scan_image_folder(dir / "test", list.class_names, {}); });
  EXPECT_NE(other.find("'" + dir / "test/bee" + "' is not a class of the training folder"), std::string::npos) << other;
  fs::remove(dir / "test/bee");
  auto empty = test::error_of([&] { scan_image_folder(dir / "test", list.class_names, {}); });
  EXPECT_NE(empty.find("holds no usable"), std::string::npos) << empty;
  EXPECT_NE(test::error_of([&] { scan_image_folder(dir / "nowhere", {}, {}); }).find("does not exist"),
            std::string::npos);
}

TEST(ImageFiles, FolderHoldOutIsAStratifiedSeededSplit) {
  SKIP_WITHOUT_OPENCV();
  test::TempDir dir;
  const std::vector<int> sizes{10, 5, 2};
  for (size_t k = 0; k < sizes.size(); ++k) {
    for (int i = 0; i < sizes[k]; ++i) {
      write_image(dir / ("c" + std::to_string(k) + "/" + std::to_string(i) + ".jpg"), 20 + i, 30 - i, 3, k * 10 + i);
    }
  }
  auto config = config::load("", {"data.name=image_folder", "data.root=" + dir.str(), "data.image_size=8"});
  resolve_defaults(config);
  EXPECT_EQ(config.data.subset, config::Subset::kNone);
  auto data = load_long_tailed(config.data);
  // round(0.2 * n) held out per class, at least one: 2, 1, 1.
  EXPECT_EQ(data.counts, (std::vector<int64_t>{8, 4, 1}));
  EXPECT_EQ(class_counts(data.test), (std::vector<int64_t>{2, 1, 1}));
  EXPECT_EQ(data.class_names, (std::vector<std::string>{"c0", "c1", "c2"}));
  std::set<std::string> train_paths, test_paths;
  for (int64_t i = 0; i < data.train.size(); ++i) train_paths.insert(data.train.files->path(i));
  for (int64_t i = 0; i < data.test.size(); ++i) test_paths.insert(data.test.files->path(i));
  EXPECT_EQ(train_paths.size() + test_paths.size(), 17u);
  for (const auto& p : test_paths) EXPECT_EQ(train_paths.count(p), 0u) << p;
  // The same seed gives the same split; another seed another one.
  auto again = load_long_tailed(config.data);
  for (int64_t i = 0; i < data.test.size(); ++i) EXPECT_EQ(again.test.files->path(i), data.test.files->path(i));
  config.data.subset_seed = 7;
  auto other = load_long_tailed(config.data);
  bool differs = false;
  for (int64_t i = 0; i < data.test.size(); ++i) differs |= other.test.files->path(i) != data.test.files->path(i);
  EXPECT_TRUE(differs);

  // A long-tailed cut of the training part: n_max the largest class (8), ratio 8: floor(8 * 8^(-k/2)) = 8, 2, 1.
  config.data.subset_seed = 0;
  config.data.subset = config::Subset::kLongTail;
  config.data.imbalance_ratio = 8;
  auto cut = load_long_tailed(config.data);
  EXPECT_EQ(cut.counts, (std::vector<int64_t>{8, 2, 1}));
  EXPECT_EQ(class_counts(cut.train), cut.counts);
  EXPECT_EQ(cut.test.size(), data.test.size());  // the test part is not cut
  config.data.subset = config::Subset::kNone;

  // A class of one image cannot be split.
  fs::remove(dir / "c2/1.jpg");
  auto message = test::error_of([&] { load_long_tailed(config.data); });
  EXPECT_NE(message.find("class 'c2'"), std::string::npos) << message;
  EXPECT_NE(message.find("data.test_root"), std::string::npos) << message;
}

TEST(ImageFiles, GatheredBatchesBecomeSquareViews) {
  SKIP_WITHOUT_OPENCV();
  test::TempDir dir;
  write_image(dir / "a/0.jpg", 40, 25, 3, 1);
  write_image(dir / "a/1.png", 17, 33, 3, 2);
  write_image(dir / "b/0.jpg", 29, 29, 1, 3);  // grayscale JPEG in a colour set
  write_image(dir / "b/1.jpg", 50, 12, 3, 4);
  auto config = config::load(
      "", {"data.name=image_folder", "data.root=" + dir.str(), "data.image_size=16", "data.holdout_fraction=0.5"});
  resolve_defaults(config);
  auto data = load_long_tailed(config.data);
  auto images = gather(data.train, torch::tensor(std::vector<int64_t>{1, 0, 1}));
  ASSERT_EQ(images.size(), 3);
  EXPECT_FALSE(images.pixels.defined());
  EXPECT_EQ(images.decoded[1].size(0), 3);
  Rng rng(3);
  auto view = augment::train_view(images, config.augment, rng);
  EXPECT_EQ(view.sizes(), (std::vector<int64_t>{3, 3, 16, 16}));
  EXPECT_EQ(view.scalar_type(), torch::kFloat32);
  auto test_view = augment::test_view(gather(data.test, torch::arange(2)), config.augment);
  EXPECT_EQ(test_view.sizes(), (std::vector<int64_t>{2, 3, 16, 16}));
  EXPECT_EQ(test_view.scalar_type(), torch::kUInt8);
}

}  // namespace smcl::data
