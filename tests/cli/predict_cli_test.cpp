// smcl predict on a real Fashion-MNIST-LT run: the test set written out as PNG files is classified to exactly the
// run's own test top-1; bad inputs are rows with an error and exit status 2. Needs OpenCV (to write and read the
// PNGs) and the Debian package dataset-fashion-mnist; skipped without them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "smcl/core/features.h"
#include "smcl/data/idx.h"
#include "test_util.h"

#if SMCL_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

namespace smcl {
namespace {
namespace fs = std::filesystem;

const std::string kFashion = "/usr/share/datasets/fashion-mnist";

// CSV rows as fields (the files written here have no commas or quotes in them).
std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(cell);
    if (!line.empty() && line.back() == ',') fields.emplace_back();
    rows.push_back(fields);
  }
  return rows;
}

// A small real run: Fashion-MNIST-LT with 200 images in the largest class, ResNet-8's ERM recipe.
class Predict : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kFashion + "/t10k-images-idx3-ubyte.gz")) GTEST_SKIP() << "dataset-fashion-mnist missing";
  }
  void train(int epochs, const std::string& extra = "") {
    auto r = test::run_smcl("train -c " + std::string(SMCL_SOURCE_DIR) + "/configs/fashion_mnist_lt_erm.yaml" +
                            " --set data.max_per_class=200 --set train.epochs=" + std::to_string(epochs) + " " + extra +
                            " --out " + dir / "run");
    ASSERT_EQ(r.status, 0) << r.output;
  }
  test::TempDir dir;
};

}  // namespace

#if !SMCL_HAVE_OPENCV
TEST(Predict, NeedsOpenCv) { GTEST_SKIP() << "this build has no OpenCV to write and read PNG files"; }
#else
TEST_F(Predict, FashionMnistTestSetAsPngsGivesTheRunsOwnTopOne) {
  train(1, "--set train.batch_size=64");
  if (HasFatalFailure()) return;
  const double top1 = test::read_json(dir / "run/summary.json")["last"]["top1"].get<double>();
  // The test set, image i as png/<label name>/<i>.png: the folder's sorted order is not the test order, which
  // must not matter.
  auto images = data::read_idx(kFashion + "/t10k-images-idx3-ubyte.gz");
  auto labels = data::read_idx(kFashion + "/t10k-labels-idx1-ubyte.gz");
  for (int64_t i = 0; i < images.size(0); ++i) {
    const std::string folder = dir / ("png/" + std::to_string(labels[i].item<int>()));
    fs::create_directories(folder);
    auto image = images[i].contiguous();
    cv::Mat mat(28, 28, CV_8UC1, image.data_ptr<uint8_t>());
    char name[32];
    std::snprintf(name, sizeof(name), "/%05lld.png", static_cast<long long>(i));
    ASSERT_TRUE(cv::imwrite(folder + name, mat));
  }
  auto r = test::run_smcl("predict --run " + dir / "run" + " " + dir / "png" + " --top-k 2 --out " + dir / "p.csv");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto rows = csv_rows(test::slurp(dir / "p.csv"));
  ASSERT_EQ(rows.size(), 10001u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"path", "class_1", "probability_1", "class_2", "probability_2", "error",
                                               "warning"}));
  // classes.txt holds the official names; the folder is the label's number.
  std::vector<std::string> names;
  std::istringstream classes(test::slurp(dir / "run/classes.txt"));
  for (std::string line; std::getline(classes, line);) names.push_back(line.substr(line.find(' ') + 1));
  int64_t correct = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 7u) << i;
    const int label = std::stoi(fs::path(rows[i][0]).parent_path().filename().string());
    correct += rows[i][1] == names[size_t(label)];
    EXPECT_GE(std::stod(rows[i][2]), std::stod(rows[i][4]));
    EXPECT_TRUE(rows[i][5].empty() && rows[i][6].empty());
  }
  EXPECT_NEAR(100.0 * double(correct) / 10000.0, top1, 1e-9);
}

