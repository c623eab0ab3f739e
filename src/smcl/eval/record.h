// What a run keeps of an evaluated epoch, and its JSON: the lines of metrics.jsonl, and the last and best epoch of
// summary.json and of the checkpoints.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "smcl/eval/metrics.h"

namespace smcl::eval {

// What training did in an epoch: the training columns of a metrics.jsonl line.
struct EpochTraining {
  double lr = 0;
  double loss = 0;                          // mean training loss per source image
  std::optional<double> top1;               // training top-1 (%) of the first view; a re-training has none
  std::optional<double> images_per_second;  // source images per second of training steps
  std::optional<double> seconds;            // the epoch's wall time, training and evaluation
};

// One evaluated epoch of a run: a line of metrics.jsonl (to_json without details), and the last and best epoch of
// summary.json and of the checkpoints (with them). Its JSON is to_json(test) with "epoch", and where present
// "val" (to_json of the validation set, without details), "conflict_top1" and "bg_flip_rate" (the background-biased
// sets' conflict split, in percent), "temperature" (smcl eval of a calibrated checkpoint), and the training columns
// "lr", "train_loss", "train_top1", "train_images_per_second", "epoch_seconds".
struct EpochRecord {
  int64_t epoch = -1;
  Metrics test;
  std::optional<Metrics> val;
  std::optional<BiasMetrics> bias;
  std::optional<double> temperature;
  std::optional<EpochTraining> training;

  // The top-1 the best epoch is chosen by: the validation set's where the data has one, else the test set's.
  double selection_top1() const { return val ? val->top1 : test.top1; }
};

// {"top1", "top5", "many", "medium", "few", "per_class", "ece", "nll", "brier", "calibration": {"many", "medium",
// "few"} each {"ece", "nll", "brier"}} (+ "confusion" and "reliability" {"count", "confidence", "accuracy"} per
// bin with details); missing groups are null.
nlohmann::json to_json(const Metrics& metrics, bool with_details);
nlohmann::json to_json(const EpochRecord& record, bool with_details);

// The inverse of to_json; also reads what older smcl wrote (without the calibration keys: those are NaN). Throws
// smcl::Error naming `origin` and the key when a key is missing or of another type.
Metrics metrics_from_json(const nlohmann::json& json, const std::string& origin);
EpochRecord epoch_record_from_json(const nlohmann::json& json, const std::string& origin);

}  // namespace smcl::eval
