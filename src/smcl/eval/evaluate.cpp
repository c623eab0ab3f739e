#include "smcl/eval/evaluate.h"

#include <cstdio>

#include "smcl/augment/batch_transforms.h"
#include "smcl/core/distributed.h"

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

EpochMetrics evaluate_epoch(models::Network& model, const data::LongTailedData& data, const config::Config& config,
                            const torch::Device& device, double temperature) {
  EpochMetrics out;
  out.test = evaluate(model, data.test, data.counts, config, device, temperature);
  out.record = to_json(out.test, /*with_confusion=*/true);
  out.line = to_json(out.test, false);
  if (data.has_val()) {
    out.record["val"] = out.line["val"] =
        to_json(evaluate(model, data.val, data.counts, config, device, temperature), false);
  }
  if (data.has_conflict()) {
    auto bias = compute_bias_metrics(predict(model, data.conflict, config, device), data.conflict.labels,
                                     data.conflict_background_class);
    out.record["conflict_top1"] = out.line["conflict_top1"] = bias.conflict_top1;
    out.record["bg_flip_rate"] = out.line["bg_flip_rate"] = bias.bg_flip_rate;
  }
  return out;
}

nlohmann::json to_json(const Metrics& m, bool with_confusion) {
  auto optional = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  nlohmann::json j = {{"top1", m.top1},           {"top5", m.top5},
                      {"many", optional(m.many)}, {"medium", optional(m.medium)},
                      {"few", optional(m.few)},   {"per_class", m.per_class}};
  auto calibration = [](const std::optional<eval::Calibration>& c) {
    return c ? nlohmann::json{{"ece", c->ece}, {"nll", c->nll}, {"brier", c->brier}} : nlohmann::json(nullptr);
  };
  j["ece"] = m.calibration.ece;
  j["nll"] = m.calibration.nll;
  j["brier"] = m.calibration.brier;
  j["calibration"] = {{"many", calibration(m.many_calibration)},
                      {"medium", calibration(m.medium_calibration)},
                      {"few", calibration(m.few_calibration)}};
  if (with_confusion) {
    j["confusion"] = m.confusion;
    j["reliability"] = {
        {"count", m.reliability.count}, {"confidence", m.reliability.confidence}, {"accuracy", m.reliability.accuracy}};
  }
  return j;
}

double selection_top1(const nlohmann::json& record) {
  return record.contains("val") ? record["val"]["top1"].get<double>() : record["top1"].get<double>();
}

namespace {
std::string cell(const nlohmann::json& v) {
  if (v.is_null()) return "     -";
  char text[16];
  std::snprintf(text, sizeof(text), "%6.2f", v.get<double>());
  return text;
}
}  // namespace

std::string format_table(const std::vector<std::pair<std::string, nlohmann::json>>& rows) {
  std::string out = "                  top-1  top-5   many medium    few    ECE    NLL\n";
  for (const auto& [name, m] : rows) {
    char label[32];
    std::snprintf(label, sizeof(label), "%-16s", name.c_str());
    // ECE and NLL: absent from runs of smcl before calibration was measured.
    auto optional = [&m = m](const char* key) { return m.contains(key) ? m[key] : nlohmann::json(nullptr); };
    out += std::string(label) + " " + cell(m["top1"]) + " " + cell(m["top5"]) + " " + cell(m["many"]) + " " +
           cell(m["medium"]) + " " + cell(m["few"]) + " " + cell(optional("ece")) + " " + cell(optional("nll")) + "\n";
  }
  return out;
}

std::string format_per_class(const nlohmann::json& metrics, const std::vector<int64_t>& train_counts) {
  std::string out = "class  train images  accuracy\n";
  const auto& per_class = metrics["per_class"];
  for (size_t k = 0; k < per_class.size(); ++k) {
    char line[64];
    std::snprintf(line, sizeof(line), "%5zu  %12lld  %8.2f\n", k, static_cast<long long>(train_counts[k]),
                  per_class[k].get<double>());
    out += line;
  }
  return out;
}

}  // namespace smcl::eval
