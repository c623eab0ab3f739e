// The background-biased set end to end (bias metrics in a run's files), smcl cam and smcl report: a tiny run on
// the synthetic MNIST-like set on biased backgrounds (mnist_bg), then its pictures and reports.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "cli_util.h"
#include "smcl/core/features.h"
#include "smcl/report/gnuplot.h"
#include "test_util.h"

#if SMCL_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

namespace smcl {
namespace {

namespace fs = std::filesystem;

// (width, height) from a PNG's signature and IHDR chunk; (0, 0) when the file is not a PNG.
std::pair<int64_t, int64_t> png_size(const std::string& path) {
  std::string bytes = test::slurp(path);
  if (bytes.size() < 24 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 || bytes.compare(12, 4, "IHDR") != 0) {
    return {0, 0};
  }
  auto be = [&](size_t at) {
    int64_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | uint8_t(bytes[at + i]);
    return v;
  };
  return {be(16), be(20)};
}

// The PNG is complete: its header says `size` and (with OpenCV) it decodes to an image of that size.
void expect_png(const std::string& path, std::pair<int64_t, int64_t> size) {
  ASSERT_TRUE(fs::is_regular_file(path)) << path;
  EXPECT_EQ(png_size(path), size) << path;
#if SMCL_HAVE_OPENCV
  cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
  ASSERT_FALSE(image.empty()) << path << " does not decode";
  EXPECT_EQ(image.cols, size.first) << path;
  EXPECT_EQ(image.rows, size.second) << path;
#endif
}

class BiasedRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    test::write_synthetic_mnist(*dir_ / "data", 60, true, 1);
    test::write_synthetic_mnist(*dir_ / "data", 20, false, 2);
    test::write_bytes(*dir_ / "bg.yaml", "data: {name: mnist_bg, root: " + *dir_ / "data" +
                                             ", imbalance_ratio: 10, max_per_class: 60, bg_bias: 0.9}\n"
                                             "model: {name: resnet8}\n"
                                             "train: {epochs: 2, batch_size: 32, seed: 3, threads: 2}\n"
                                             "optim: {lr: 0.05, warmup_epochs: 1, milestones: [1]}\n");
    train_ = new test::CommandResult(test::run_smcl("train -c " + *dir_ / "bg.yaml" + " --out " + *dir_ / "run"));
  }
  static void TearDownTestSuite() {
    delete train_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_EQ(train_->status, 0) << train_->output;
    if (!report::gnuplot_available()) GTEST_SKIP() << "gnuplot is not installed (Debian: gnuplot-nox)";
  }
  static test::TempDir* dir_;
  static test::CommandResult* train_;
};
test::TempDir* BiasedRun::dir_ = nullptr;
test::CommandResult* BiasedRun::train_ = nullptr;

TEST_F(BiasedRun, RecordsTheConflictSplitsMetrics) {
  auto summary = test::read_json(*dir_ / "run/summary.json");
  // 20 test images per class; the minor classes are the 5 smallest, so the conflict split has 100 images.
  EXPECT_EQ(summary["conflict_size"], 100);
  EXPECT_EQ(summary["major_classes"], nlohmann::json({0, 1, 2, 3, 4}));
  for (const char* which : {"last", "best"}) {
    for (const char* key : {"conflict_top1", "bg_flip_rate"}) {
      ASSERT_TRUE(summary[which].contains(key)) << which << " " << key;
      double v = summary[which][key].get<double>();
      EXPECT_GE(v, 0.0);
      EXPECT_LE(v, 100.0);
      EXPECT_DOUBLE_EQ(v, std::round(v)) << which << " " << key;  // a share of 100 images: a whole percent
    }
    // On the conflict split a prediction cannot be both right and a flip.
    EXPECT_LE(summary[which]["conflict_top1"].get<double>() + summary[which]["bg_flip_rate"].get<double>(), 100.0);
  }
  EXPECT_NE(train_->output.find("conflict "), std::string::npos) << train_->output;
  EXPECT_NE(train_->output.find("flip "), std::string::npos) << train_->output;
  const std::string lines = test::slurp(*dir_ / "run/metrics.jsonl");
  auto line = nlohmann::json::parse(lines.substr(0, lines.find('\n')));
  EXPECT_TRUE(line.contains("bg_flip_rate"));
  // smcl eval reports the same numbers for the last checkpoint.
  auto eval = test::run_smcl("eval --run " + *dir_ / "run" + " --checkpoint last --json-out " + *dir_ / "eval.json");
  ASSERT_EQ(eval.status, 0) << eval.output;
  auto evaluated = test::read_json(*dir_ / "eval.json")["last"];
  EXPECT_DOUBLE_EQ(evaluated["bg_flip_rate"].get<double>(), summary["last"]["bg_flip_rate"].get<double>());
  EXPECT_NE(eval.output.find("background-flip rate"), std::string::npos) << eval.output;
}

