// The real smcl binary on image files: a generated folder of JPEGs (varied sizes, one grayscale, one PNG per
// class) trained, evaluated and resumed after SIGKILL, as an image folder and as list files; bad images and
// labels end with a clear error naming the file and line. Skipped in builds without OpenCV.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <sstream>

#include "smcl/core/features.h"
#include "smcl/data/image_files.h"
#include "smcl/models/network.h"
#include "smcl/train/checkpoint.h"
#include "smcl/train/exchange.h"
#include "test_util.h"

#if SMCL_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

namespace smcl {
namespace {
namespace fs = std::filesystem;

const std::vector<std::string> kClasses{"cat", "dog", "emu"};
const std::vector<int> kSizes{14, 7, 3};

// photos/<class>/<i>.jpg: a colour per class over noise, sizes from 18 to 45 pixels a side; image 0 of each class is
// a PNG, image 1 a grayscale JPEG. Also train.txt / test.txt listing the same files (images 2, 6, 10 of each class
// tested).
void write_photos(const std::string& root) {
#if SMCL_HAVE_OPENCV
  std::mt19937 rng(7);
  std::string train_list, test_list;
  for (size_t k = 0; k < kClasses.size(); ++k) {
    fs::create_directories(fs::path(root) / "photos" / kClasses[k]);
    for (int i = 0; i < kSizes[k]; ++i) {
      const int h = 18 + int(rng() % 28), w = 18 + int(rng() % 28);
      const bool gray = i == 1;
      cv::Mat image(h, w, gray ? CV_8UC1 : CV_8UC3);
      cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(90));
      if (!gray) image += cv::Scalar(k == 2 ? 150 : 0, k == 1 ? 150 : 0, k == 0 ? 150 : 0);  // BGR
      const std::string relative = "photos/" + kClasses[k] + "/" + std::to_string(i) + (i == 0 ? ".png" : ".jpg");
      ASSERT_TRUE(cv::imwrite((fs::path(root) / relative).string(), image));
      (i % 4 == 2 ? test_list : train_list) += relative + " " + std::to_string(k) + "\n";
    }
  }
  test::write_bytes(root + "/train.txt", train_list);
  test::write_bytes(root + "/test.txt", test_list);
#else
  (void)root;
#endif
}

class ImageCli : public ::testing::Test {
 protected:
  void SetUp() override {
#if !SMCL_HAVE_OPENCV
    GTEST_SKIP() << "this build has no OpenCV to decode images";
#endif
    write_photos(dir_.str());
    // SMCL with masking and DRW from epoch 1: targets are gathered from the files, masked images made of them.
    test::write_bytes(dir_ / "common.yaml",
                      "model: {name: resnet8}\n"
                      "method: {name: smcl}\n"
                      "smcl: {mask_start_epoch: 1, mask_prob: 1}\n"
                      "loss: {reweight: drw, drw_epoch: 1}\n"
                      "train: {epochs: 3, batch_size: 6, seed: 1, threads: 2}\n"
                      "optim: {lr: 0.05, warmup_epochs: 1, milestones: [2]}\n");
    folder_ = "-c " + dir_ / "common.yaml" + " --set data.name=image_folder --set data.root=" + dir_ / "photos" +
              " --set data.image_size=16 --set data.holdout_fraction=0.25 --set data.decode_threads=2";
    list_ = "-c " + dir_ / "common.yaml" + " --set data.name=image_list --set data.root=" + dir_.str() +
            " --set data.train_list=train.txt --set data.test_list=" + dir_ / "test.txt" + " --set data.image_size=16";
  }

