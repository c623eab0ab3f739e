// CIFAR-10 as an image folder (train/<class>/0000.png, ...: the layout of public JPEG copies) against the same
// images in the official binary files: the same long-tailed subset, the same training run; and a missing class
// folder, an image that is not 32x32 and a file that is not an image each end the run with exit 2 naming the
// file. PNG here, so that both hold the same pixels (a JPEG copy's are its own). Skipped without OpenCV.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <sstream>

#include "cli_util.h"
#include "smcl/config/config.h"
#include "smcl/core/features.h"
#include "smcl/data/cifar.h"
#include "smcl/data/datasets.h"
#include "test_util.h"

#if SMCL_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

namespace smcl {
namespace {
namespace fs = std::filesystem;

constexpr int kPerClass = 12;  // training images per class; 3 test images per class

#if SMCL_HAVE_OPENCV
// One 32x32 RGB image as PNG, from [3, 32, 32] uint8 planes.
void write_png(const fs::path& path, const torch::Tensor& rgb) {
  fs::create_directories(path.parent_path());
  auto hwc = rgb.permute({1, 2, 0}).flip({2}).contiguous();  // RGB planes -> BGR pixels, OpenCV's order
  cv::Mat image(32, 32, CV_8UC3, hwc.data_ptr<uint8_t>());
  ASSERT_TRUE(cv::imwrite(path.string(), image)) << path;
}
#endif

// official/cifar-10-batches-bin: random images with labels in a shuffled order, record i in training batch
// i % 5 (one test batch); folder/{train,test}/<class>/<n>.png: the same images, each class's numbered in the order
// the binary files hold them (batch 1's, then batch 2's, ...). Class 0's file names are 0.png, 1.png, ... (not
// zero-padded: 10.png must come after 9.png), the others' 0000.png, 0001.png, ... as the public copy's.
void write_both_layouts(const fs::path& root) {
#if SMCL_HAVE_OPENCV
  const auto& names = data::cifar_class_names(10);
  std::mt19937 rng(3);
  for (const bool train : {true, false}) {
    const int per_class = train ? kPerClass : 3;
    std::vector<int> labels;
    for (int k = 0; k < 10; ++k) labels.insert(labels.end(), size_t(per_class), k);
    std::shuffle(labels.begin(), labels.end(), rng);
    torch::manual_seed(train ? 1 : 2);
    const auto images = torch::randint(0, 256, {int64_t(labels.size()), 3, 32, 32}, torch::kUInt8);
    const size_t n_batches = train ? 5 : 1;
    std::vector<int> numbered(10, 0);
    for (size_t b = 0; b < n_batches; ++b) {
      std::string records;
      for (size_t i = b; i < labels.size(); i += n_batches) {
        const int k = labels[i];
        records += char(k);
        records.append(reinterpret_cast<const char*>(images[int64_t(i)].data_ptr<uint8_t>()), 3072);
        char name[32];
        std::snprintf(name, sizeof name, k == 0 ? "%d.png" : "%04d.png", numbered[size_t(k)]++);
        write_png(root / "folder" / (train ? "train" : "test") / names[size_t(k)] / name, images[int64_t(i)]);
      }
      const std::string file = train ? "data_batch_" + std::to_string(b + 1) + ".bin" : "test_batch.bin";
      test::write_bytes(root / "official/cifar-10-batches-bin" / file, records);
    }
  }
#else
  (void)root;
#endif
}

class CifarFolder : public ::testing::Test {
 protected:
  void SetUp() override {
#if !SMCL_HAVE_OPENCV
    GTEST_SKIP() << "this build has no OpenCV to decode images";
#endif
    write_both_layouts(fs::path(dir_.str()));
    // Long-tailed at ratio 4 from 12 per class (12, 10, ..., 3), SCL's two views through SimAugment and Cutout.
    test::write_bytes(dir_ / "tiny.yaml",
                      "data: {name: cifar10, max_per_class: 12, imbalance_ratio: 4}\n"
                      "model: {name: resnet8}\n"
                      "method: {name: scl}\n"
                      "augment: {resized_crop: true, crop_scale: [0.2, 1.0], color_jitter_prob: 0.8, "
                      "grayscale_prob: 0.2, cutout: 16}\n"
                      "train: {epochs: 2, batch_size: 16, seed: 4, threads: 2}\n"
                      "optim: {lr: 0.05, warmup_epochs: 1, milestones: [1]}\n");
  }

