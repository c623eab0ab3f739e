#include "smcl/train/fit.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "smcl/core/distributed.h"
#include "smcl/core/error.h"
#include "smcl/core/progress.h"
#include "smcl/core/rng.h"
#include "smcl/core/stop.h"
#include "smcl/core/torch_compat.h"
#include "smcl/data/datasets.h"
#include "smcl/data/long_tail.h"
#include "smcl/eval/evaluate.h"
#include "smcl/losses/class_weights.h"
#include "smcl/methods/method.h"
#include "smcl/models/network.h"
#include "smcl/train/checkpoint.h"
#include "smcl/train/cuda_graph.h"
#include "smcl/train/exchange.h"
#include "smcl/train/run_folder.h"
#include "smcl/train/schedule.h"

namespace fs = std::filesystem;

namespace smcl::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The training pass of data-parallel training: x is made of groups of group_rows images each (every view of a
// batch: [G * group_rows, ...]); this process runs only its shard of every group and returns the logits and
// projections of all of x, gathered from every process. The gradient flows into this process's shard only,
// which is exact when every process computes the same loss from them (the gradients are then summed).
models::Output sharded_forward(models::Network& network, const torch::Tensor& x, int64_t group_rows) {
  const int64_t n = x.size(0), b = group_rows;
  SMCL_ASSERT(n % b == 0, "sharded forward: " << n << " images are not groups of " << b);
  auto [first, count] = dist::shard_of(b, dist::rank(), dist::world_size());
  auto rows = (torch::arange(first, n, b, torch::kInt64).unsqueeze(1) + torch::arange(count, torch::kInt64))
                  .reshape(-1)
                  .to(x.device());
  // The shard in x's own strides (index_select's are NCHW): a one-channel batch made by a permute has
  // channels_last strides too, and convolutions pick their kernels by them; the same kernels as on all of x keep
  // the numbers those of one process.
  auto shard = torch::empty_like(x.narrow(0, 0, rows.size(0)));
  shard.copy_(x.index_select(0, rows));
  auto local = network->forward(shard);
  models::Output out;
  out.logits = dist::gather_rows(local.logits, rows, n);
  if (local.projection.defined()) out.projection = dist::gather_rows(local.projection, rows, n);
  return out;
}

// One step's prepared work and what the training thread needs besides it.
struct PreparedBatch {
  methods::PreparedStep step;
  torch::Tensor labels;  // [B] source labels, for the training accuracy
};

// Makes batch 0, 1, ... count - 1 on a background thread, at most `depth` ahead of the training thread, and
// hands them out in order; inline, one at a time, without `background`. Making them in order on one thread keeps
// every random draw in the same order either way, so prefetching never changes a run's numbers.
class PrefetchQueue {
 public:
  PrefetchQueue(std::function<PreparedBatch(int64_t)> make, int64_t count, bool background, size_t depth = 2)
      : make_(std::move(make)), count_(count), depth_(depth) {
    if (background) thread_ = std::thread([this] { work(); });
  }

  ~PrefetchQueue() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  PrefetchQueue(const PrefetchQueue&) = delete;
  PrefetchQueue& operator=(const PrefetchQueue&) = delete;

  // The next batch; rethrows, on the training thread, whatever making it threw.
  PreparedBatch next() {
    if (!thread_.joinable()) return make_(taken_++);
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return !ready_.empty() || error_; });
    if (ready_.empty()) std::rethrow_exception(error_);
    PreparedBatch batch = std::move(ready_.front());
    ready_.pop_front();
    ++taken_;
    changed_.notify_all();
    return batch;
  }

 private:
  void work() {
    // One intra-op thread here. With libtorch's default, this thread's tensor operations start their own OpenMP
    // team, which competes with the training thread's for the same cores (measured: 11% slower SMCL steps on
    // 2 cores); single-threaded, batch preparation only fills the gaps.
    torch::set_num_threads(1);
    torch::NoGradGuard no_grad;
    for (int64_t i = 0; i < count_; ++i) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return stop_ || ready_.size() < depth_; });
        if (stop_) return;
      }
      try {
        PreparedBatch batch = make_(i);
        std::lock_guard<std::mutex> lock(mutex_);
        ready_.push_back(std::move(batch));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        error_ = std::current_exception();
        changed_.notify_all();
        return;
      }
      changed_.notify_all();
    }
  }

  std::function<PreparedBatch(int64_t)> make_;
  int64_t count_;
  size_t depth_;
  int64_t taken_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<PreparedBatch> ready_;
  std::exception_ptr error_;
  bool stop_ = false;
  std::thread thread_;
};