  // Trains, re-evaluates, and trains again killed mid-run and resumed: same summary and weights.
  void train_evaluate_resume(const std::string& options) {
    auto r = test::run_smcl("train " + options + " --out " + dir_ / "whole");
    ASSERT_EQ(r.status, 0) << r.output;
    auto summary = test::read_json(dir_ / "whole/summary.json");
    EXPECT_EQ(summary["last"]["per_class"].size(), 3u);
    EXPECT_EQ(summary["last"]["epoch"], 2);
    auto e = test::run_smcl("eval --run " + dir_ / "whole" + " --json-out " + dir_ / "eval.json");
    ASSERT_EQ(e.status, 0) << e.output;
    auto evaluated = test::read_json(dir_ / "eval.json");
    EXPECT_NEAR(evaluated["last"]["top1"].get<double>(), summary["last"]["top1"].get<double>(), 1e-9);
    EXPECT_EQ(evaluated["last"]["confusion"], summary["last"]["confusion"]);

    // 17 or 18 training images in batches of 6: 3 steps per epoch; step 4 is the middle of epoch 1.
    auto killed = test::run_smcl("train " + options + " --out " + dir_ / "cut", "SMCL_DEBUG_KILL_AT_STEP=4 ");
    ASSERT_EQ(killed.status, 128 + 9) << killed.output;
    auto resumed = test::run_smcl("train --resume " + dir_ / "cut");
    ASSERT_EQ(resumed.status, 0) << resumed.output;
    auto cut = test::read_json(dir_ / "cut/summary.json");
    for (auto* s : {&summary, &cut}) {
      for (const char* key : {"wall_seconds", "train_images_per_second"}) s->erase(key);
    }
    EXPECT_EQ(summary, cut);
    auto a = models::make_model(config::ModelName::kResNet8, 3, 3, {models::kSupConHead}),
         b = models::make_model(config::ModelName::kResNet8, 3, 3, {models::kSupConHead});
    train::load_checkpoint(dir_ / "whole/checkpoints/last.pt", *a, nullptr, torch::kCPU);
    train::load_checkpoint(dir_ / "cut/checkpoints/last.pt", *b, nullptr, torch::kCPU);
    auto pb = b->named_parameters();
    for (const auto& p : a->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  }

  test::TempDir dir_;
  std::string folder_, list_;
};

}  // namespace

TEST_F(ImageCli, FolderTrainsEvaluatesAndResumes) {
  train_evaluate_resume(folder_);
  // 24 images, round(0.25 n) of each class held out (4, 2, 1): 17 to train on, classes by sorted folder name.
  auto summary = test::read_json(dir_ / "whole/summary.json");
  EXPECT_EQ(summary["counts"].get<std::vector<int64_t>>(), (std::vector<int64_t>{10, 5, 2}));
  EXPECT_EQ(test::slurp(dir_ / "whole/classes.txt"), "0 cat\n1 dog\n2 emu\n");
  auto data = test::run_smcl("data " + folder_);
  ASSERT_EQ(data.status, 0) << data.output;
  EXPECT_NE(data.output.find("17 training images, 7 test images"), std::string::npos) << data.output;
  EXPECT_NE(data.output.find("emu"), std::string::npos) << data.output;
}

TEST_F(ImageCli, ListFilesTrainEvaluateAndResume) {
  train_evaluate_resume(list_);
  auto summary = test::read_json(dir_ / "whole/summary.json");
  // Images 2, 6 and 10 of each class are in test.txt: 11, 5 and 2 remain for training.
  EXPECT_EQ(summary["counts"].get<std::vector<int64_t>>(), (std::vector<int64_t>{11, 5, 2}));
}

TEST_F(ImageCli, ValidationListChoosesTheBestEpoch) {
  // The validation list: the test list's images again plus two training ones, so its top-1 differs from the test's.
  test::write_bytes(dir_ / "val.txt", test::slurp(dir_ / "test.txt") + "photos/cat/0.png 0\nphotos/dog/1.jpg 1\n");
  auto r =
      test::run_smcl("train " + list_ + " --set data.val_list=val.txt --set method.name=erm --set train.epochs=4 " +
                     "--out " + dir_ / "run");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("  val "), std::string::npos) << r.output;
  auto summary = test::read_json(dir_ / "run/summary.json");
  EXPECT_FALSE(summary["best_is_selected_on_test"].get<bool>());
  // The best epoch is the first with the highest validation top-1; its record is that epoch's test metrics.
  std::istringstream metrics(test::slurp(dir_ / "run/metrics.jsonl"));
  double best_val = -1;
  nlohmann::json best_line;
  for (std::string line; std::getline(metrics, line);) {
    auto record = nlohmann::json::parse(line);
    ASSERT_TRUE(record.contains("val")) << line;
    if (record["val"]["top1"].get<double>() > best_val) {
      best_val = record["val"]["top1"].get<double>();
      best_line = record;
    }
  }
  EXPECT_EQ(summary["best"]["epoch"], best_line["epoch"]);
  EXPECT_DOUBLE_EQ(summary["best"]["top1"].get<double>(), best_line["top1"].get<double>());
  EXPECT_DOUBLE_EQ(summary["best"]["val"]["top1"].get<double>(), best_val);
  test::expect_clean_error(test::run_smcl("train " + folder_ + " --set data.val_list=val.txt --out " + dir_ / "folder"),
                           "data.val_list is for list files");
}

