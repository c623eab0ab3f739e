// The run folder and its typed records: summaries and epoch records written by older smcl read back and write the
// same JSON again, the lock keeps a second process out, metrics.jsonl is cut back to the saved epochs.
#include "smcl/train/run_folder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "smcl/core/error.h"
#include "smcl/eval/evaluate.h"
#include "test_util.h"

namespace smcl::train {
namespace {

std::string fixture(const std::string& name) { return std::string(SMCL_SOURCE_DIR) + "/tests/fixtures/" + name; }

}  // namespace

// tests/fixtures/summary_train.json and summary_retrain.json were written by smcl at commit c56241d (before the
// typed records): the tiny run of tests/cli/cli_test.cpp (train -c tiny.yaml) and its `retrain --mode crt
// --set retrain.epochs=2`. Read into RunSummary and written again, they are the same JSON, every number to the bit.
TEST(RunSummary, SummariesOfOlderSmclRoundTripExactly) {
  for (const char* name : {"summary_train.json", "summary_retrain.json"}) {
    const auto json = test::read_json(fixture(name));
    const RunSummary summary = summary_from_json(json, name);
    EXPECT_EQ(to_json(summary), json) << name;
  }
  const auto summary = summary_from_json(test::read_json(fixture("summary_train.json")), "train");
  EXPECT_EQ(summary.last.epoch, 2);
  EXPECT_EQ(summary.last.test.per_class.size(), 10u);
  EXPECT_EQ(summary.last.test.confusion.size(), 10u);
  EXPECT_EQ(summary.last.test.reliability.count.size(), size_t(eval::kCalibrationBins));
  EXPECT_FALSE(summary.last.training);
  EXPECT_FALSE(summary.retrain);
  EXPECT_TRUE(summary.many.empty());  // max_per_class 100: no class has more than 100 images
  const auto retrain = summary_from_json(test::read_json(fixture("summary_retrain.json")), "retrain");
  ASSERT_TRUE(retrain.retrain);
  EXPECT_EQ(retrain.retrain->mode, "crt");
}

// The metrics.jsonl lines of the same older run (training columns included) read and write back unchanged.
TEST(EpochRecord, MetricsLinesOfOlderSmclRoundTripExactly) {
  std::istringstream lines(test::slurp(fixture("killed_run/metrics.jsonl")));
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    const auto json = nlohmann::json::parse(line);
    const auto record = eval::epoch_record_from_json(json, "line");
    ASSERT_TRUE(record.training);
    EXPECT_TRUE(record.training->top1 && record.training->seconds && record.training->images_per_second);
    EXPECT_EQ(eval::to_json(record, /*with_details=*/false), json);
  }
  EXPECT_EQ(count, 2);
}

// A record of the first versions, without calibration: read with NaN there, shown as "-" in the table.
TEST(EpochRecord, RecordsWithoutCalibrationReadAndPrintADash) {
  const auto json = nlohmann::json::parse(
      R"({"epoch": 3, "top1": 50.0, "top5": 90.0, "many": 60.0, "medium": null, "few": 40.0, "per_class": [60, 40]})");
  const auto record = eval::epoch_record_from_json(json, "old");
  EXPECT_EQ(record.epoch, 3);
  EXPECT_FALSE(record.test.medium);
  EXPECT_TRUE(std::isnan(record.test.calibration.ece));
  const std::string table = eval::format_table({{"old", record.test}});
  EXPECT_NE(table.find(" 50.00  90.00  60.00      -  40.00      -      -"), std::string::npos) << table;
  // A key of the wrong type is an error naming the origin and the key.
  auto bad = json;
  bad["top1"] = "high";
  const std::string message = test::error_of([&] { eval::epoch_record_from_json(bad, "'x/summary.json': last"); });
  EXPECT_NE(message.find("'x/summary.json': last"), std::string::npos) << message;
  EXPECT_NE(message.find("top1"), std::string::npos) << message;
}

TEST(RunFolder, ASecondProcessCannotTrainIntoALockedFolder) {
  test::TempDir dir;
  RunFolder folder(dir / "run");
  EXPECT_FALSE(folder.holds_run());
  folder.create("train: {}\n");
  EXPECT_TRUE(folder.holds_run());
  EXPECT_TRUE(std::filesystem::is_directory(dir / "run/checkpoints"));
  // Another open of the lock file (as another process has) finds it held.
  RunFolder other(dir / "run");
  EXPECT_TRUE(other.in_use());
  const std::string message = test::error_of([&] { other.reopen(); });
  EXPECT_NE(message.find("is in use"), std::string::npos) << message;
  // Released with the folder (and with the process, however it ends).
  folder = RunFolder(dir / "run");
  EXPECT_FALSE(other.in_use());
  EXPECT_NO_THROW(other.reopen());
  // A folder that holds a run is not created again.
  other = RunFolder(dir / "run");
  RunFolder again(dir / "run");
  EXPECT_NE(test::error_of([&] { again.create("train: {}\n"); }).find("already holds a run"), std::string::npos);
}

TEST(RunFolder, MetricsKeepOnlyTheSavedEpochs) {
  test::TempDir dir;
  RunFolder folder(dir / "run");
  folder.create("train: {}\n");
  eval::EpochRecord record;
  record.test.per_class = {1, 2};
  for (int64_t epoch = 0; epoch < 4; ++epoch) {
    record.epoch = epoch;
    record.training = eval::EpochTraining{0.1, 2.0 - double(epoch), std::nullopt, std::nullopt, std::nullopt};
    folder.append(record);
  }
  folder.keep_epochs_before(2);
  std::istringstream lines(test::slurp(dir / "run/metrics.jsonl"));
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    EXPECT_EQ(nlohmann::json::parse(line)["epoch"], count);
    EXPECT_EQ(nlohmann::json::parse(line)["train_loss"], 2.0 - count);
  }
  EXPECT_EQ(count, 2);
}

}  // namespace smcl::train