TEST_F(Predict, BadInputsAreRowsWithAnErrorAndExitTwo) {
  train(1);
  if (HasFatalFailure()) return;
  cv::Mat gray(28, 28, CV_8UC1, cv::Scalar(90)), big(32, 32, CV_8UC1, cv::Scalar(90)),
      colour(28, 28, CV_8UC3, cv::Scalar(10, 200, 30));
  ASSERT_TRUE(cv::imwrite(dir / "good.png", gray));
  ASSERT_TRUE(cv::imwrite(dir / "big.png", big));
  ASSERT_TRUE(cv::imwrite(dir / "colour.png", colour));
  test::write_bytes(dir / "notes.png", "not an image");
  test::write_bytes(dir / "list.txt", "good.png 3\nmissing.png\n");
  // --list takes one file: the images after it are inputs of their own.
  auto r = test::run_smcl("predict --run " + dir / "run" + " --format jsonl --top-k 3 --list " + dir / "list.txt" +
                          " " + dir / "big.png" + " " + dir / "colour.png" + " " + dir / "notes.png");
  test::expect_clean_error(r, "4 of 5 images could not be classified");
  EXPECT_NE(r.output.find("big.png' is 32x32 pixels; the run on Fashion-MNIST classifies images of 28x28"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("colour.png' has colour; the run on Fashion-MNIST classifies grayscale images"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("notes.png' is not a JPEG or PNG file"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("missing.png' does not exist"), std::string::npos) << r.output;
  // The good image's line: three classes, most probable first, probabilities that sum to at most 1.
  const auto at = r.output.find("{\"path\":\"" + dir / "good.png" + "\"");
  ASSERT_NE(at, std::string::npos) << r.output;
  auto line = nlohmann::json::parse(r.output.substr(at, r.output.find('\n', at) - at));
  ASSERT_EQ(line["predictions"].size(), 3u);
  EXPECT_GE(line["predictions"][0]["probability"].get<double>(), line["predictions"][1]["probability"].get<double>());
  test::expect_clean_error(test::run_smcl("predict --run " + dir / "nowhere " + dir / "good.png"),
                           "has no config.yaml");

  // A JPEG whose scan is corrupt is classified, as PIL would decode it, and its row carries libjpeg's warning
  // (issue 38: only libjpeg's own line on stderr said so, naming no file).
  std::vector<unsigned char> encoded;
  ASSERT_TRUE(cv::imencode(".jpg", gray, encoded));
  const std::string corrupt = test::with_corrupt_scan(std::string(encoded.begin(), encoded.end()), 20, 40);
  ASSERT_NE(corrupt, "");
  test::write_bytes(dir / "corrupt.jpg", corrupt);
  auto warned = test::run_smcl("predict --run " + dir / "run" + " --format jsonl " + dir / "corrupt.jpg");
  ASSERT_EQ(warned.status, 0) << warned.output;
  const auto warned_at = warned.output.find("{\"path\"");
  ASSERT_NE(warned_at, std::string::npos) << warned.output;
  const auto warned_line = nlohmann::json::parse(warned.output.substr(warned_at));
  EXPECT_EQ(warned_line["predictions"].size(), 5u) << warned.output;
  EXPECT_NE(warned_line["warning"].get<std::string>().find("decoded with libjpeg's warning \"Corrupt JPEG data"),
            std::string::npos)
      << warned.output;
  EXPECT_NE(warned.output.find("predict: warning: '" + dir / "corrupt.jpg" + "'"), std::string::npos) << warned.output;

  // A folder with a link that loops and a subfolder that cannot be read (issue 38): each is one row with its
  // error, and the folder's other images are classified. (Root reads any folder: then only the link.)
  fs::create_directories(dir / "tree/sub");
  fs::create_directories(dir / "tree/locked");
  ASSERT_TRUE(cv::imwrite(dir / "tree/a.png", gray));
  ASSERT_TRUE(cv::imwrite(dir / "tree/sub/b.png", gray));
  ASSERT_TRUE(cv::imwrite(dir / "tree/locked/c.png", gray));
  fs::create_symlink("loop.png", dir / "tree/loop.png");
  fs::permissions(dir / "tree/locked", fs::perms::none);
  const bool root = ::geteuid() == 0;
  auto walked = test::run_smcl("predict --run " + dir / "run" + " " + dir / "tree");
  fs::permissions(dir / "tree/locked", fs::perms::owner_all);
  test::expect_clean_error(walked, root ? "1 of 4 images could not be classified" : "2 of 4 images could not be");
  EXPECT_NE(walked.output.find("cannot read image '" + dir / "tree/loop.png" + "': Too many levels of symbolic links"),
            std::string::npos)
      << walked.output;
  if (!root) {
    EXPECT_NE(walked.output.find("cannot read folder '" + dir / "tree/locked" + "': Permission denied"),
              std::string::npos)
        << walked.output;
  }
  for (const std::string name : {"tree/a.png", "tree/sub/b.png"}) {
    EXPECT_NE(walked.output.find("\n" + dir / name + ","), std::string::npos) << name << walked.output;
  }

  // A file name that is not UTF-8 (Latin-1 "caf\xE9", and a lone continuation byte) is written escaped in JSON
  // Lines, as \xNN, and the run ends normally (issue 38); valid UTF-8 stays as it is.
  const std::string latin1 = dir / "caf\xE9.png",
                    stray = dir /
                            "a\x80"
                            "b.png",
                    utf8 = dir / "caf\xC3\xA9.png";
  for (const auto& name : {latin1, stray, utf8}) ASSERT_TRUE(cv::imwrite(name, gray)) << name;
  auto named = test::run_smcl("predict --run " + dir / "run" + " --format jsonl '" + latin1 + "' '" + stray + "' '" +
                              utf8 + "'");
  ASSERT_EQ(named.status, 0) << named.output;
  std::vector<std::string> paths;
  std::istringstream lines(named.output);
  for (std::string text; std::getline(lines, text);) {
    if (text.rfind("{\"path\"", 0) == 0) paths.push_back(nlohmann::json::parse(text)["path"]);
  }
  EXPECT_EQ(paths, (std::vector<std::string>{dir / "caf\\xE9.png", dir / "a\\x80b.png", utf8})) << named.output;
}

// smcl calibrate fits one temperature (no validation list here: on a held-out share of the training images), and
// predict and eval then use it: every probability becomes p_k^(1/T) / sum_j p_j^(1/T) of the uncalibrated ones.
TEST_F(Predict, CalibrateStoresATemperatureThatPredictAndEvalApply) {
  train(2);
  if (HasFatalFailure()) return;
  auto images = data::read_idx(kFashion + "/t10k-images-idx3-ubyte.gz");
  auto image = images[0].contiguous();
  ASSERT_TRUE(cv::imwrite(dir / "a.png", cv::Mat(28, 28, CV_8UC1, image.data_ptr<uint8_t>())));
  const std::string predict = "predict --run " + dir / "run" + " --format jsonl --top-k 10 " + dir / "a.png";
  auto before = test::run_smcl(predict);
  ASSERT_EQ(before.status, 0) << before.output;
  // A share that is not a number is refused, not fitted on one image (issue 38); so is one out of range.
  test::expect_clean_error(test::run_smcl("calibrate --run " + dir / "run" + " --holdout nan"),
                           "--holdout nan: expected a share in [0.01, 1]");
  EXPECT_EQ(test::run_smcl("calibrate --run " + dir / "run" + " --holdout 2").status, 2);
  EXPECT_FALSE(fs::exists(dir / "run/calibration.json"));
  auto calibrate = test::run_smcl("calibrate --run " + dir / "run");
  ASSERT_EQ(calibrate.status, 0) << calibrate.output;
  EXPECT_NE(calibrate.output.find("a held-out share of the training set"), std::string::npos) << calibrate.output;
  const auto stored = test::read_json(dir / "run/calibration.json");
  const double t = stored["temperature"].get<double>();
  EXPECT_LE(stored["fit"]["after"]["nll"].get<double>(), stored["fit"]["before"]["nll"].get<double>());
  auto after = test::run_smcl(predict);
  ASSERT_EQ(after.status, 0) << after.output;
  EXPECT_NE(after.output.find("temperature"), std::string::npos) << after.output;
  auto probabilities = [](const std::string& output) {
    const auto line = nlohmann::json::parse(output.substr(output.find("{\"path\"")));
    std::map<std::string, double> p;
    for (const auto& item : line["predictions"]) p[item["class"]] = item["probability"].get<double>();
    return p;
  };
  auto p = probabilities(before.output), q = probabilities(after.output);
  ASSERT_EQ(p.size(), 10u);
  double norm = 0;
  for (const auto& [name, v] : p) norm += std::pow(v, 1 / t);
  for (const auto& [name, v] : p) EXPECT_NEAR(q[name], std::pow(v, 1 / t) / norm, 1e-5) << name;  // 6 decimals
  auto e = test::run_smcl("eval --run " + dir / "run" + " --checkpoint last --json-out " + dir / "eval.json");
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_NE(e.output.find("from calibration.json applied"), std::string::npos) << e.output;
  const auto evaluated = test::read_json(dir / "eval.json")["last"];
  EXPECT_NEAR(evaluated["temperature"].get<double>(), t, 1e-12);
  EXPECT_NEAR(evaluated["nll"].get<double>(), stored["test"]["after"]["nll"].get<double>(), 1e-9);
  EXPECT_NEAR(evaluated["top1"].get<double>(), test::read_json(dir / "run/summary.json")["last"]["top1"].get<double>(),
              1e-9);

  // Trained on (issue 38): the temperature belongs to the earlier last.pt, so neither predict nor eval applies
  // it, and both say so; predict's probabilities are the new weights' own.
  auto config = test::slurp(dir / "run/config.yaml");
  const auto at = config.find("\ntrain:\n");
  ASSERT_NE(at, std::string::npos) << config;
  const auto epochs = config.find("\n  epochs: 2\n", at);
  ASSERT_NE(epochs, std::string::npos) << config;
  test::write_bytes(dir / "run/config.yaml", config.replace(epochs, 13, "\n  epochs: 3\n"));
  auto resumed = test::run_smcl("train --resume " + dir / "run");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  const std::string stale =
      "holds a temperature fitted to an earlier checkpoint last (epoch 1; the checkpoint is now "
      "of epoch 2): not applied";
  auto later = test::run_smcl(predict);
  ASSERT_EQ(later.status, 0) << later.output;
  EXPECT_NE(later.output.find(stale), std::string::npos) << later.output;
  EXPECT_EQ(later.output.find("from calibration.json applied"), std::string::npos) << later.output;
  auto e2 = test::run_smcl("eval --run " + dir / "run" + " --checkpoint last --json-out " + dir / "eval2.json");
  ASSERT_EQ(e2.status, 0) << e2.output;
  EXPECT_NE(e2.output.find(stale), std::string::npos) << e2.output;
  EXPECT_TRUE(test::read_json(dir / "eval2.json")["last"]["temperature"].is_null());
  EXPECT_NEAR(test::read_json(dir / "eval2.json")["last"]["top1"].get<double>(),
              test::read_json(dir / "run/summary.json")["last"]["top1"].get<double>(), 1e-9);
  // Calibrated again, it applies again.
  ASSERT_EQ(test::run_smcl("calibrate --run " + dir / "run").status, 0);
  EXPECT_NE(test::run_smcl(predict).output.find("from calibration.json applied"), std::string::npos);
}
#endif

}  // namespace smcl
