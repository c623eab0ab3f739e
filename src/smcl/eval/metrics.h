// Evaluation metrics of SPEC section 8, computed from logits and labels: top-1, top-5, per-class accuracy,
// many/medium/few (the plain mean of the per-class accuracies in each group), confusion matrix; and calibration
// (ECE, NLL, Brier score, overall and per group, with the reliability diagram's bins; Guo et al., ICML 2017).
// Accuracies are in percent. Not here: running the model (evaluate.h).
#pragma once

#include <torch/types.h>

#include <optional>
#include <string>
#include <vector>

namespace smcl::eval {

// How far the predicted probabilities (softmax of the logits) can be trusted, over a set of images.
struct Calibration {
  double ece = 0;    // expected calibration error (%): 15 equal-width confidence bins, sum_b |B|/n |acc_b - conf_b|
  double nll = 0;    // negative log-likelihood of the true class (nats, mean)
  double brier = 0;  // Brier score: mean over images of sum_k (p_k - [k = y])^2
};

// The reliability diagram's data: of the images whose confidence (top probability) lies in bin b, (b/15, (b+1)/15],
// their count, mean confidence and accuracy (both in [0, 1]; 0 for an empty bin).
struct ReliabilityBins {
  std::vector<int64_t> count;
  std::vector<double> confidence, accuracy;
};

inline constexpr int64_t kCalibrationBins = 15;

struct Metrics {
  double top1 = 0;
  double top5 = 0;                              // top-min(5, K)
  std::vector<double> per_class;                // [K] accuracy of each class
  std::optional<double> many, medium, few;      // empty when the group has no class
  std::vector<std::vector<int64_t>> confusion;  // [true class][predicted class] counts
  Calibration calibration;                      // over every image
  std::optional<Calibration> many_calibration, medium_calibration, few_calibration;  // images of the group's classes
  ReliabilityBins reliability;
};

// Calibration of softmax(logits) against labels (N > 0), and the reliability bins of the same images.
Calibration compute_calibration(const torch::Tensor& logits, const torch::Tensor& labels,
                                ReliabilityBins* bins = nullptr);

// Post-hoc temperature scaling (Guo et al., ICML 2017): the T > 0 that minimises the mean NLL of softmax(z / T)
// over the images (logits [N, K], labels [N], N > 0), by golden-section search on log T in [1/100, 100].
double fit_temperature(const torch::Tensor& logits, const torch::Tensor& labels);

// logits [N, K] float, labels [N] int64; train_counts (n_k) and the thresholds define the groups.
Metrics compute_metrics(const torch::Tensor& logits, const torch::Tensor& labels,
                        const std::vector<int64_t>& train_counts, int64_t many_threshold, int64_t few_threshold);

// Background-biased sets (data/background.h), on the conflict split: top-1, and the background-flip rate, the
// share of images predicted as the major class whose background they carry. Both in percent.
struct BiasMetrics {
  double conflict_top1 = 0;
  double bg_flip_rate = 0;
};

// logits [N, K] float, labels and background_class [N] int64; N > 0.
BiasMetrics compute_bias_metrics(const torch::Tensor& logits, const torch::Tensor& labels,
                                 const torch::Tensor& background_class);

}  // namespace smcl::eval