// Everything a run needs in memory; built the same way for a new and a resumed run.
struct Run {
  config::Config config;
  RunFolder folder{""};
  torch::Device device = torch::kCPU;
  data::LongTailedData data;
  models::Network model{nullptr};
  std::unique_ptr<FusedSgd> optimizer;
  std::unique_ptr<methods::Method> method;
  std::unique_ptr<StepRunner> runner;
  Rng rng;
  TrainState state;
};

// fresh: a new run (model.init_from applies); a resumed run's weights come from its checkpoint instead.
void setup(Run& run, bool fresh) {
  const auto& c = run.config;
  run.device = setup_execution(c.train);
  join_process_group(c.train, run.device);
  torch::manual_seed(uint64_t(c.train.seed));  // model initialisation
  run.data = data::load_long_tailed(c.data);
  run.data.train = data::to_device(run.data.train, run.device);
  run.model = methods::build_model(c, run.data.train.num_classes, run.data.train.channels());
  if (fresh && !c.model.init_from.empty()) {
    auto report = load_state_dict(*run.model, read_state_dict(c.model.init_from), c.model.init_from);
    if (dist::is_main())
      std::printf("model.init_from '%s': %s\n", c.model.init_from.c_str(), report.describe().c_str());
  }
  run.model->to(run.device);
  if (c.train.channels_last) run.model->use_channels_last();
  if (dist::active()) {
    run.model->synchronize_batch_norm(c.train.sync_bn);
    // Every process starts from rank 0's weights (they are equal already when initialised from the same seed).
    std::vector<torch::Tensor> state;
    for (const auto& p : run.model->parameters()) state.push_back(p.detach());
    for (const auto& b : run.model->buffers()) state.push_back(b);
    dist::broadcast_(state);
  }
  // The method after the model: a method's own parameters are initialised after the network's.
  run.method = methods::make_method(c, run.data.train, &run.model);
  auto parameters = run.model->parameters();
  if (auto own = run.method->module()) {
    // Buffers alone (GPaCo's queue) stay equal in every process: each updates them from the whole batch.
    SMCL_CHECK(!dist::active() || own->parameters().empty(),
               "method " << config::name_of(c.method.name) << " has parameters of its own, which data-parallel "
                         << "training does not share out yet; train it in one process");
    own->to(run.device);
    own->train();
    for (const auto& p : own->parameters()) parameters.push_back(p);
  }
  run.optimizer = std::make_unique<FusedSgd>(
      parameters, torch::optim::SGDOptions(c.optim.lr).momentum(c.optim.momentum).weight_decay(c.optim.weight_decay),
      fuses_sgd(c.train.fused_sgd, run.device));
  run.runner = std::make_unique<StepRunner>(run.model, *run.optimizer, *run.method, c.train, run.device);
  // The data stream has its own seed derived from the run seed, independent of model initialisation.
  run.rng = Rng(uint64_t(c.train.seed) * 0x9E3779B97F4A7C15ULL + 1);
  run.state.rng_state = run.rng.state();
  run.state.config_yaml = config::to_yaml(c);
}

// checkpoints/<name>: the model, the optimiser, the method's own module and the state.
void save_run_checkpoint(Run& run, const std::string& path) {
  save_checkpoint(path, *run.model, run.optimizer.get(), run.state, run.method->module().get());
}

