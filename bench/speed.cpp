// One measurement of the speed benchmark (issue 5): bench/speed.py runs this binary and bench/reference.py in
// interleaved rounds and makes the table; run it alone to look at one number.
//
//   build/bench/smcl_bench_speed --mode floor|pipeline|profile|eval|products --method erm|scl|smcl
//       --data fashion_mnist|cifar_shaped [--model resnet32] [--batch 256] [--steps 8] [--warmup 2]
//       [--set train.prefetch=false ...] [--default-malloc]
//
// floor: the model's forward, backward and SGD update alone on ready float tensors, with as many images per
// step as the method puts through the model (erm 1, scl 2, smcl 5 views of the batch). pipeline: real training
// steps (StepRunner, as `smcl train` takes them) with sampling, gathering, augmentation, saliency, masking (on
// in every step) and losses. profile: the pipeline's steps taken apart on one thread (prepare, forward + loss,
// backward, SGD update, each timed alone) next to the floor's forward, backward and update on the same number
// of images. eval: evaluation of the test split. products: the three matrix products of one SupCon term over the
// step's projections (forward Z Z^T, backward G Z and G^T Z; Z [per_step, 128]) with torch::mm (the system's BLAS)
// and with smcl's ordered_matmul (losses/pairwise_dot.h), milliseconds per product, and whether their bits agree.
// Prints one JSON line: images/second through the model, seconds, peak resident memory. cifar_shaped is a generated
// long-tailed CIFAR-100-LT-sized set (3x32x32, 100 classes, 500 to 5 images per class) of random pixels: speed does not
// depend on the content.
#include <sys/resource.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "smcl/config/config.h"
#include "smcl/core/allocator.h"
#include "smcl/core/error.h"
#include "smcl/core/torch_compat.h"
#include "smcl/data/datasets.h"
#include "smcl/data/long_tail.h"
#include "smcl/eval/evaluate.h"
#include "smcl/losses/pairwise_dot.h"
#include "smcl/methods/method.h"
#include "smcl/train/fit.h"

namespace {

using namespace smcl;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;  // KiB on Linux
}

// A long-tailed set shaped like CIFAR-100-LT (exp profile, ratio 100, 500 per class at most) with random pixels;
// the test split is 100 per class.
data::LongTailedData cifar_shaped() {
  torch::manual_seed(12345);
  data::LongTailedData out;
  out.counts = data::long_tail_counts(config::Profile::kExp, 100, 500, 100);
  std::vector<int64_t> labels;
  for (size_t k = 0; k < out.counts.size(); ++k) labels.insert(labels.end(), size_t(out.counts[k]), int64_t(k));
  const int64_t n = int64_t(labels.size());
  out.train = {torch::randint(0, 256, {n, 3, 32, 32}, torch::kUInt8), nullptr, torch::tensor(labels, torch::kInt64),
               100};
  out.test = {torch::randint(0, 256, {10000, 3, 32, 32}, torch::kUInt8), nullptr,
              torch::arange(10000, torch::kInt64).remainder(100), 100};
  return out;
}

