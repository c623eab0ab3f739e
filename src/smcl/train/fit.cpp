#include "smcl/train/fit.h"

#include <torch/torch.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "smcl/core/error.h"
#include "smcl/core/io.h"
#include "smcl/core/progress.h"
#include "smcl/core/rng.h"
#include "smcl/data/datasets.h"
#include "smcl/data/long_tail.h"
#include "smcl/eval/evaluate.h"
#include "smcl/losses/class_weights.h"
#include "smcl/methods/method.h"
#include "smcl/models/resnet_cifar.h"
#include "smcl/train/checkpoint.h"
#include "smcl/train/schedule.h"

namespace fs = std::filesystem;

namespace smcl::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct EpochResult {
  double loss = 0;
  double top1 = 0;
  int64_t images = 0;
  double seconds = 0;
};

// Everything a run needs in memory; built the same way for a new and a resumed run.
struct Run {
  config::Config config;
  std::string dir;
  torch::Device device = torch::kCPU;
  data::LongTailedData data;
  models::ResNetCifar model{nullptr};
  std::unique_ptr<torch::optim::SGD> optimizer;
  std::unique_ptr<methods::Method> method;
  Rng rng;
  TrainState state;

  std::string checkpoint(const std::string& name) const { return (fs::path(dir) / "checkpoints" / name).string(); }
};

void setup(Run& run) {
  const auto& c = run.config;
  int threads = c.train.threads > 0 ? int(c.train.threads) : int(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  torch::manual_seed(uint64_t(c.train.seed));  // model initialisation
  run.device = default_device();
  run.data = data::load_long_tailed(c.data);
  run.data.train.images = run.data.train.images.to(run.device);
  run.data.train.labels = run.data.train.labels.to(run.device);
  const auto& info = data::dataset_info(c.data.name);
  run.model = methods::build_model(c, info.num_classes, run.data.train.images.size(1));
  run.model->to(run.device);
  run.optimizer = std::make_unique<torch::optim::SGD>(
      run.model->parameters(),
      torch::optim::SGDOptions(c.optim.lr).momentum(c.optim.momentum).weight_decay(c.optim.weight_decay));
  run.method = methods::make_method(c, run.data.train);
  // The data stream has its own seed derived from the run seed, independent of model initialisation.
  run.rng = Rng(uint64_t(c.train.seed) * 0x9E3779B97F4A7C15ULL + 1);
  run.state.rng_state = run.rng.state();
  run.state.config_yaml = config::to_yaml(c);
}

EpochResult train_epoch(Run& run, int64_t epoch, double lr) {
  const auto& c = run.config;
  for (auto& group : run.optimizer->param_groups()) {
    static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
  }
  auto weights = losses::class_weights_at_epoch(c.loss, run.data.counts, epoch).to(run.device);
  run.model->train();
  const int64_t n = run.data.train.size();
  auto order = torch::tensor(run.rng.permutation(n), torch::kInt64).to(run.device);
  const int64_t steps = (n + c.train.batch_size - 1) / c.train.batch_size;
  ProgressBar bar("epoch " + std::to_string(epoch), steps);
  EpochResult result;
  torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().device(run.device));
  torch::Tensor correct = torch::zeros({}, torch::TensorOptions(torch::kInt64).device(run.device));
  auto start = Clock::now();
  for (int64_t step = 0; step < steps; ++step) {
    kill_if_debug_step(epoch * steps + step);
    int64_t begin = step * c.train.batch_size;
    int64_t length = std::min(c.train.batch_size, n - begin);
    // Batch norm cannot train on one image: a last batch of one is skipped (the next shuffle differs).
    if (length < 2) break;
    auto index = order.narrow(0, begin, length);
    methods::StepInput input{run.data.train.images.index_select(0, index),
                             run.data.train.labels.index_select(0, index), weights, epoch};
    auto out = run.method->step(run.model, input, run.rng);
    run.optimizer->zero_grad();
    out.loss.backward();
    run.optimizer->step();
    // Accumulate on the device; reading values back every step would stall a GPU.
    loss_sum += out.loss.detach() * double(length);
    correct += out.logits.argmax(1).eq(input.labels).sum();
    result.images += length;
    if (bar.enabled() && (step % 10 == 0 || step + 1 == steps)) {
      bar.update(step + 1, "loss " + std::to_string(loss_sum.item<double>() / double(result.images)).substr(0, 6));
    }
  }
  bar.finish();
  result.seconds = seconds_since(start);
  result.loss = loss_sum.item<double>() / double(std::max<int64_t>(1, result.images));
  result.top1 = 100.0 * correct.item<double>() / double(std::max<int64_t>(1, result.images));
  return result;
}