TEST_F(BiasedRun, CamDrawsPanelsAndMistakes) {
  auto r = test::run_smcl("cam --run " + *dir_ / "run" + " --split conflict --n 5 --out " + *dir_ / "cam");
  ASSERT_EQ(r.status, 0) << r.output;
  // 5 images of 32x32, 3 tiles each, 4 images a row (12 columns), every pixel drawn 3x3.
  expect_png(*dir_ / "cam/panels.png", report::tile_grid_size(15, 12, 3, 32, 32));
  auto listing = test::read_json(*dir_ / "cam/cam.json");
  ASSERT_EQ(listing["panels"].size(), 5u);
  for (const auto& p : listing["panels"]) {
    EXPECT_GE(p["label"].get<int64_t>(), 5);               // conflict images are of minor classes
    EXPECT_GT(p["confidence"].get<double>(), 0.1 - 1e-9);  // the top probability of 10 classes
    EXPECT_LE(p["confidence"].get<double>(), 1.0);
  }
  // Every mistake is one, at most 4 per class, two tiles each in rows of 8.
  const auto& mistakes = listing["mistakes"];
  ASSERT_FALSE(mistakes.empty());
  for (const auto& m : mistakes) EXPECT_NE(m["label"], m["predicted"]);
  expect_png(*dir_ / "cam/mistakes.png", report::tile_grid_size(int64_t(2 * mistakes.size()), 8, 3, 32, 32));
  EXPECT_FALSE(fs::exists(*dir_ / "cam/.figure.gp"));  // gnuplot's script is removed once it succeeded

  // The test split works for every set; the conflict split only for background-biased ones.
  auto test_split = test::run_smcl("cam --run " + *dir_ / "run" + " --n 2 --out " + *dir_ / "cam-test");
  ASSERT_EQ(test_split.status, 0) << test_split.output;
  expect_png(*dir_ / "cam-test/panels.png", report::tile_grid_size(6, 6, 3, 32, 32));
  test::write_bytes(*dir_ / "plain.yaml",
                    "data: {name: mnist, root: " + *dir_ / "data" +
                        ", imbalance_ratio: 10, max_per_class: 60}\n"
                        "model: {name: resnet8}\ntrain: {epochs: 1, batch_size: 32, threads: 2}\n");
  ASSERT_EQ(test::run_smcl("train -c " + *dir_ / "plain.yaml" + " --out " + *dir_ / "plain").status, 0);
  test::expect_clean_error(test::run_smcl("cam --run " + *dir_ / "plain" + " --split conflict --out " + *dir_ / "x"),
                           "has no conflict split");
}

