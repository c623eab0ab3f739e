#include "smcl/eval/metrics.h"

#include <algorithm>
#include <cmath>

#include "smcl/core/error.h"
#include "smcl/data/long_tail.h"

namespace smcl::eval {

Metrics compute_metrics(const torch::Tensor& logits, const torch::Tensor& labels,
                        const std::vector<int64_t>& train_counts, int64_t many_threshold, int64_t few_threshold) {
  const int64_t n = logits.size(0), k = logits.size(1);
  SMCL_ASSERT(labels.size(0) == n && int64_t(train_counts.size()) == k);
  auto cpu_logits = logits.to(torch::kCPU, torch::kFloat32);
  auto cpu_labels = labels.to(torch::kCPU, torch::kInt64);
  Metrics m;
  if (n == 0) return m;
  const int64_t top = std::min<int64_t>(5, k);
  auto topk = std::get<1>(cpu_logits.topk(top, 1));  // [N, top], best first
  auto predicted = topk.select(1, 0).contiguous();
  m.top1 = 100.0 * predicted.eq(cpu_labels).sum().item<double>() / double(n);
  m.top5 = 100.0 * topk.eq(cpu_labels.unsqueeze(1)).any(1).sum().item<double>() / double(n);

  m.confusion.assign(size_t(k), std::vector<int64_t>(size_t(k), 0));
  const int64_t* y = cpu_labels.data_ptr<int64_t>();
  const int64_t* p = predicted.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) ++m.confusion[size_t(y[i])][size_t(p[i])];

  auto groups = data::shot_groups(train_counts, many_threshold, few_threshold);
  double sums[3] = {0, 0, 0};
  int counts[3] = {0, 0, 0};
  for (int64_t c = 0; c < k; ++c) {
    int64_t total = 0;
    for (int64_t v : m.confusion[size_t(c)]) total += v;
    double accuracy = total > 0 ? 100.0 * double(m.confusion[size_t(c)][size_t(c)]) / double(total) : 0.0;
    m.per_class.push_back(accuracy);
    sums[groups[size_t(c)]] += accuracy;
    ++counts[groups[size_t(c)]];
  }
  std::optional<double>* slots[3] = {&m.many, &m.medium, &m.few};
  for (int g = 0; g < 3; ++g) {
    if (counts[g] > 0) *slots[g] = sums[g] / counts[g];
  }
  m.calibration = compute_calibration(cpu_logits, cpu_labels, &m.reliability);
  // Per group: the images whose true class is in the group.
  auto group_of_image =
      torch::tensor(std::vector<int64_t>(groups.begin(), groups.end()), torch::kInt64).index_select(0, cpu_labels);
  std::optional<Calibration>* calibrations[3] = {&m.many_calibration, &m.medium_calibration, &m.few_calibration};
  for (int g = 0; g < 3; ++g) {
    auto rows = group_of_image.eq(g).nonzero().flatten();
    if (rows.numel() > 0) {
      *calibrations[g] = compute_calibration(cpu_logits.index_select(0, rows), cpu_labels.index_select(0, rows));
    }
  }
  return m;
}

Calibration compute_calibration(const torch::Tensor& logits, const torch::Tensor& labels, ReliabilityBins* bins) {
  const int64_t n = logits.size(0), k = logits.size(1);
  SMCL_ASSERT(n > 0 && labels.size(0) == n);
  auto x = logits.to(torch::kCPU, torch::kFloat64);  // double: the sums over many images stay exact enough
  auto y = labels.to(torch::kCPU, torch::kInt64);
  auto log_p = torch::log_softmax(x, 1);
  auto p = log_p.exp();
  Calibration c;
  c.nll = -log_p.gather(1, y.unsqueeze(1)).mean().item<double>();
  c.brier = (p - torch::one_hot(y, k).to(torch::kFloat64)).pow(2).sum(1).mean().item<double>();
  auto [confidence, predicted] = p.max(1);
  auto correct = predicted.eq(y).to(torch::kFloat64);
  // Bin b holds confidences in (b/B, (b+1)/B]: the upper edge belongs to the bin, as in Guo et al.'s code.
  auto bin = (confidence * double(kCalibrationBins)).ceil().to(torch::kInt64).sub(1).clamp(0, kCalibrationBins - 1);
  auto count = torch::zeros({kCalibrationBins}, torch::kFloat64).index_add_(0, bin, torch::ones_like(confidence));
  auto confidence_sum = torch::zeros({kCalibrationBins}, torch::kFloat64).index_add_(0, bin, confidence);
  auto correct_sum = torch::zeros({kCalibrationBins}, torch::kFloat64).index_add_(0, bin, correct);
  c.ece = 100.0 * (confidence_sum - correct_sum).abs().sum().item<double>() / double(n);
  if (bins) {
    auto safe = count.clamp_min(1);
    auto mean_confidence = confidence_sum / safe, accuracy = correct_sum / safe;
    bins->count.clear();
    bins->confidence.clear();
    bins->accuracy.clear();
    for (int64_t b = 0; b < kCalibrationBins; ++b) {
      bins->count.push_back(int64_t(count[b].item<double>()));
      bins->confidence.push_back(mean_confidence[b].item<double>());
      bins->accuracy.push_back(accuracy[b].item<double>());
    }
  }
  return c;
}

double fit_temperature(const torch::Tensor& logits, const torch::Tensor& labels) {
  SMCL_ASSERT(logits.size(0) > 0 && labels.size(0) == logits.size(0));
  auto x = logits.to(torch::kCPU, torch::kFloat64);
  auto y = labels.to(torch::kCPU, torch::kInt64).unsqueeze(1);
  auto nll = [&](double log_t) {
    return -torch::log_softmax(x / std::exp(log_t), 1).gather(1, y).mean().item<double>();
  };
  // The NLL is convex in 1/T (a log-sum-exp of linear functions minus a linear one), so unimodal in log T.
  const double ratio = (std::sqrt(5.0) - 1) / 2;
  double a = std::log(0.01), b = std::log(100.0);
  double c = b - ratio * (b - a), d = a + ratio * (b - a), fc = nll(c), fd = nll(d);
  while (b - a > 1e-10) {
    if (fc < fd) {
      b = d, d = c, fd = fc;
      c = b - ratio * (b - a), fc = nll(c);
    } else {
      a = c, c = d, fc = fd;
      d = a + ratio * (b - a), fd = nll(d);
    }
  }
  return std::exp((a + b) / 2);
}

BiasMetrics compute_bias_metrics(const torch::Tensor& logits, const torch::Tensor& labels,
                                 const torch::Tensor& background_class) {
  const int64_t n = logits.size(0);
  SMCL_CHECK(n > 0 && labels.size(0) == n && background_class.size(0) == n,
             "bias metrics: " << n << " logits, " << labels.size(0) << " labels, " << background_class.size(0)
                              << " background classes; expected the same non-zero number");
  auto predicted = logits.argmax(1).to(torch::kCPU);
  BiasMetrics m;
  m.conflict_top1 = 100.0 * predicted.eq(labels.to(torch::kCPU)).sum().item<double>() / double(n);
  m.bg_flip_rate = 100.0 * predicted.eq(background_class.to(torch::kCPU)).sum().item<double>() / double(n);
  return m;
}

}  // namespace smcl::eval