StepsResult train_epoch(Run& run, int64_t epoch, double lr) {
  const auto& c = run.config;
  for (auto& group : run.optimizer->param_groups()) {
    static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
  }
  auto weights = losses::class_weights_at_epoch(c.loss, run.data.counts, epoch).to(run.device);
  run.model->train();
  run.method->start_epoch(epoch);
  const int64_t n = run.data.train.size();
  auto order = torch::tensor(run.rng.permutation(n), torch::kInt64).to(run.device);
  const int64_t steps = (n + c.train.batch_size - 1) / c.train.batch_size;
  ProgressBar bar("epoch " + std::to_string(epoch), dist::is_main() ? steps : 0);
  auto result = run.runner->run(
      run.data.train, order, weights, epoch, run.rng,
      [&](int64_t step) {
        kill_if_debug_step(epoch * steps + step);
        stop_if_requested("at epoch " + std::to_string(epoch) + ", step " + std::to_string(step) + ": '" +
                          run.folder.dir() + "' keeps its checkpoint of " + std::to_string(epoch) +
                          " finished epochs; continue it with `smcl train --resume " + run.folder.dir() + "`");
      },
      [&](int64_t done, int64_t, double loss) {
        if (bar.enabled()) bar.update(done, "loss " + std::to_string(loss).substr(0, 6));
      });
  bar.finish();
  return result;
}

RunSummary train_loop(Run& run) {
  const auto& c = run.config;
  // In a process group every process trains, evaluates and keeps the same state; rank 0 alone writes and prints.
  const bool main = dist::is_main();
  if (main) run.folder.keep_epochs_before(run.state.next_epoch);
  run.rng.set_state(run.state.rng_state);
  if (run.state.loss_scale > 0) run.runner->scaler().set_value(run.state.loss_scale);
  EpochRecorder recorder(
      run.folder, run.data, c, run.device, [&run](const std::string& path) { save_run_checkpoint(run, path); }, "epoch",
      c.train.epochs);
  for (int64_t epoch = run.state.next_epoch; epoch < c.train.epochs; ++epoch) {
    auto epoch_start = Clock::now();
    const double lr = learning_rate(c.optim, epoch, c.train.epochs);
    StepsResult trained = train_epoch(run, epoch, lr);
    run.state.train_seconds += trained.seconds;
    run.state.train_images += trained.images;
    run.state.rng_state = run.rng.state();
    run.state.loss_scale = run.runner->scaler().value();
    std::string note;
    if (trained.skipped) note += "  (" + std::to_string(trained.skipped) + " fp16 steps skipped)";
    if (trained.replayed) {
      note += "  (CUDA graphs: " + std::to_string(trained.replayed) + " of " + std::to_string(trained.steps) +
              " steps replayed)";
    }
    recorder.record(run.model, epoch, epoch_start,
                    {lr, trained.loss, trained.top1, double(trained.images) / trained.seconds, std::nullopt}, run.state,
                    note);
  }
  RunSummary summary = make_summary(run.config, run.data, run.state);
  if (main) run.folder.write_summary(summary);
  dist::barrier();  // the others leave only once rank 0 has written everything
  return summary;
}

}  // namespace

void kill_if_debug_step(int64_t global_step) {
  static const char* value = std::getenv("SMCL_DEBUG_KILL_AT_STEP");
  static const char* rank = std::getenv("SMCL_DEBUG_KILL_RANK");      // in a process group: only this rank
  static const char* signal = std::getenv("SMCL_DEBUG_KILL_SIGNAL");  // another signal than SIGKILL, by number
  if (value && std::atoll(value) == global_step && (!rank || std::atoll(rank) == dist::rank())) {
    std::raise(signal ? std::atoi(signal) : SIGKILL);
  }
}

