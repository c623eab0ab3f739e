// A run folder and the lifecycle that fit, retrain and sweep share. The one place that knows a folder's layout:
//   config.yaml       the resolved config the run follows
//   metrics.jsonl     one line per evaluated epoch (eval::EpochRecord without details), appended
//   summary.json      the RunSummary of a finished run
//   checkpoints/      last.pt and best.pt (train/checkpoint.h); retrain.pt, a re-training's resume point
//   classes.txt       "index name" per class, for sets whose classes have names
//   calibration.json  the temperature of `smcl calibrate`
//   .lock             locked (flock) while a process trains into the folder
// RunFolder creates, locks and writes it; EpochRecorder ends every epoch (evaluate, log, keep best, save, print);
// open_run opens a trained run for the commands that use one (eval, cam, calibrate, export, retrain, predict).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "smcl/config/config.h"
#include "smcl/data/datasets.h"
#include "smcl/eval/record.h"
#include "smcl/models/network.h"
#include "smcl/train/checkpoint.h"

namespace smcl::train {

// summary.json of a finished run; its keys are the fields' names, but for "groups": {"many", "medium", "few"},
// each the classes of that group, and "retrain": {"mode", "source_run"}, present for a re-training only.
struct RunSummary {
  std::string dataset;                        // data::dataset_title
  std::string model, method, loss, reweight;  // names as in config.yaml
  int64_t epochs = 0, seed = 0;
  eval::EpochRecord last, best;  // with details (confusion matrix, reliability bins)
  // Without a validation set the best epoch is chosen on the test set, so that only `last` is a fair number.
  bool best_is_selected_on_test = true;
  double train_images_per_second = 0;  // over the training steps of all sessions
  double wall_seconds = 0;             // of the completed epochs, training and evaluation, over all sessions
  std::vector<int64_t> counts;         // training images per class
  std::vector<int64_t> many, medium, few;
  int64_t train_size = 0, test_size = 0;
  std::optional<int64_t> conflict_size;  // background-biased sets' conflict split
  std::vector<int64_t> major_classes;    // background-biased sets: the classes whose backgrounds bias
  struct Retrain {
    std::string mode, source_run;
  };
  std::optional<Retrain> retrain;
};

// The summary of a run that ended with `state` (its last and best epochs must be set).
RunSummary make_summary(const config::Config& config, const data::LongTailedData& data, const TrainState& state);
nlohmann::json to_json(const RunSummary& summary);
// Also reads the summaries of older smcl. Throws smcl::Error naming `origin` and the key.
RunSummary summary_from_json(const nlohmann::json& json, const std::string& origin);

class RunFolder {
 public:
  explicit RunFolder(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const;        // dir/name
  std::string checkpoint(const std::string& name) const;  // dir/checkpoints/name
  bool holds_run() const;                                 // config.yaml exists
  bool finished() const;                                  // summary.json exists
  // Whether another process holds the folder's lock now (it is training into it).
  bool in_use() const;

  // A new run: creates the folder and checkpoints/, takes the lock and writes config.yaml. Throws smcl::Error when
  // the folder holds a run already or cannot be created.
  void create(const std::string& config_yaml);
  // A run continued: takes the lock, creates checkpoints/ where missing and removes the temporary files a killed
  // process left. Throws smcl::Error when another process holds the lock.
  void reopen();

  // config.yaml, loaded. Throws smcl::Error when the folder has none.
  config::Config config() const;
  // metrics.jsonl keeps only the lines of epochs before next_epoch: a killed run may have logged an epoch it never
  // saved.
  void keep_epochs_before(int64_t next_epoch) const;
  void append(const eval::EpochRecord& record) const;
  void write_summary(const RunSummary& summary) const;
  // summary.json; throws smcl::Error naming the file when it is missing or not a summary.
  RunSummary summary() const;
  // Sets with class names: writes classes.txt, or checks that it lists the same classes (a resumed run must see
  // the same classes, or its indices would silently mean others). `title` names the data in the error.
  void keep_class_names(const std::vector<std::string>& names, const std::string& title) const;

 private:
  void lock();
  std::string dir_;
  std::shared_ptr<int> lock_;  // the locked .lock file's descriptor, closed (and so unlocked) with the last copy
};

// The end of each epoch of fit and retrain: evaluates the model, appends the epoch to metrics.jsonl, keeps it in
// the state as last (and as best when its selection top-1 beats the best so far), saves checkpoints/best.pt (when
// best) and last.pt through `save`, and prints the epoch's line. In a process group every process evaluates and
// keeps the same state; only the main one writes and prints.
class EpochRecorder {
 public:
  // save(path): writes the caller's checkpoint (model, optimiser, state) to path. label: "epoch" or "retrain";
  // epochs: how many the run has, for the line and its time estimate.
  EpochRecorder(const RunFolder& folder, const data::LongTailedData& data, const config::Config& config,
                torch::Device device, std::function<void(const std::string&)> save, std::string label, int64_t epochs);