int64_t views_per_image(const std::string& method) { return method == "smcl" ? 5 : method == "scl" ? 2 : 1; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"smcl speed benchmark: one measurement (see bench/speed.py for the whole table)"};
  std::string mode = "pipeline", method = "erm", dataset = "fashion_mnist", model_name = "resnet32";
  int64_t batch = 256, steps = 8, warmup = 2;
  std::vector<std::string> overrides;
  app.add_option("--mode", mode, "floor | pipeline | profile | eval | products")
      ->check(CLI::IsMember({"floor", "pipeline", "profile", "eval", "products"}));
  app.add_option("--method", method, "erm | scl | smcl")->check(CLI::IsMember({"erm", "scl", "smcl"}));
  app.add_option("--data", dataset, "fashion_mnist | cifar_shaped")
      ->check(CLI::IsMember({"fashion_mnist", "cifar_shaped"}));
  app.add_option("--model", model_name, "model.name");
  app.add_option("--batch", batch, "images per step (train.batch_size)")->check(CLI::Range(2, 1 << 16));
  app.add_option("--steps", steps, "timed steps (eval: timed passes over the test split)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--warmup", warmup, "untimed steps first")->check(CLI::Range(0, 100000));
  app.add_option("--set", overrides, "config override key=value (train.threads, train.prefetch, ...)");
  bool default_malloc = false;
  app.add_flag("--default-malloc", default_malloc, "leave glibc's allocator settings alone (smcl sets them at start)");
  CLI11_PARSE(app, argc, argv);
  if (!default_malloc) keep_freed_memory();
  try {
    std::vector<std::string> all{"model.name=" + model_name,
                                 "method.name=" + method,
                                 "data.name=" + std::string(dataset == "cifar_shaped" ? "cifar100" : "fashion_mnist"),
                                 "train.batch_size=" + std::to_string(batch),
                                 "smcl.mask_start_epoch=0",
                                 "smcl.mask_prob=1"};
    all.insert(all.end(), overrides.begin(), overrides.end());
    config::Config c = config::load("", all);
    data::resolve_defaults(c);
    const torch::Device device = train::setup_execution(c.train);
    data::LongTailedData data = dataset == "cifar_shaped" ? cifar_shaped() : data::load_long_tailed(c.data);
    data.train = data::to_device(data.train, device);
    torch::manual_seed(uint64_t(c.train.seed));
    auto model = methods::build_model(c, data.train.num_classes, data.train.images.size(1));
    model->to(device);
    if (c.train.channels_last) model->use_channels_last();
    train::FusedSgd optimizer(
        model->parameters(),
        torch::optim::SGDOptions(c.optim.lr).momentum(c.optim.momentum).weight_decay(c.optim.weight_decay),
        train::fuses_sgd(c.train.fused_sgd, device));
    const int64_t per_step = batch * views_per_image(method);
    // The floor's ready tensors (floor and profile only): random normalised images and labels, as many as the
    // method's step puts through the model.
    torch::Tensor floor_views, floor_labels;
    if (mode == "floor" || mode == "profile") {
      floor_views =
          torch::randn({per_step, data.train.images.size(1), data.train.images.size(2), data.train.images.size(3)},
                       torch::TensorOptions().device(device));
      floor_labels =
          torch::randint(0, data.train.num_classes, {per_step}, torch::TensorOptions(torch::kInt64).device(device));
    }
    auto floor_loss = [&] {
      // Under the same autocast as the pipeline's steps (train.amp), so that the two compare like with like.
      AutocastScope autocast(device.type(), c.train.amp == config::Amp::kFp16 ? torch::kHalf : torch::kBFloat16,
                             c.train.amp != config::Amp::kNone);
      auto out = model->forward(floor_views);
      auto loss = torch::nn::functional::cross_entropy(out.logits, floor_labels);
      return out.projection.defined() ? loss + out.projection.pow(2).mean() : loss;  // the head trains too
    };
    double seconds = 0;
    int64_t images = 0;
    nlohmann::json phases;  // profile: seconds per step of each phase; products: milliseconds per product

    if (mode == "floor") {
      auto one_step = [&] {
        auto loss = floor_loss();
        optimizer.zero_gradients();
        loss.backward();
        optimizer.step();
        loss.item<double>();  // wait for the device
      };
      for (int64_t i = 0; i < warmup; ++i) one_step();
      auto start = Clock::now();
      for (int64_t i = 0; i < steps; ++i) one_step();
      seconds = seconds_since(start);
      images = steps * per_step;
    } else if (mode == "pipeline") {
      auto method_impl = methods::make_method(c, data.train);
      train::StepRunner runner(model, optimizer, *method_impl, c.train, device);
      Rng rng(uint64_t(c.train.seed) + 1);
      auto weights = torch::ones({data.train.num_classes}, torch::TensorOptions().device(device));
      auto order_of = [&](int64_t count) {
        // Sampled like an epoch (a fresh permutation, repeated when the set is smaller than the steps need).
        std::vector<int64_t> order;
        while (int64_t(order.size()) < count * batch) {
          auto p = rng.permutation(data.train.size());
          order.insert(order.end(), p.begin(), p.end());
        }
        order.resize(size_t(count * batch));
        return torch::tensor(order, torch::kInt64).to(device);
      };
      model->train();
      if (warmup > 0) runner.run(data.train, order_of(warmup), weights, 0, rng);
      auto order = order_of(steps);
      auto start = Clock::now();
      auto result = runner.run(data.train, order, weights, 0, rng);
      seconds = seconds_since(start);  // result.loss was read back: the device has finished
      images = result.views;
    } else if (mode == "profile") {
      auto method_impl = methods::make_method(c, data.train);
      Rng rng(uint64_t(c.train.seed) + 1);
      auto weights = torch::ones({data.train.num_classes}, torch::TensorOptions().device(device));
      std::map<std::string, double> total;
      auto timed = [&](const std::string& name, auto&& f) {
        auto start = Clock::now();
        auto out = f();
        total[name] += seconds_since(start);
        return out;
      };
      model->train();
      for (int64_t i = 0; i < warmup + steps; ++i) {
        if (i == warmup) total.clear();
        auto index = torch::tensor(rng.permutation(data.train.size()), torch::kInt64).narrow(0, 0, batch).to(device);
        auto prepared = timed("pipeline: prepare (gather, augment, saliency, mask)", [&] {
          return method_impl->prepare(
              {data::gather(data.train, index), data.train.labels.index_select(0, index), weights, 0}, rng);
        });
        methods::StepModel step_model(model);
        auto out = timed("pipeline: forward + losses", [&] { return prepared(step_model); });
        optimizer.zero_gradients();
        timed("pipeline: backward", [&] {
          out.loss.backward();
          return 0;
        });
        timed("pipeline: SGD update", [&] {
          optimizer.step();
          return 0;
        });
        auto floor_out = timed("floor: forward + cross-entropy", floor_loss);
        optimizer.zero_gradients();
        timed("floor: backward", [&] {
          floor_out.backward();
          return 0;
        });
        timed("floor: SGD update", [&] {
          optimizer.step();
          return 0;
        });
      }
      for (const auto& [name, value] : total) phases[name] = value / double(steps);
      seconds = total["pipeline: prepare (gather, augment, saliency, mask)"] + total["pipeline: forward + losses"] +
                total["pipeline: backward"] + total["pipeline: SGD update"];
      images = steps * per_step;
    } else if (mode == "products") {
      const auto z = torch::nn::functional::normalize(torch::randn({per_step, 128})),
                 g = torch::randn({per_step, per_step});
      const std::vector<std::pair<std::string, std::pair<torch::Tensor, torch::Tensor>>> products{
          {"Z Z^T", {z, z.t()}}, {"G Z", {g, z}}, {"G^T Z", {g.t(), z}}};
      bool same_bits = true;
      for (const auto& [name, operands] : products) {
        const auto& [a, b] = operands;
        for (const auto& [implementation, product] :
             std::vector<std::pair<std::string, std::function<torch::Tensor()>>>{
                 {"torch::mm", [&] { return a.mm(b); }},
                 {"ordered_matmul", [&] { return losses::ordered_matmul(a, b); }}}) {
          for (int64_t i = 0; i < warmup; ++i) product();
          auto start = Clock::now();
          for (int64_t i = 0; i < steps; ++i) product();
          const double elapsed = seconds_since(start);
          phases[name + " ms, " + implementation] = elapsed / double(steps) * 1e3;
          seconds += elapsed;
        }
        same_bits = same_bits && a.mm(b).view(torch::kInt).equal(losses::ordered_matmul(a, b).view(torch::kInt));
      }
      phases["same bits"] = same_bits;
      images = 0;
    } else {
      for (int64_t i = 0; i < warmup; ++i) {
        eval::evaluate(model, data::select(data.test, torch::arange(std::min<int64_t>(1024, data.test.size()))),
                       data.counts, c, device);
      }
      auto start = Clock::now();
      for (int64_t i = 0; i < steps; ++i) eval::evaluate(model, data.test, data.counts, c, device);
      seconds = seconds_since(start);
      images = steps * data.test.size();
    }
    nlohmann::json line = {{"implementation", "smcl"},
                           {"mode", mode},
                           {"method", method},
                           {"data", dataset},
                           {"model", model_name},
                           {"batch", batch},
                           {"steps", steps},
                           {"images", images},
                           {"seconds", seconds},
                           {"images_per_second", double(images) / seconds},
                           {"peak_rss_mib", peak_rss_mib()},
                           {"threads", torch::get_num_threads()},
                           {"device", device.str()},
                           {"prefetch", c.train.prefetch},
                           {"channels_last", c.train.channels_last},
                           {"amp", config::name_of(c.train.amp)},
                           {"libtorch", TORCH_VERSION}};
    if (!phases.empty()) line[mode == "products" ? "milliseconds_per_product" : "phase_seconds_per_step"] = phases;
    std::printf("%s\n", line.dump().c_str());
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "smcl_bench_speed: %s\n", e.what());
    return 1;
  }
}