TEST_F(ImageCli, BadImagesAndLabelsEndWithTheFileAndLine) {
  auto bytes = test::slurp(dir_ / "photos/dog/3.jpg");
  test::write_bytes(dir_ / "photos/dog/3.jpg", bytes.substr(0, bytes.size() / 2));
  // train.txt: 11 lines of cat, then dog 0, 1, 3.
  test::expect_clean_error(test::run_smcl("train " + list_ + " --out " + dir_ / "r1"),
                           "train.txt' line 14: JPEG '" + dir_ / "photos/dog/3.jpg" + "' is truncated");
  test::expect_clean_error(test::run_smcl("train " + folder_ + " --out " + dir_ / "r2"), "is truncated");
  auto skipped =
      test::run_smcl("train " + list_ + " --set data.skip_bad_images=true --set train.epochs=1 --out " + dir_ / "r3");
  ASSERT_EQ(skipped.status, 0) << skipped.output;
  EXPECT_NE(skipped.output.find("left out 1 bad images of '" + dir_ / "train.txt" + "'"), std::string::npos)
      << skipped.output;

  test::write_bytes(dir_ / "photos/dog/3.jpg", bytes);
  test::write_bytes(dir_ / "test.txt", "photos/cat/3.jpg 0\nphotos/cat/7.jpg 3\n");
  test::expect_clean_error(test::run_smcl("train " + list_ + " --out " + dir_ / "r4"),
                           "test.txt' line 2: label '3' is not an integer in [0, 3)");
  test::expect_clean_error(
      test::run_smcl("train " + folder_ + " --set data.root=" + dir_ / "nowhere --out " + dir_ / "r5"),
      "does not exist");
}

// Training images that decode only with libjpeg's warnings (a corrupt scan) are kept, as PIL keeps them, and never
// silently (issue 38): the first three are named on stderr, the rest counted, and the count follows the epoch in
// which it grew; data.skip_bad_images leaves them out.
TEST_F(ImageCli, ImagesDecodedWithWarningsAreCountedOnceAndNamed) {
  // Four training images of train.txt (test.txt holds images 2, 6 and 10 of each class), each checked to warn.
  for (const char* name : {"cat/3.jpg", "cat/4.jpg", "cat/5.jpg", "cat/7.jpg"}) {
    const std::string jpeg = test::with_corrupt_scan(test::slurp(dir_ / ("photos/" + std::string(name))), 30, 70);
    ASSERT_NE(jpeg, "") << name;
    test::write_bytes(dir_ / ("photos/" + std::string(name)), jpeg);
    std::string warning;
    data::decode_image(dir_ / ("photos/" + std::string(name)), "test", 3, data::kDefaultMaxImagePixels, &warning);
    ASSERT_NE(warning, "") << name;
  }
  auto kept = test::run_smcl("train " + list_ + " --set train.epochs=2 --out " + dir_ / "kept");
  ASSERT_EQ(kept.status, 0) << kept.output;
  EXPECT_EQ(test::read_json(dir_ / "kept/summary.json")["counts"].get<std::vector<int64_t>>(),
            (std::vector<int64_t>{11, 5, 2}));
  const std::string counted = "data: 4 images so far decoded only with warnings (kept;";
  const size_t first = kept.output.find(counted);
  EXPECT_NE(first, std::string::npos) << kept.output;
  EXPECT_EQ(kept.output.find(counted, first + 1), std::string::npos) << kept.output;  // once: no new ones in epoch 1
  size_t named = 0;
  for (size_t at = kept.output.find("decoded with libjpeg's warning"); at != std::string::npos;
       at = kept.output.find("decoded with libjpeg's warning", at + 1)) {
    ++named;
  }
  EXPECT_EQ(named, 3u) << kept.output;
  EXPECT_NE(kept.output.find("more images decode only with warnings; they are counted, not named"), std::string::npos)
      << kept.output;

  auto skipped =
      test::run_smcl("train " + list_ + " --set data.skip_bad_images=true --set train.epochs=1 --out " + dir_ / "left");
  ASSERT_EQ(skipped.status, 0) << skipped.output;
  EXPECT_NE(skipped.output.find("left out 4 bad images of '" + dir_ / "train.txt" + "'"), std::string::npos)
      << skipped.output;
  EXPECT_NE(skipped.output.find("4 of them decoded only with warnings"), std::string::npos) << skipped.output;
  EXPECT_EQ(test::read_json(dir_ / "left/summary.json")["counts"].get<std::vector<int64_t>>(),
            (std::vector<int64_t>{7, 5, 2}));
}

