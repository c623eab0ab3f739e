// Runs a model over a whole (test) set and computes the metrics; converts metrics to the JSON of
// metrics.jsonl and summary.json, and to the table printed at the end of a run.
#pragma once

#include <nlohmann/json.hpp>

#include "smcl/config/config.h"
#include "smcl/data/datasets.h"
#include "smcl/eval/metrics.h"
#include "smcl/models/network.h"

namespace smcl::eval {

// Logits [N, K] (CPU float32) of the model on every image of `dataset`, normalised with augment.mean/std,
// in eval mode and without gradients. The model's train/eval mode is restored afterwards. In a process group
// (core/distributed.h) every process must call it: each predicts its share of the batches, and all get all.
torch::Tensor predict(models::Network& model, const data::Dataset& dataset, const config::Config& config,
                      const torch::Device& device);

// The metrics of the model on `dataset`; the probabilities are those of the logits divided by `temperature`
// (post-hoc temperature scaling, smcl calibrate; 1: the model's own), which changes the calibration, not top-1.
Metrics evaluate(models::Network& model, const data::Dataset& dataset, const std::vector<int64_t>& train_counts,
                 const config::Config& config, const torch::Device& device, double temperature = 1.0);

// One evaluated epoch on a run's data: the test set's metrics, and their JSON as `record` (with the confusion
// matrix: summary.json's last and best) and `line` (without: metrics.jsonl). Both also hold "val" (to_json of the
// validation set) when the data has one and, for background-biased sets, "conflict_top1" and "bg_flip_rate"
// (compute_bias_metrics on the conflict split, in percent). Every process of a group must call it.
struct EpochMetrics {
  Metrics test;
  nlohmann::json record, line;
};
EpochMetrics evaluate_epoch(models::Network& model, const data::LongTailedData& data, const config::Config& config,
                            const torch::Device& device, double temperature = 1.0);

// {"top1", "top5", "many", "medium", "few", "per_class", "ece", "nll", "brier", "calibration": {"many", "medium",
// "few"} each {"ece", "nll", "brier"}} (+ "confusion" and "reliability" {"count", "confidence", "accuracy"} per
// bin when asked); missing groups are null.
nlohmann::json to_json(const Metrics& metrics, bool with_confusion);

// The top-1 an epoch's record is ranked by when choosing the best epoch: that of its validation set (the record's
// "val", present when the data has one) or else that of the test set.
double selection_top1(const nlohmann::json& record);

// A text table: one row per entry (name, metrics), columns top-1, top-5, many, medium, few, ECE, NLL.
std::string format_table(const std::vector<std::pair<std::string, nlohmann::json>>& rows);

// Per-class accuracy next to the training count, one line per class.
std::string format_per_class(const nlohmann::json& metrics, const std::vector<int64_t>& train_counts);

}  // namespace smcl::eval
