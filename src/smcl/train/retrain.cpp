#include "smcl/train/retrain.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "smcl/augment/batch_transforms.h"
#include "smcl/core/error.h"
#include "smcl/core/io.h"
#include "smcl/core/progress.h"
#include "smcl/core/rng.h"
#include "smcl/core/stop.h"
#include "smcl/data/class_sampler.h"
#include "smcl/eval/evaluate.h"
#include "smcl/losses/class_weights.h"
#include "smcl/losses/classification.h"
#include "smcl/methods/method.h"
#include "smcl/train/checkpoint.h"
#include "smcl/train/fit.h"
#include "smcl/train/run_folder.h"

namespace fs = std::filesystem;

namespace smcl::train {
namespace {

namespace F = torch::nn::functional;
using Clock = std::chrono::steady_clock;

// What a killed re-training continues from: the head and the network, whose batch-norm running statistics move
// while it re-trains in training mode (retrain.bn: train).
struct ResumePointImpl : torch::nn::Module {
  ResumePointImpl(const ClassifierHead& head, const models::Network& model) {
    register_module("head", head.ptr());
    register_module("model", model.ptr());
  }
};
TORCH_MODULE(ResumePoint);

}  // namespace

ClassifierHeadImpl::ClassifierHeadImpl(const torch::Tensor& weight, const torch::Tensor& bias, bool learn_classifier) {
  auto scale = torch::ones({weight.size(0)}, weight.options());
  if (learn_classifier) {
    weight_ = register_parameter("weight", weight);
    bias_ = register_parameter("bias", bias);
    scale_ = register_buffer("scale", scale);
  } else {
    weight_ = register_buffer("weight", weight);
    bias_ = register_buffer("bias", bias);
    scale_ = register_parameter("scale", scale);
  }
}

torch::Tensor ClassifierHeadImpl::forward(const torch::Tensor& features) {
  return F::linear(features, weight_, bias_) * scale_;
}

void ClassifierHeadImpl::fold_into(models::Network& model) const {
  torch::NoGradGuard no_grad;
  model->classifier()->weight.copy_(weight_ * scale_.unsqueeze(1));
  model->classifier()->bias.copy_(bias_ * scale_);
}

void tau_normalize(torch::nn::Linear& classifier, double tau) {
  torch::NoGradGuard no_grad;
  auto& w = classifier->weight;
  w.div_(w.norm(2, 1, /*keepdim=*/true).pow(tau));
  classifier->bias.zero_();
}

void adjust_logits(torch::nn::Linear& classifier, const std::vector<int64_t>& counts, double tau) {
  torch::NoGradGuard no_grad;
  auto& bias = classifier->bias;
  bias.sub_(losses::log_prior(counts, tau).to(bias.options()));
}

torch::Tensor retrain_step(models::Network& model, ClassifierHead& head, torch::optim::Optimizer& optimizer,
                           const torch::Tensor& views, const torch::Tensor& labels) {
  torch::Tensor features;
  {
    torch::NoGradGuard no_grad;
    features = model->forward(views).features;
  }
  auto loss = F::cross_entropy(head->forward(features), labels);
  optimizer.zero_grad();
  loss.backward();
  optimizer.step();
  return loss.detach();
}

RunSummary retrain(const std::string& source_dir, const config::RetrainConfig& options, const std::string& out_dir) {
  require_one_process("smcl retrain");
  RunFolder source(source_dir);
  config::Config config = source.config();
  SMCL_CHECK(source.finished(),
             "'" << source_dir << "' is not a finished run (it has no summary.json): retrain needs its final model");
  SMCL_CHECK(config.retrain.mode == config::RetrainMode::kNone,
             "'" << source_dir << "' is itself a retrained run (retrain.mode " << config::name_of(config.retrain.mode)
                 << "); retrain the run it came from");
  SMCL_CHECK(methods::heads_of(config).cosine_scale == 0,
             "'" << source_dir << "' trained a cosine classifier (LDAM's, or BCL's: bcl.cosine_scale "
                 << config.bcl.cosine_scale << "); the retrain modes re-train or rescale a linear classifier");
  SMCL_CHECK(options.mode != config::RetrainMode::kNone,
             "retrain: the mode must be crt, lws, tau_norm or logit_adjust");
  config.retrain = options;
  for (const auto& problem : config::validate(config)) {
    throw Error("retrain: " + problem.key + ": " + problem.message);
  }
  const std::string yaml = config::to_yaml(config);
  RunFolder folder(out_dir);
  if (folder.holds_run()) {
    // Compared after loading, so a folder written before a new config key existed still matches.
    SMCL_CHECK(config::to_yaml(folder.config()) == yaml,
               "'" << out_dir << "' already holds another run or retrain; choose another --out");
    if (folder.finished()) {
      std::printf("'%s' is finished\n", out_dir.c_str());
      return folder.summary();
    }
    folder.reopen();
  } else {
    folder.create(yaml);
  }

  const auto& c = config;
  auto data = data::load_long_tailed(c.data);
  OpenRun run = open_run(source_dir, "last");
  const torch::Device device = run.device;
  models::Network& model = run.model;
  TrainState state;
  state.config_yaml = yaml;
  EpochRecorder recorder(
      folder, data, c, device, [&](const std::string& path) { save_checkpoint(path, *model, nullptr, state); },
      "retrain", options.epochs);

  const bool learns = options.mode == config::RetrainMode::kCrt || options.mode == config::RetrainMode::kLws;
  if (!learns) {
    if (options.mode == config::RetrainMode::kTauNorm) {
      tau_normalize(model->classifier(), options.tau);
    } else {
      adjust_logits(model->classifier(), data.counts, options.tau);
    }
    folder.keep_epochs_before(0);
    recorder.record(model, 0, Clock::now(), {0.0, 0.0, std::nullopt, std::nullopt, std::nullopt}, state);
  } else {
    const bool crt = options.mode == config::RetrainMode::kCrt;
    torch::Tensor weight, bias;
    if (crt) {
      // A fresh classifier as the model builds one: Kaiming-normal weights, PyTorch's default bias.
      weight = torch::empty_like(model->classifier()->weight);
      torch::nn::init::kaiming_normal_(weight);
      double bound = 1.0 / std::sqrt(double(weight.size(1)));
      bias = torch::empty_like(model->classifier()->bias).uniform_(-bound, bound);
    } else {
      weight = model->classifier()->weight.detach().clone();
      bias = model->classifier()->bias.detach().clone();
    }
    ClassifierHead head(weight, bias, crt);
    head->to(device);
    torch::optim::SGD optimizer(
        head->parameters(),
        torch::optim::SGDOptions(options.lr).momentum(c.optim.momentum).weight_decay(c.optim.weight_decay));
    Rng rng(uint64_t(c.train.seed) * 0x9E3779B97F4A7C15ULL + 2);  // its own stream, not the training run's
    const std::string resume_path = folder.checkpoint("retrain.pt");
    ResumePoint resume_point(head, model);
    if (fs::exists(resume_path)) {
      state = load_checkpoint(resume_path, *resume_point, &optimizer, device);
      rng.set_state(state.rng_state);
      std::printf("resuming retrain '%s' at epoch %lld of %lld\n", out_dir.c_str(),
                  static_cast<long long>(state.next_epoch), static_cast<long long>(options.epochs));
    }
    folder.keep_epochs_before(state.next_epoch);
    data::ClassWeightedSampler sampler(
        data.train.labels, data::class_probabilities(config::SamplerName::kClassBalanced, data.counts, 0.0, 0.0));
    const auto train = data::to_device(data.train, device);
    const int64_t n = data.train.size(), batch = c.train.batch_size;
    const int64_t steps = (n + batch - 1) / batch;
    // The backbone's parameters stay frozen either way (its forward runs without gradients); in training mode its
    // batch norm normalises with each class-balanced batch's statistics and updates its running statistics, as
    // Kang et al.'s code re-trains. Evaluation switches to eval mode and back.
    model->train(options.bn == config::RetrainBn::kTrain);
    for (int64_t epoch = state.next_epoch; epoch < options.epochs; ++epoch) {
      auto epoch_start = Clock::now();
      const double lr = 0.5 * options.lr * (1 + std::cos(M_PI * double(epoch) / double(options.epochs)));
      for (auto& group : optimizer.param_groups()) static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
      auto order = torch::tensor(sampler.sample(n, rng), torch::kInt64).to(device);
      ProgressBar bar("retrain " + std::to_string(epoch), steps);
      // Accumulated on the device: reading the loss back every step would stall a GPU.
      auto loss_sum = torch::zeros({}, torch::TensorOptions().device(device));
      int64_t seen = 0;
      for (int64_t step = 0; step < steps; ++step) {
        kill_if_debug_step(epoch * steps + step);
        stop_if_requested("at re-training epoch " + std::to_string(epoch) + ", step " + std::to_string(step) +
                          ": continue it with the same `smcl retrain` command");
        auto index = order.narrow(0, step * batch, std::min(batch, n - step * batch));
        auto views = augment::train_view(data::gather(train, index), c.augment, rng);
        auto loss = retrain_step(model, head, optimizer, views, train.labels.index_select(0, index));
        loss_sum += loss * double(index.size(0));
        seen += index.size(0);
        if (bar.enabled() && (step % 10 == 0 || step + 1 == steps)) bar.update(step + 1);
      }
      bar.finish();
      const double mean_loss = loss_sum.item<double>() / double(seen);
      SMCL_CHECK(std::isfinite(mean_loss), "the re-training loss is not finite (nan or inf) in epoch "
                                               << epoch << ": stopped, its last checkpoint is kept; lower retrain.lr");
      head->fold_into(model);
      state.train_images += seen;
      state.train_seconds += std::chrono::duration<double>(Clock::now() - epoch_start).count();
      state.rng_state = rng.state();
      recorder.record(model, epoch, epoch_start, {lr, mean_loss, std::nullopt, std::nullopt, std::nullopt}, state);
      save_checkpoint(resume_path, *resume_point, &optimizer, state);  // after last.pt: the resume point comes last
    }
  }
  RunSummary summary = make_summary(c, data, state);
  summary.retrain = RunSummary::Retrain{config::name_of(options.mode), source_dir};
  folder.write_summary(summary);
  return summary;
}

}  // namespace smcl::train
