// What saliency and masking cost inside an SMCL step (issue 3, item 9), and how much faster the batched
// fine-grained saliency is than OpenCV called image by image.
//
//   build/bench/smcl_bench_saliency [--batch 256] [--repeats 5] [--threads N (0: all cores)] [--json FILE]
//
// On a generated long-tailed CIFAR-shaped set (3x32x32, 100 classes) with ResNet-32: the median time of a
// whole SMCL training step with the masked sample (five groups forward and backward, SGD update), of the
// saliency + box + masked-image part alone on the same batch, and of OpenCV's StaticSaliencyFineGrained over the
// batch one image at a time. Repetitions are interleaved so that all three see the same machine state.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "smcl/augment/batch_transforms.h"
#include "smcl/augment/masking.h"
#include "smcl/core/allocator.h"
#include "smcl/methods/smcl.h"
#include "smcl/saliency/saliency.h"

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

template <typename F>
double seconds(F&& f) {
  auto start = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  smcl::keep_freed_memory();
  int64_t batch = 256, repeats = 5, threads = 0;
  std::string json_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--batch"))
      batch = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--repeats"))
      repeats = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads"))
      threads = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--json"))
      json_path = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: %s [--batch N] [--repeats N] [--threads N] [--json FILE]\n", argv[0]);
      return 2;
    }
  }
  torch::set_num_threads(threads > 0 ? int(threads) : int(std::max(1u, std::thread::hardware_concurrency())));
  torch::manual_seed(0);

  // A long-tailed CIFAR-100-shaped training set (ratio 100, 500 images for the largest class).
  smcl::data::Dataset train;
  std::vector<int64_t> labels;
  for (int64_t k = 0; k < 100; ++k) {
    auto n = int64_t(500.0 * std::pow(0.01, double(k) / 99.0));
    labels.insert(labels.end(), size_t(n), k);
  }
  train.labels = torch::tensor(labels);
  train.images = torch::randint(0, 256, {train.labels.size(0), 3, 32, 32}, torch::kInt64).to(torch::kUInt8);
  train.num_classes = 100;

  smcl::config::Config config;
  config.method.name = smcl::config::MethodName::kSmcl;
  config.smcl.mask_start_epoch = 0;
  config.smcl.mask_prob = 1.0;  // every step carries the masked sample
  config.augment.mean = {0.4914, 0.4822, 0.4465};
  config.augment.std = {0.2023, 0.1994, 0.2010};
  auto model = smcl::models::make_model(smcl::config::ModelName::kResNet32, 100, 3, {smcl::models::kSupConHead});
  model->train();
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9).weight_decay(2e-4));
  smcl::methods::Smcl method(config, train);
  smcl::Rng rng(1);
  auto source = train.images.narrow(0, 0, batch);
  auto source_labels = train.labels.narrow(0, 0, batch);
  auto weights = torch::ones({100});
  auto target = train.images.narrow(0, train.labels.size(0) - batch, batch);

  auto step = [&] {
    auto out = method.step(model, {source, source_labels, weights, 0}, rng);
    sgd.zero_grad();
    out.loss.backward();
    sgd.step();
  };
  // The part of the step that SMCL adds for the mask: saliency peaks, boxes, the masked image.
  auto mask_part = [&] {
    auto s1 = smcl::augment::normalize(source, config.augment.mean, config.augment.std);
    auto t1 = smcl::augment::normalize(target, config.augment.mean, config.augment.std);
    auto peaks = smcl::saliency::peaks(smcl::saliency::fine_grained(source));
    auto boxes = smcl::augment::boxes_at(peaks, rng.beta(1, 1), 32, 32, false);
    auto masked = smcl::augment::masked_images(s1, t1, boxes);
    (void)masked;
  };
  auto batched = [&] { (void)smcl::saliency::fine_grained(source); };
  auto opencv = [&] { (void)smcl::saliency::fine_grained_opencv(source); };
  const bool have_opencv = smcl::saliency::opencv_available();

  step();  // warm-up: first-touch allocations and oneDNN primitive creation
  mask_part();
  std::vector<double> t_step, t_mask, t_batched, t_opencv;
  for (int64_t r = 0; r < repeats; ++r) {
    t_step.push_back(seconds(step));
    t_mask.push_back(seconds(mask_part));
    t_batched.push_back(seconds(batched));
    if (have_opencv) t_opencv.push_back(seconds(opencv));
  }
  double step_s = median(t_step), mask_s = median(t_mask), batched_s = median(t_batched);
  std::printf(
      "SMCL step, ResNet-32, batch %lld of 3x32x32 (5 groups = %lld model images), %d threads, median of %lld\n",
      static_cast<long long>(batch), static_cast<long long>(5 * batch), torch::get_num_threads(),
      static_cast<long long>(repeats));
  std::printf("  %-44s %10.2f ms\n", "whole step (forward, backward, SGD)", 1e3 * step_s);
  std::printf("  %-44s %10.2f ms  (%.2f%% of the step)\n", "saliency + boxes + masked image", 1e3 * mask_s,
              100 * mask_s / step_s);
  std::printf("  %-44s %10.2f ms  (%.1f us/image)\n", "fine_grained, batched", 1e3 * batched_s,
              1e6 * batched_s / double(batch));
  nlohmann::json j = {{"batch", batch},
                      {"repeats", repeats},
                      {"threads", torch::get_num_threads()},
                      {"step_seconds", step_s},
                      {"mask_seconds", mask_s},
                      {"mask_share_of_step", mask_s / step_s},
                      {"fine_grained_batched_seconds", batched_s}};
  if (have_opencv) {
    double opencv_s = median(t_opencv);
    std::printf("  %-44s %10.2f ms  (%.1f us/image; batched is %.1fx faster)\n",
                "OpenCV StaticSaliencyFineGrained per image", 1e3 * opencv_s, 1e6 * opencv_s / double(batch),
                opencv_s / batched_s);
    j["opencv_per_image_seconds"] = opencv_s;
    j["batched_speedup_over_opencv"] = opencv_s / batched_s;
  } else {
    std::printf("  (built without OpenCV: no per-image reference)\n");
  }
  if (!json_path.empty()) std::ofstream(json_path) << j.dump(2) << "\n";
  return 0;
}