torch::Device setup_execution(const config::TrainConfig& train) {
  // All cores by default, shared out among the processes a launcher started on this machine.
  const auto launch = dist::launch_info_from_environment();
  const int64_t cores = std::max<int64_t>(1, int64_t(std::thread::hardware_concurrency()));
  int threads = int(std::max<int64_t>(1, cores / launch.local_world_size));
  if (train.threads > cores) {
    // More threads than cores only make them wait on each other (thousands make no progress at all).
    std::fprintf(stderr, "warning: train.threads %lld is more than this machine's %lld cores; using %lld\n",
                 static_cast<long long>(train.threads), static_cast<long long>(cores), static_cast<long long>(cores));
    threads = int(cores);
  } else if (train.threads > 0) {
    threads = int(train.threads);
  }
  torch::set_num_threads(threads);
  // libtorch settles each thread's count at its first parallel kernel, from the latest set_num_threads of any
  // thread; run one now, so that the prefetch thread's own setting of 1 cannot reach the training thread.
  torch::ones({1 << 17}).sum();
  const bool cuda = torch::cuda::is_available();
  SMCL_CHECK(train.device != config::DeviceName::kCuda || cuda,
             "train.device is cuda, but this libtorch has no CUDA or sees no GPU (Debian's libtorch is CPU-only: "
             "configure with -DCMAKE_PREFIX_PATH=<torch.utils.cmake_prefix_path of a CUDA PyTorch>, see README)");
  // One GPU per process of a launch: LOCAL_RANK's.
  torch::Device device = train.device == config::DeviceName::kCpu || !cuda
                             ? torch::Device(torch::kCPU)
                             : torch::Device(torch::kCUDA, c10::DeviceIndex(launch.local_rank));
  SMCL_CHECK(train.amp != config::Amp::kFp16 || device.is_cuda(),
             "train.amp is fp16, which needs a CUDA device (this run is on the CPU; use bf16 or none)");
  return device;
}

void join_process_group(const config::TrainConfig& train, const torch::Device& device) {
  const auto launch = dist::launch_info_from_environment();
  if (launch.world_size == 1 || dist::active()) return;
  std::string backend = config::name_of(train.distributed_backend);
  if (train.distributed_backend == config::Backend::kAuto) backend = device.is_cuda() ? "nccl" : "gloo";
  dist::init(launch, backend, std::chrono::seconds(train.distributed_timeout));
  if (dist::is_main()) {
    std::printf("data-parallel: %lld processes (%s), global batch %lld%s\n", static_cast<long long>(launch.world_size),
                backend.c_str(), static_cast<long long>(train.batch_size),
                train.sync_bn ? ", synchronised batch norm" : "");
  }
}

void require_one_process(const std::string& command) {
  const auto launch = dist::launch_info_from_environment();
  SMCL_CHECK(launch.world_size == 1, command << " runs in one process (WORLD_SIZE is " << launch.world_size
                                             << "); only `smcl train` runs data-parallel");
}

bool LossScaler::unscale_and_update(torch::optim::Optimizer& optimizer) {
  torch::NoGradGuard no_grad;
  torch::Tensor bad;
  for (auto& group : optimizer.param_groups()) {
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      p.grad().div_(scale_);
      auto count = p.grad().isfinite().logical_not().sum();
      bad = bad.defined() ? bad + count : count;
    }
  }
  const bool finite = !bad.defined() || bad.item<int64_t>() == 0;
  if (!finite) {
    scale_ *= 0.5;
    clean_steps_ = 0;
  } else if (++clean_steps_ == growth_interval_) {
    scale_ *= 2.0;
    clean_steps_ = 0;
  }
  return finite;
}

StepRunner::StepRunner(models::Network model, FusedSgd& optimizer, const methods::Method& method,
                       const config::TrainConfig& train, torch::Device device)
    : model_(std::move(model)), optimizer_(optimizer), method_(method), train_(train), device_(device) {
  // A graph replays one process's work; the collectives of data-parallel training are not in it.
  const bool can_capture = device_.is_cuda() && cuda_graphs_available() && !dist::active();
  if (train_.cuda_graphs == config::Switch::kOn && device_.is_cuda()) {
    SMCL_CHECK(cuda_graphs_available(),
               "train.cuda_graphs is on, but this build cannot capture CUDA graphs (it needs "
               "a CUDA libtorch of PyTorch 2.1 or later); use auto or off");
    SMCL_CHECK(!dist::active(),
               "train.cuda_graphs is on, but a data-parallel run is not captured as CUDA graphs; "
               "use auto or off");
  }
  const bool static_steps =
      train_.cuda_graphs == config::Switch::kOn || (train_.cuda_graphs == config::Switch::kAuto && can_capture);
  if (static_steps) {
    // What a graph reads and writes in place: every parameter the optimiser updates, its gradient, and the
    // buffers of the model and of the method's own module.
    auto state = [this] {
      std::vector<torch::Tensor> tensors;
      for (const auto& group : optimizer_.param_groups()) {
        for (const auto& p : group.params()) {
          tensors.push_back(p);
          tensors.push_back(p.grad());
        }
      }
      for (const auto& b : model_->buffers()) tensors.push_back(b);
      if (auto own = method_.module()) {
        for (const auto& b : own->buffers()) tensors.push_back(b);
      }
      return tensors;
    };
    GraphMaker make_graph;
    if (graph_maker_for_tests()) {
      make_graph = graph_maker_for_tests();
    } else if (can_capture) {
      make_graph = [device = device_] { return std::make_unique<CudaGraph>(device); };
    }
    static_steps_ = std::make_unique<StaticSteps>(device_, make_graph, state);
  }
  if (train_.amp == config::Amp::kFp16) loss_scale_ = torch::zeros({}, torch::TensorOptions().device(device_));
}