  // Records `epoch`, begun at epoch_start; `note` is appended to the printed line. The caller has updated the
  // state's training side (rng, counters) first, so that the checkpoints hold it.
  eval::EpochRecord record(models::Network& model, int64_t epoch, std::chrono::steady_clock::time_point epoch_start,
                           const eval::EpochTraining& training, TrainState& state, const std::string& note = "");

 private:
  const RunFolder& folder_;
  const data::LongTailedData& data_;
  const config::Config& config_;
  torch::Device device_;
  std::function<void(const std::string&)> save_;
  std::string label_;
  int64_t epochs_;
  std::chrono::steady_clock::time_point session_start_ = std::chrono::steady_clock::now();
  int64_t recorded_ = 0;  // epochs recorded in this session, for the time estimate
};

// A trained run opened for use: its config, and its network with a checkpoint's weights in eval mode, wherever it
// can run: on the first GPU where libtorch sees one, else on the CPU (a run trained on a GPU is used on a machine
// without one), without mixed precision. The network is built after torch::manual_seed(train.seed), as training
// builds it, so that what the caller draws next from libtorch's generator is the same in every session.
struct OpenRun {
  std::string dir;
  config::Config config;
  torch::Device device = torch::kCPU;
  models::Network model{nullptr};
  int64_t num_classes = 0, in_channels = 0;  // from the checkpoint: the data need not be on this machine
  int64_t epoch = -1;                        // the checkpoint's last finished epoch
  std::string checkpoint_crc32;              // the checkpoint's, as loaded (checkpoint_crc32)
  std::optional<double> temperature;         // calibration.json's for this checkpoint, when calibrated
  std::vector<std::string> class_names;      // classes.txt's, else "0", "1", ...
};

// checkpoint: "last" or "best". Throws smcl::Error naming the folder or file.
OpenRun open_run(const std::string& dir, const std::string& checkpoint);

// The resolved config saved in a run folder (run_dir/config.yaml). Throws smcl::Error when it is missing.
config::Config load_run_config(const std::string& run_dir);

// The temperature `smcl calibrate` stored in run_dir/calibration.json for `checkpoint` (last or best), if any and
// if it was fitted to that checkpoint as it is now (its CRC-32, checkpoint_crc32; from a calibration.json without
// one, its epoch): a temperature fitted before the run trained on is stale, not applied, and a warning on stderr
// says so. Throws smcl::Error naming the file when it is malformed.
std::optional<double> stored_temperature(const std::string& run_dir, const std::string& checkpoint, int64_t epoch,
                                         const std::string& crc32);

// The names of a run's `classes` classes: its classes.txt ("index name" lines, written by training for sets with
// names), the numbers "0", "1", ... where it has none. Throws smcl::Error naming a malformed line.
std::vector<std::string> read_class_names(const std::string& run_dir, size_t classes);

}  // namespace smcl::train
