// Runs a model over a whole (test) set and computes the metrics (record.h: as a run keeps them); the table printed
// at the end of a run.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "smcl/config/config.h"
#include "smcl/data/datasets.h"
#include "smcl/eval/metrics.h"
#include "smcl/eval/record.h"
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

// One epoch's evaluation on a run's data: the test set, the validation set where the data has one, and for
// background-biased sets the conflict split (compute_bias_metrics). epoch and training are left to the caller.
// Every process of a group must call it.
EpochRecord evaluate_epoch(models::Network& model, const data::LongTailedData& data, const config::Config& config,
                           const torch::Device& device, double temperature = 1.0);

// A text table: one row per entry (name, metrics), columns top-1, top-5, many, medium, few, ECE, NLL ("-" where
// missing or not a number).
std::string format_table(const std::vector<std::pair<std::string, Metrics>>& rows);

// Per-class accuracy next to the training count, one line per class.
std::string format_per_class(const Metrics& metrics, const std::vector<int64_t>& train_counts);

}  // namespace smcl::eval