StepsResult StepRunner::run(const data::Dataset& train, const torch::Tensor& order, const torch::Tensor& class_weights,
                            int64_t epoch, Rng& rng, const std::function<void(int64_t)>& before_step,
                            const std::function<void(int64_t, int64_t, double)>& progress) {
  const int64_t n = order.size(0), batch = train_.batch_size, world = dist::world_size();
  // Batch norm cannot train on one image: a last batch of one is skipped (the next shuffle differs); in a
  // process group, so is a last batch that leaves a process without an image.
  const int64_t steps = n / batch + (n % batch >= std::max<int64_t>(2, world) ? 1 : 0);
  SMCL_CHECK(batch >= world, "train.batch_size " << batch << " is smaller than the " << world
                                                 << " processes: it is the global batch, shared out among them");
  PrefetchQueue queue(
      [&](int64_t step) {
        auto index = order.narrow(0, step * batch, std::min(batch, n - step * batch));
        methods::StepInput input{data::gather(train, index), train.labels.index_select(0, index), class_weights, epoch};
        return PreparedBatch{method_.prepare(input, rng), input.labels};
      },
      steps, train_.prefetch);
  const bool amp = train_.amp != config::Amp::kNone;
  const bool fp16 = train_.amp == config::Amp::kFp16;
  StepsResult result;
  // Accumulated on the device; reading values back every step would stall a GPU.
  auto loss_sum = torch::zeros({}, torch::TensorOptions().device(device_));
  auto correct = torch::zeros({}, torch::TensorOptions(torch::kInt64).device(device_));
  // The first step whose loss is not finite (-1: none), kept on the device and read where the loop syncs anyway.
  // With fp16 the loss scaler's skipped steps are allowed instead, up to kMaxSkippedInARow in a row.
  auto first_nonfinite = torch::full({}, -1, torch::TensorOptions(torch::kInt64).device(device_));
  int64_t skipped_in_a_row = 0;
  auto check_finite = [&] {
    const int64_t bad = first_nonfinite.item<int64_t>();
    SMCL_CHECK(bad < 0, "the training loss is not finite (nan or inf) at epoch "
                            << epoch << ", step " << bad << " of " << steps
                            << ": the run stops here and its last checkpoint (of an earlier epoch) is kept; lower "
                               "optim.lr or check the data");
  };
  // Data-parallel (dist::active()): every process prepares the whole global batch, with the same draws as one
  // process would make, runs the model on its shard of every view group (sharded_forward), computes
  // the same loss from the gathered outputs, and the gradients are summed. Without synchronised batch norm each
  // process's running statistics are replaced by rank 0's before every step, as DistributedDataParallel does.
  const bool data_parallel = dist::active();
  std::vector<torch::Tensor> parameters = model_->parameters(), buffers;
  if (data_parallel && !train_.sync_bn) buffers = model_->buffers();
  const int64_t replayed_before = static_steps_ ? static_steps_->replayed() : 0;
  auto start = Clock::now();
  for (int64_t step = 0; step < steps; ++step) {
    if (before_step) before_step(step);
    PreparedBatch batch_in = queue.next();
    methods::StepModel step_model(model_);
    if (data_parallel) {
      const int64_t group_rows = batch_in.labels.size(0);
      step_model = methods::StepModel(
          model_, [this, group_rows](const torch::Tensor& x) { return sharded_forward(model_, x, group_rows); });
      dist::broadcast_(buffers);
    }
    if (fp16) loss_scale_.fill_(scaler_.value());
    // Forward and loss under autocast, then backward: the part of a step a CUDA graph replays.
    auto forward_backward = [&](const methods::PreparedStep::Run& run_step,
                                const methods::PreparedStep::Inputs& inputs) {
      methods::StepOutput out;
      {
        AutocastScope autocast(device_.type(), fp16 ? torch::kHalf : torch::kBFloat16, amp);
        out = run_step(step_model, inputs);
      }
      (fp16 ? out.loss * loss_scale_ : out.loss).backward();
      out.loss = out.loss.detach();
      return out;
    };
    optimizer_.zero_gradients();
    methods::StepOutput out = static_steps_ ? static_steps_->run(batch_in.step, forward_backward)
                                            : forward_backward(batch_in.step.run, batch_in.step.inputs);
    dist::sum_gradients(parameters);
    if (!fp16) {
      first_nonfinite.masked_fill_(first_nonfinite.lt(0).logical_and(out.loss.isfinite().logical_not()), step);
      optimizer_.step();
    } else if (scaler_.unscale_and_update(optimizer_)) {
      skipped_in_a_row = 0;
      optimizer_.step();
    } else {
      ++result.skipped;
      SMCL_CHECK(++skipped_in_a_row <= kMaxSkippedInARow,
                 "the training loss or its gradients stayed non-finite for "
                     << kMaxSkippedInARow << " fp16 steps in a row (loss scale now " << scaler_.value() << ") at epoch "
                     << epoch << ", step " << step
                     << ": the run stops here and its last checkpoint is kept; lower optim.lr");
    }
    const int64_t length = batch_in.labels.size(0);
    loss_sum += out.loss.to(torch::kFloat) * double(length);
    correct += out.logits.argmax(1).eq(batch_in.labels).sum();
    result.images += length;
    result.views += out.views;
    ++result.steps;
    if (progress && (step % 10 == 0 || step + 1 == steps)) {
      check_finite();
      progress(step + 1, steps, loss_sum.item<double>() / double(result.images));
    }
  }
  check_finite();
  if (static_steps_) result.replayed = static_steps_->replayed() - replayed_before;
  result.seconds = seconds_since(start);
  result.loss = loss_sum.item<double>() / double(std::max<int64_t>(1, result.images));
  result.top1 = 100.0 * correct.item<double>() / double(std::max<int64_t>(1, result.images));
  return result;
}