TEST_F(BiasedRun, ReportDrawsARunAndASweep) {
  auto r = test::run_smcl("report " + *dir_ / "run");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string out = *dir_ / "run/report";
  expect_png(out + "/epochs.png", {900, 500});
  expect_png(out + "/accuracy.png", {900, 500});
  expect_png(out + "/per_class.png", {900, 500});
  expect_png(out + "/confusion.png", {700, 650});
  expect_png(out + "/reliability.png", {900, 500});
  std::string md = test::slurp(out + "/report.md");
  for (const char* figure :
       {"(epochs.png)", "(accuracy.png)", "(per_class.png)", "(confusion.png)", "(reliability.png)"}) {
    EXPECT_NE(md.find(figure), std::string::npos) << figure;
  }
  // The reliability diagram's data: one row per bin.
  std::string bins = test::slurp(out + "/reliability.tsv");
  EXPECT_EQ(std::count(bins.begin(), bins.end(), '\n'), 1 + 15);
  auto summary = test::read_json(*dir_ / "run/summary.json");
  char top1[32];
  std::snprintf(top1, sizeof(top1), "| %.2f |", summary["last"]["top1"].get<double>());
  EXPECT_NE(md.find(top1), std::string::npos) << md;
  EXPECT_NE(md.find("flip rate"), std::string::npos);
  // The plotted data: one line per epoch, and per class its training count.
  std::string epochs = test::slurp(out + "/epochs.tsv");
  EXPECT_EQ(std::count(epochs.begin(), epochs.end(), '\n'), 1 + 2);

  // A sweep of one row whose one run is this run: its table.json holds the run's numbers, and the report draws it.
  fs::create_directories(*dir_ / "runs/tiny/erm");
  fs::copy(*dir_ / "run", *dir_ / "runs/tiny/erm/seed3", fs::copy_options::recursive);
  // A second row holds the same run, so that its paired difference from the baseline ERM is 0.
  fs::create_directories(*dir_ / "runs/tiny/same");
  fs::copy(*dir_ / "run", *dir_ / "runs/tiny/same/seed3", fs::copy_options::recursive);
  test::write_bytes(*dir_ / "tiny_table.yaml",
                    "name: tiny\ntitle: tiny table\nseeds: [3]\nbaseline: ERM\nrows:\n"
                    "  - name: ERM\n    config: bg.yaml\n"
                    "  - name: Same\n    config: bg.yaml\n    set: [train.seed=3]\n");
  auto sweep = test::run_smcl("sweep --table " + *dir_ / "tiny_table.yaml" + " --runs " + *dir_ / "runs" + " --report");
  ASSERT_EQ(sweep.status, 0) << sweep.output;
  auto table = test::read_json(*dir_ / "runs/tiny/table.json");
  ASSERT_EQ(table["rows"].size(), 2u);
  EXPECT_EQ(table["rows"][1]["differences"]["bg_flip_rate"]["mean"], 0.0);
  EXPECT_EQ(table["rows"][0]["seeds"], 1);
  EXPECT_DOUBLE_EQ(table["rows"][0]["metrics"]["bg_flip_rate"]["mean"].get<double>(),
                   summary["last"]["bg_flip_rate"].get<double>());
  EXPECT_NE(test::slurp(*dir_ / "runs/tiny/table.md").find("| flip |"), std::string::npos);
  auto drawn = test::run_smcl("report --sweep " + *dir_ / "runs/tiny" + " --out " + *dir_ / "sweep-report");
  ASSERT_EQ(drawn.status, 0) << drawn.output;
  expect_png(*dir_ / "sweep-report/table.png", {900, 560});
  EXPECT_NE(test::slurp(*dir_ / "sweep-report/report.md").find("(table.png)"), std::string::npos);
  expect_png(*dir_ / "sweep-report/differences.png", {800, 480});
  EXPECT_NE(test::slurp(*dir_ / "sweep-report/report.md").find("(differences.png)"), std::string::npos);
  EXPECT_NE(test::slurp(*dir_ / "runs/tiny/table.md").find("| +0.00 (1 seed) |"), std::string::npos);

  test::expect_clean_error(test::run_smcl("report --sweep " + *dir_ / "run"), "has no table.json");
  test::expect_clean_error(test::run_smcl("report " + *dir_ / "nothing"), "metrics.jsonl");

  // A hand-edited classes.txt whose line is not "index name" is named in the error, with its line.
  fs::copy(*dir_ / "run", *dir_ / "edited", fs::copy_options::recursive);
  test::write_bytes(*dir_ / "edited/classes.txt", "0 zero\nseven 7\n");
  test::expect_clean_error(test::run_smcl("report " + *dir_ / "edited"), "classes.txt' line 2");
}

}  // namespace
}  // namespace smcl