nlohmann::json train_loop(Run& run) {
  const auto& c = run.config;
  const std::string metrics_path = (fs::path(run.dir) / "metrics.jsonl").string();
  truncate_metrics(metrics_path, run.state.next_epoch);
  run.rng.set_state(run.state.rng_state);
  auto session_start = Clock::now();
  const int64_t first_epoch = run.state.next_epoch;
  for (int64_t epoch = first_epoch; epoch < c.train.epochs; ++epoch) {
    auto epoch_start = Clock::now();
    double lr = learning_rate(c.optim, epoch, c.train.epochs);
    EpochResult trained = train_epoch(run, epoch, lr);
    auto metrics = eval::evaluate(run.model, run.data.test, run.data.counts, c, run.device);
    double epoch_seconds = seconds_since(epoch_start);

    nlohmann::json record = eval::to_json(metrics, /*with_confusion=*/true);
    record["epoch"] = epoch;
    nlohmann::json line = eval::to_json(metrics, false);
    line["epoch"] = epoch;
    line["lr"] = lr;
    line["train_loss"] = trained.loss;
    line["train_top1"] = trained.top1;
    line["train_images_per_second"] = double(trained.images) / trained.seconds;
    line["epoch_seconds"] = epoch_seconds;
    append_line(metrics_path, line.dump());

    run.state.next_epoch = epoch + 1;
    run.state.train_seconds += trained.seconds;
    run.state.train_images += trained.images;
    run.state.wall_seconds += epoch_seconds;
    run.state.rng_state = run.rng.state();
    run.state.last_json = record.dump();
    bool best = run.state.best_json.empty() || metrics.top1 > nlohmann::json::parse(run.state.best_json)["top1"];
    if (best) {
      run.state.best_json = record.dump();
      save_checkpoint(run.checkpoint("best.pt"), *run.model, run.optimizer.get(), run.state);
    }
    save_checkpoint(run.checkpoint("last.pt"), *run.model, run.optimizer.get(), run.state);

    double per_epoch = seconds_since(session_start) / double(epoch + 1 - first_epoch);
    auto pct = [](const std::optional<double>& v) {
      char text[16];
      if (!v) return std::string("-");
      std::snprintf(text, sizeof(text), "%.2f", *v);
      return std::string(text);
    };
    std::printf("epoch %3lld/%lld  lr %.4g  loss %.4f  train %.2f  |  top-1 %.2f  many %s  medium %s  few %s%s  |  "
                "%.0f img/s  eta %s\n",
                static_cast<long long>(epoch), static_cast<long long>(c.train.epochs), lr, trained.loss, trained.top1,
                metrics.top1, pct(metrics.many).c_str(), pct(metrics.medium).c_str(), pct(metrics.few).c_str(),
                best ? " *" : "", double(trained.images) / trained.seconds,
                format_duration(per_epoch * double(c.train.epochs - epoch - 1)).c_str());
    std::fflush(stdout);
  }
  nlohmann::json summary = run_summary(run.config, run.data, run.state);
  write_file_atomic((fs::path(run.dir) / "summary.json").string(), summary.dump(2) + "\n");
  return summary;
}

}  // namespace

void kill_if_debug_step(int64_t global_step) {
  static const char* value = std::getenv("SMCL_DEBUG_KILL_AT_STEP");
  if (value && std::atoll(value) == global_step) std::raise(SIGKILL);
}