const std::vector<std::string> kExecutionKeys = {"train.threads",       "train.prefetch",  "train.cuda_graphs",
                                                 "data.decode_threads", "eval.batch_size", "train.distributed.timeout"};
const std::vector<std::string> kResumableKeys = [] {
  auto keys = kExecutionKeys;
  keys.insert(keys.begin(), "train.epochs");
  return keys;
}();

std::vector<std::string> differing_keys_except(const config::Config& a, const config::Config& b,
                                               const std::vector<std::string>& allowed) {
  std::vector<std::string> changed;
  for (const auto& key : config::differing_keys(a, b)) {
    const std::string name = key.substr(0, key.find(' '));
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) changed.push_back(key);
  }
  return changed;
}

// The run folder's config.yaml must be the config the checkpoint was trained with, but for kResumableKeys.
void check_resumable_config(const config::Config& folder, const std::string& checkpoint_yaml,
                            const std::string& checkpoint) {
  const auto stored = config::parse(checkpoint_yaml, "the config stored in '" + checkpoint + "'");
  const auto changed = differing_keys_except(stored, folder, kResumableKeys);
  if (changed.empty()) return;
  std::string list;
  for (const auto& key : changed) list += "\n  " + key;
  std::string allowed;
  for (const auto& key : kResumableKeys) allowed += (allowed.empty() ? "" : ", ") + key;
  throw Error("config.yaml beside '" + checkpoint + "' differs from the config that checkpoint was trained with " +
              "(checkpoint -> config.yaml):" + list + "\nonly " + allowed +
              " may change on resume; restore config.yaml, or train a new run");
}

