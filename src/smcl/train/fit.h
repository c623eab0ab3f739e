// The training loop in layers: StepRunner (the steps of an epoch), train_epoch (one pass over the sampled batches),
// and fit / resume, which train into a run folder (train/run_folder.h) and end each epoch with its EpochRecorder.
// Resuming continues from checkpoints/last.pt and ends exactly where the uninterrupted run would.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "smcl/config/config.h"
#include "smcl/core/rng.h"
#include "smcl/data/datasets.h"
#include "smcl/methods/method.h"
#include "smcl/models/network.h"
#include "smcl/train/checkpoint.h"
#include "smcl/train/fused_sgd.h"
#include "smcl/train/run_folder.h"
#include "smcl/train/static_step.h"

namespace smcl::train {

// Applies train.threads (0: all cores) to libtorch and resolves train.device: auto is the first CUDA device
// when libtorch has CUDA and sees a GPU, else the CPU. Throws smcl::Error for cuda without CUDA, and for an amp
// mode the device cannot run.
// In a process group, every process's threads share its machine's cores (LOCAL_WORLD_SIZE), and its device is
// GPU LOCAL_RANK.
torch::Device setup_execution(const config::TrainConfig& train);

// Joins the process group when the environment says this is one process of several (WORLD_SIZE > 1, see
// core/distributed.h), with train.distributed.backend (auto: nccl for a CUDA device, else gloo). A no-op for
// one process or once joined.
void join_process_group(const config::TrainConfig& train, const torch::Device& device);

// Throws smcl::Error when launched as one of several processes: `command` (eval, retrain, sweep) runs in one.
void require_one_process(const std::string& command);

// Keeps fp16 gradients finite (train.amp fp16): the loss is multiplied by the scale before backward (by the step
// runner) and the gradients divided by it after; a step with a non-finite gradient is skipped and the scale halved, and
// after `growth_interval` clean steps in a row it doubles (torch.cuda.amp.GradScaler's rule and defaults).
class LossScaler {
 public:
  explicit LossScaler(double scale = 65536.0, int64_t growth_interval = 2000)
      : scale_(scale), growth_interval_(growth_interval) {}
  // Divides the optimiser's gradients by the scale; returns whether all of them are finite (one device sync),
  // and updates the scale accordingly.
  bool unscale_and_update(torch::optim::Optimizer& optimizer);
  double value() const { return scale_; }
  void set_value(double scale) { scale_ = scale; }

 private:
  double scale_;
  int64_t growth_interval_;
  int64_t clean_steps_ = 0;
};

// What a pass of training steps did.
struct StepsResult {
  double loss = 0;       // mean training loss per source image
  double top1 = 0;       // training top-1 (%) of the first source view
  int64_t images = 0;    // source images trained on
  int64_t views = 0;     // images through the model, every view counted
  int64_t skipped = 0;   // steps skipped by the fp16 loss scaler
  int64_t steps = 0;     // training steps taken
  int64_t replayed = 0;  // of them, steps replayed from a CUDA graph (train.cuda_graphs)
  double seconds = 0;
};

// fp16 steps the loss scaler may skip in a row before a run is stopped as diverged: each halves the scale, so
// by then no scale makes the gradients finite.
constexpr int64_t kMaxSkippedInARow = 50;

// Training steps as every run takes them: the method prepares each batch (gather, augmentation, saliency; on a
// background thread one step ahead with train.prefetch), the training thread runs forward and loss under
// train.amp, backward and the SGD update (fused or not, as the optimiser was made). With train.cuda_graphs the
// forward, loss and backward run from fixed buffers (train/static_step.h): on CUDA (auto: in one process)
// captured as graphs and replayed, on the CPU (on) eagerly. fit and the benchmarks share it.
class StepRunner {
 public:
  // Throws smcl::Error for train.cuda_graphs on where graphs cannot be captured (a build without them, a
  // process group on CUDA).
  StepRunner(models::Network model, FusedSgd& optimizer, const methods::Method& method,
             const config::TrainConfig& train, torch::Device device);

  // Trains on train's images in `order` ([N] int64 on the device), train.batch_size per step; a last batch of
  // one image is skipped (batch norm cannot train on it), and in a process group one smaller than the number
  // of processes. Data-parallel when core/distributed.h's group is active (see the comment in run()).
  // before_step(i) runs on the training thread before step i; progress(i + 1, steps, mean loss so far) after
  // some steps, when given. A non-finite loss (or, with fp16, kMaxSkippedInARow skipped steps in a row) throws
  // smcl::Error naming the epoch and step.
  StepsResult run(const data::Dataset& train, const torch::Tensor& order, const torch::Tensor& class_weights,
                  int64_t epoch, Rng& rng, const std::function<void(int64_t)>& before_step = {},
                  const std::function<void(int64_t, int64_t, double)>& progress = {});

  LossScaler& scaler() { return scaler_; }

 private:
  models::Network model_;
  FusedSgd& optimizer_;
  const methods::Method& method_;
  config::TrainConfig train_;
  torch::Device device_;
  LossScaler scaler_;
  torch::Tensor loss_scale_;                   // fp16: the scaler's value on the device, read by captured steps
  std::unique_ptr<StaticSteps> static_steps_;  // train.cuda_graphs; null: every step eagerly as prepared
};

// Trains `config` (resolved) into run folder `out_dir`, which must not hold a run yet. Returns its summary.
RunSummary fit(const config::Config& config, const std::string& out_dir);

// The config keys that say how a run runs, not what it computes (threads, prefetching, CUDA graphs, evaluation
// batches, the process group's timeout): a run folder trained with other values holds the same run. (Another
// train.threads may still round differently; a run's numbers are those of the value its config.yaml records.)
extern const std::vector<std::string> kExecutionKeys;
// The keys a resumed run may change: kExecutionKeys and train.epochs, which extends a run.
extern const std::vector<std::string> kResumableKeys;

// The keys, other than `allowed`, whose values differ between a and b, as config::differing_keys words them.
std::vector<std::string> differing_keys_except(const config::Config& a, const config::Config& b,
                                               const std::vector<std::string>& allowed);

// Continues the run in `run_dir` from its last checkpoint (`from` "best": from its best one, training the epochs
// after it again); a finished run just returns its summary. Temporary files of a killed process are removed
// first. The folder's config.yaml must match the checkpoint's config but for the keys that may change on
// resume (train.epochs, train.threads, train.prefetch, train.cuda_graphs, data.decode_threads, eval.batch_size,
// train.distributed.timeout); otherwise an smcl::Error lists the differing keys.
RunSummary resume(const std::string& run_dir, const std::string& from = "last");

// Tests kill a run with SIGKILL at a chosen global step (environment SMCL_DEBUG_KILL_AT_STEP) to check that
// resume loses nothing (SMCL_DEBUG_KILL_SIGNAL: another signal, e.g. 15 for SIGTERM, to test a clean stop);
// training and retraining call this before each step.
void kill_if_debug_step(int64_t global_step);

}  // namespace smcl::train