torch::Device default_device() { return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::kCPU; }

nlohmann::json run_summary(const config::Config& c, const data::LongTailedData& data, const TrainState& state) {
  auto groups = data::shot_groups(data.counts, c.eval.many_threshold, c.eval.few_threshold);
  nlohmann::json group_classes = {{"many", nlohmann::json::array()},
                                  {"medium", nlohmann::json::array()},
                                  {"few", nlohmann::json::array()}};
  const char* names[3] = {"many", "medium", "few"};
  for (size_t k = 0; k < groups.size(); ++k) group_classes[names[groups[k]]].push_back(k);
  return {{"dataset", data::dataset_info(c.data.name).title},
          {"model", c.model.name},
          {"method", c.method.name},
          {"loss", c.loss.name},
          {"reweight", c.loss.reweight},
          {"epochs", c.train.epochs},
          {"seed", c.train.seed},
          {"last", nlohmann::json::parse(state.last_json)},
          {"best", nlohmann::json::parse(state.best_json)},
          {"best_is_selected_on_test", true},
          {"train_images_per_second", state.train_seconds > 0
                                          ? double(state.train_images) / state.train_seconds
                                          : 0.0},
          {"wall_seconds", state.wall_seconds},
          {"counts", data.counts},
          {"groups", group_classes},
          {"train_size", data.train.size()},
          {"test_size", data.test.size()}};
}

void truncate_metrics(const std::string& path, int64_t next_epoch) {
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded() && j.contains("epoch") && j["epoch"].get<int64_t>() < next_epoch) kept += line + "\n";
  }
  write_file_atomic(path, kept);
}

config::Config load_run_config(const std::string& run_dir) {
  std::string path = (fs::path(run_dir) / "config.yaml").string();
  SMCL_CHECK(fs::is_regular_file(path), "'" << run_dir << "' is not a run folder: it has no config.yaml");
  return config::load(path);
}

nlohmann::json fit(const config::Config& config, const std::string& out_dir) {
  SMCL_CHECK(config.retrain.mode == "none", "retrain.mode " << config.retrain.mode
                                                            << " is for `smcl retrain --run DIR`, not for training");
  SMCL_CHECK(!fs::exists(fs::path(out_dir) / "config.yaml"),
             "'" << out_dir << "' already holds a run; continue it with --resume " << out_dir
                 << " or choose another --out");
  Run run;
  run.config = config;
  run.dir = out_dir;
  std::error_code ec;
  fs::create_directories(fs::path(out_dir) / "checkpoints", ec);
  SMCL_CHECK(!ec, "cannot create run folder '" << out_dir << "': " << ec.message());
  setup(run);
  write_file_atomic((fs::path(out_dir) / "config.yaml").string(), run.state.config_yaml);
  return train_loop(run);
}

nlohmann::json resume(const std::string& run_dir) {
  Run run;
  run.config = load_run_config(run_dir);
  run.dir = run_dir;
  SMCL_CHECK(run.config.retrain.mode == "none",
             "'" << run_dir << "' is a classifier re-training (retrain.mode " << run.config.retrain.mode
                 << "); continue it with the `smcl retrain` command that started it");
  fs::create_directories(fs::path(run_dir) / "checkpoints");
  setup(run);
  if (fs::exists(run.checkpoint("last.pt"))) {
    run.state = load_checkpoint(run.checkpoint("last.pt"), *run.model, run.optimizer.get(), run.device);
    run.state.config_yaml = config::to_yaml(run.config);  // the folder's config.yaml is what this run follows
    std::printf("resuming '%s' at epoch %lld of %lld\n", run_dir.c_str(), static_cast<long long>(run.state.next_epoch),
                static_cast<long long>(run.config.train.epochs));
  } else {
    std::printf("'%s' has no checkpoint yet: starting it from epoch 0\n", run_dir.c_str());
  }
  return train_loop(run);
}

}  // namespace smcl::train