RunSummary fit(const config::Config& config, const std::string& out_dir) {
  SMCL_CHECK(
      config.retrain.mode == config::RetrainMode::kNone,
      "retrain.mode " << config::name_of(config.retrain.mode) << " is for `smcl retrain --run DIR`, not for training");
  Run run;
  run.config = config;
  run.folder = RunFolder(out_dir);
  SMCL_CHECK(!run.folder.holds_run(), "'" << out_dir << "' already holds a run; continue it with --resume " << out_dir
                                          << " or choose another --out");
  setup(run, /*fresh=*/true);  // joins the process group: every process has checked the folder by now
  if (dist::is_main()) {
    run.folder.create(run.state.config_yaml);
    run.folder.keep_class_names(run.data.class_names, data::dataset_title(config.data));
  }
  return train_loop(run);
}

RunSummary resume(const std::string& run_dir, const std::string& from) {
  SMCL_CHECK(from == "last" || from == "best", "--from is last or best, not '" << from << "'");
  Run run;
  run.folder = RunFolder(run_dir);
  run.config = run.folder.config();
  SMCL_CHECK(run.config.retrain.mode == config::RetrainMode::kNone,
             "'" << run_dir << "' is a classifier re-training (retrain.mode "
                 << config::name_of(run.config.retrain.mode)
                 << "); continue it with the `smcl retrain` command that started it");
  const std::string checkpoint = run.folder.checkpoint(from + ".pt");
  const bool started = fs::exists(run.folder.checkpoint("last.pt")) || fs::exists(checkpoint);
  SMCL_CHECK(from == "last" || fs::exists(checkpoint), "'" << checkpoint << "' does not exist");
  setup(run, /*fresh=*/!started);  // joins the process group: only then is rank 0 known
  if (dist::is_main()) {
    run.folder.reopen();
    run.folder.keep_class_names(run.data.class_names, data::dataset_title(run.config.data));
  }
  if (started) {
    // A checkpoint that cannot be read: best.pt may still be, which the message offers.
    auto unreadable = [&](const Error& e) {
      const bool other = from == "last" && fs::exists(run.folder.checkpoint("best.pt"));
      return Error(std::string(e.what()) +
                   (other ? "\nresume from the best checkpoint instead (the epochs after it are trained again): "
                            "smcl train --resume " +
                                run_dir + " --from best"
                          : ""));
    };
    std::string trained_with;
    try {
      trained_with = read_checkpoint_config(checkpoint);
    } catch (const Error& e) {
      throw unreadable(e);
    }
    // The config first: an edited key (model.name, say) is named, not taken for a corrupt checkpoint.
    check_resumable_config(run.config, trained_with, checkpoint);
    try {
      run.state = load_checkpoint(checkpoint, *run.model, run.optimizer.get(), run.device, run.method->module().get());
    } catch (const Error& e) {
      throw unreadable(e);
    }
    if (run.config.train.channels_last) run.model->use_channels_last();  // loading adopts the saved layout
    run.state.config_yaml = config::to_yaml(run.config);  // the folder's config.yaml is what this run follows
    // From best: the run is now the best checkpoint's, and last.pt (corrupt, or later) must say so at once.
    if (from == "best" && dist::is_main()) {
      save_run_checkpoint(run, run.folder.checkpoint("last.pt"));
    }
    if (dist::is_main()) {
      std::printf("resuming '%s' at epoch %lld of %lld%s\n", run_dir.c_str(),
                  static_cast<long long>(run.state.next_epoch), static_cast<long long>(run.config.train.epochs),
                  from == "best" ? " (from its best checkpoint)" : "");
    }
  } else {
    if (dist::is_main()) std::printf("'%s' has no checkpoint yet: starting it from epoch 0\n", run_dir.c_str());
  }
  return train_loop(run);
}

}  // namespace smcl::train