  config::DataConfig data_config(const std::string& root) const {
    auto config = config::load(dir_ / "tiny.yaml", {"data.root=" + root});
    data::resolve_defaults(config);
    return config.data;
  }

  test::TempDir dir_;
};

}  // namespace

TEST_F(CifarFolder, HoldsTheSameSubsetAsTheOfficialFiles) {
  const auto official = data::load_long_tailed(data_config(dir_ / "official"));
  const auto folder = data::load_long_tailed(data_config(dir_ / "folder"));
  EXPECT_EQ(official.counts, (std::vector<int64_t>{12, 10, 8, 7, 6, 5, 4, 4, 3, 3}));
  EXPECT_EQ(folder.counts, official.counts);
  EXPECT_EQ(folder.class_names, official.class_names);
  // The same images in the same order, so every batch drawn from them is the same.
  EXPECT_TRUE(torch::equal(folder.train.labels, official.train.labels));
  EXPECT_TRUE(torch::equal(folder.train.images, official.train.images));
  // The test set: the same images, grouped by class in the folder (its order does not enter any metric).
  const auto by_class = torch::argsort(official.test.labels * 1000 + torch::arange(official.test.size()));
  EXPECT_TRUE(torch::equal(folder.test.labels, official.test.labels.index_select(0, by_class)));
  EXPECT_TRUE(torch::equal(folder.test.images, official.test.images.index_select(0, by_class)));
}

TEST_F(CifarFolder, TrainsTheSameRunAsTheOfficialFiles) {
  for (const std::string layout : {"official", "folder"}) {
    auto r = test::run_smcl("train -c " + dir_ / "tiny.yaml" + " --set data.root=" + dir_ / layout + " --out " +
                            dir_ / ("run-" + layout));
    ASSERT_EQ(r.status, 0) << r.output;
  }
  // The same batches, views and steps: every epoch's training loss and accuracy, and the weights, to the bit.
  auto lines = [&](const std::string& layout) {
    std::vector<nlohmann::json> out;
    std::istringstream in(test::slurp(dir_ / ("run-" + layout + "/metrics.jsonl")));
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  };
  const auto official = lines("official"), folder = lines("folder");
  ASSERT_EQ(official.size(), 2u);
  ASSERT_EQ(folder.size(), 2u);
  for (size_t e = 0; e < 2; ++e) {
    for (const char* key : {"train_loss", "train_top1", "top1", "per_class"}) {
      EXPECT_EQ(folder[e][key], official[e][key]) << "epoch " << e << " " << key;
    }
    // The test set's order differs (grouped by class in the folder), so sums over it may round differently.
    EXPECT_NEAR(folder[e]["nll"].get<double>(), official[e]["nll"].get<double>(), 1e-12) << "epoch " << e;
  }
  test::expect_same_weights(dir_ / "run-official", dir_ / "run-folder", 10, 3);
}

TEST_F(CifarFolder, BadFolderEndsWithTheFileNamed) {
#if SMCL_HAVE_OPENCV
  const auto train = fs::path(dir_.str()) / "folder/train";
  auto run = [&] { return test::run_smcl("data -c " + dir_ / "tiny.yaml" + " --set data.root=" + dir_ / "folder"); };
  ASSERT_EQ(run().status, 0);

  // An image of another size.
  const auto cat = train / "cat/0003.png";
  fs::copy_file(cat, dir_ / "cat.png");
  ASSERT_TRUE(cv::imwrite(cat.string(), cv::Mat(32, 33, CV_8UC3, cv::Scalar(1, 2, 3))));
  test::expect_clean_error(run(), "'" + cat.string() + "' is 33x32 pixels; CIFAR-10 images are 32x32");
  // A file that is not an image.
  test::write_bytes(cat.string(), "not an image\n");
  test::expect_clean_error(run(), "cannot decode image '" + cat.string() + "'");
  fs::copy_file(dir_ / "cat.png", cat, fs::copy_options::overwrite_existing);
  ASSERT_EQ(run().status, 0);

  // A missing class folder.
  fs::rename(train / "ship", dir_ / "ship");
  test::expect_clean_error(run(), "'" + (train / "ship").string() + "' is missing: CIFAR-10's class 8");
  // A folder that is not a class.
  fs::rename(dir_ / "ship", train / "boat");
  test::expect_clean_error(run(), "'" + (train / "boat").string() + "' is not one of CIFAR-10's class folders");
#endif
}

}  // namespace smcl
