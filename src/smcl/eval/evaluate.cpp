#include "smcl/eval/evaluate.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "smcl/augment/batch_transforms.h"
#include "smcl/core/distributed.h"
#include "smcl/core/error.h"

namespace smcl::eval {

torch::Tensor predict(models::Network& model, const data::Dataset& dataset, const config::Config& config,
                      const torch::Device& device) {
  c10::InferenceMode inference;  // no autograd bookkeeping at all: faster than NoGradGuard
  const bool was_training = model->is_training();
  model->eval();
  // In a process group each process predicts every world_size-th batch, and the logits are gathered.
  const int64_t batch = config.eval.batch_size, world = dist::world_size();
  std::vector<torch::Tensor> outputs, done;
  for (int64_t start = dist::rank() * batch; start < dataset.size(); start += world * batch) {
    int64_t length = std::min(batch, dataset.size() - start);
    auto rows = torch::arange(start, start + length, torch::kInt64);
    auto images = augment::test_view(data::gather(dataset, rows), config.augment).to(device);
    auto x = augment::normalize(images, config.augment.mean, config.augment.std);
    outputs.push_back(model->forward(x).logits.to(torch::kFloat32));  // on the device: NCCL gathers there
    done.push_back(rows);
  }
  model->train(was_training);
  auto logits = outputs.empty() ? torch::empty({0, dataset.num_classes}, torch::TensorOptions().device(device))
                                : torch::cat(outputs);
  if (dist::active()) {
    auto rows = done.empty() ? torch::empty({0}, torch::kInt64) : torch::cat(done);
    logits = dist::gather_rows(logits, rows, dataset.size());
  }
  return logits.to(torch::kCPU);
}

Metrics evaluate(models::Network& model, const data::Dataset& dataset, const std::vector<int64_t>& train_counts,
                 const config::Config& config, const torch::Device& device, double temperature) {
  auto logits = predict(model, dataset, config, device);
  if (temperature != 1.0) logits = logits / temperature;
  return compute_metrics(logits, dataset.labels, train_counts, config.eval.many_threshold, config.eval.few_threshold);
}

EpochRecord evaluate_epoch(models::Network& model, const data::LongTailedData& data, const config::Config& config,
                           const torch::Device& device, double temperature) {
  EpochRecord out;
  out.test = evaluate(model, data.test, data.counts, config, device, temperature);
  if (data.has_val()) out.val = evaluate(model, data.val, data.counts, config, device, temperature);
  if (data.has_conflict()) {
    out.bias = compute_bias_metrics(predict(model, data.conflict, config, device), data.conflict.labels,
                                    data.conflict_background_class);
  }
  return out;
}

namespace {
// A number of the table, "-" where there is none (a group without classes, calibration of an old run).
std::string cell(const std::optional<double>& v) {
  if (!v || std::isnan(*v)) return "     -";
  char text[16];
  std::snprintf(text, sizeof(text), "%6.2f", *v);
  return text;
}
}  // namespace

std::string format_table(const std::vector<std::pair<std::string, Metrics>>& rows) {
  std::string out = "                  top-1  top-5   many medium    few    ECE    NLL\n";
  for (const auto& [name, m] : rows) {
    char label[32];
    std::snprintf(label, sizeof(label), "%-16s", name.c_str());
    out += std::string(label) + " " + cell(m.top1) + " " + cell(m.top5) + " " + cell(m.many) + " " + cell(m.medium) +
           " " + cell(m.few) + " " + cell(m.calibration.ece) + " " + cell(m.calibration.nll) + "\n";
  }
  return out;
}

std::string format_per_class(const Metrics& metrics, const std::vector<int64_t>& train_counts) {
  std::string out = "class  train images  accuracy\n";
  for (size_t k = 0; k < metrics.per_class.size(); ++k) {
    char line[64];
    std::snprintf(line, sizeof(line), "%5zu  %12lld  %8.2f\n", k, static_cast<long long>(train_counts[k]),
                  metrics.per_class[k]);
    out += line;
  }
  return out;
}

}  // namespace smcl::eval
