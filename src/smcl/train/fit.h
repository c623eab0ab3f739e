// The training loop in layers: train_epoch (one pass over the sampled batches) and evaluation, driven by
// fit, which owns the run folder: config.yaml, metrics.jsonl, summary.json, checkpoints/{last,best}.pt.
// Resuming continues from checkpoints/last.pt and ends exactly where the uninterrupted run would.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "smcl/config/config.h"
#include "smcl/data/datasets.h"
#include "smcl/train/checkpoint.h"

namespace smcl::train {

// The device runs use: the first CUDA device when libtorch has one, else the CPU.
torch::Device default_device();

// Trains `config` (resolved) into run folder `out_dir`, which must not hold a run yet. Returns summary.json.
nlohmann::json fit(const config::Config& config, const std::string& out_dir);

// Continues the run in `run_dir` from its last checkpoint; a finished run just returns its summary.
nlohmann::json resume(const std::string& run_dir);

// summary.json of a finished run (also written by retrain).
nlohmann::json run_summary(const config::Config& config, const data::LongTailedData& data, const TrainState& state);

// Keeps only the metrics.jsonl lines of epochs before next_epoch: a killed run may have logged an epoch it
// never saved.
void truncate_metrics(const std::string& path, int64_t next_epoch);

// Tests kill a run with SIGKILL at a chosen global step (environment SMCL_DEBUG_KILL_AT_STEP) to check that
// resume loses nothing; training and retraining call this before each step.
void kill_if_debug_step(int64_t global_step);

// The resolved config saved in a run folder (run_dir/config.yaml). Throws smcl::Error when it is missing.
config::Config load_run_config(const std::string& run_dir);

}  // namespace smcl::train