// predict holds the run's input size, not the files' (issue 38): 16 large JPEGs peak no higher than 2 do (two
// decoding threads, data.decode_threads 2), where the whole batch of full-size images was kept before. Peak memory
// of the predict process, read by Debian's Python (ru_maxrss of its child).
TEST_F(ImageCli, PredictHoldsInputSizedImagesNotTheFiles) {
  ASSERT_EQ(test::run_smcl("train " + folder_ + " --set train.epochs=1 --out " + dir_ / "run").status, 0);
  cv::Mat big(4000, 4000, CV_8UC3);
  cv::randu(big, cv::Scalar::all(0), cv::Scalar::all(255));
  fs::create_directories(dir_ / "big");
  ASSERT_TRUE(cv::imwrite(dir_ / "big/0.jpg", big));
  for (int i = 1; i < 16; ++i) fs::copy_file(dir_ / "big/0.jpg", dir_ / ("big/" + std::to_string(i) + ".jpg"));
  auto peak_mib = [&](const std::string& inputs) {
    auto r = test::run_command(
        "/usr/bin/python3 -c 'import resource, subprocess, sys; "
        "s = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
        "print(\"status\", s, \"peak\", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' " +
        std::string(SMCL_BINARY) + " predict --run " + dir_ / "run" + " " + inputs);
    EXPECT_NE(r.output.find("status 0 peak "), std::string::npos) << r.output;
    return std::stod(r.output.substr(r.output.find("peak ") + 5));
  };
  fs::create_directories(dir_ / "two");
  for (const char* name : {"0.jpg", "1.jpg"}) fs::copy_file(dir_ / "big/0.jpg", dir_ / ("two/" + std::string(name)));
  // Two images already keep both decoding threads busy with one full-size image each (46 MiB, and its 183 MiB float
  // copy in the resize); fourteen more add nothing now, where each added a full-size image before: 644 MiB. Whether
  // the two threads' resizes overlap depends on the machine's load: up to one float copy (183 MiB) either way.
  const double two = peak_mib(dir_ / "two"), sixteen = peak_mib(dir_ / "big");
  EXPECT_LT(sixteen - two, 300) << "two images: " << two << " MiB, sixteen: " << sixteen << " MiB";
}

TEST_F(ImageCli, ExportedRunLoadsInPyTorchAndStartsAnotherRun) {
  ASSERT_EQ(test::run_smcl("train " + folder_ + " --set train.epochs=1 --out " + dir_ / "run").status, 0);
  auto exported = test::run_smcl("export --run " + dir_ / "run" + " --out " + dir_ / "exported.pt");
  ASSERT_EQ(exported.status, 0) << exported.output;
  EXPECT_NE(exported.output.find("resnet8, 3 classes"), std::string::npos) << exported.output;
  // PyTorch's own ResNet-8 (tests/reference/exchange.py) loads it strictly and computes our logits.
  auto model = models::make_model(config::ModelName::kResNet8, 3, 3, {models::kSupConHead});
  train::load_checkpoint(dir_ / "run/checkpoints/last.pt", *model, nullptr, torch::kCPU);
  model->eval();
  auto x = torch::randn({4, 3, 16, 16});
  torch::NoGradGuard no_grad;
  train::write_state_dict({{"input", x}, {"logits", model->forward(x).logits}}, dir_ / "io_smcl.pt");
  auto checked = test::run_exchange_py("check " + dir_.str() + " resnet8 3 3");
  EXPECT_EQ(checked.status, 0) << checked.output;
  // A new run starts from the exported weights; the projection head was not exported and starts fresh.
  auto started =
      test::run_smcl("train " + folder_ + " --set train.epochs=1 --set model.init_from=" + dir_ / "exported.pt" +
                     " --out " + dir_ / "second");
  ASSERT_EQ(started.status, 0) << started.output;
  EXPECT_NE(started.output.find("model.init_from '" + dir_ / "exported.pt" + "': loaded"), std::string::npos)
      << started.output;
  EXPECT_NE(started.output.find("missing from the file, kept as initialised (4): head.0.bias"), std::string::npos)
      << started.output;
  test::expect_clean_error(test::run_smcl("export --run " + dir_ / "nowhere --out " + dir_ / "x.pt"),
                           "has no config.yaml");
}

}  // namespace smcl
