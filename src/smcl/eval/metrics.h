// Evaluation metrics of SPEC section 8, computed from logits and labels: top-1, top-5, per-class accuracy,
// many/medium/few (the plain mean of the per-class accuracies in each group), confusion matrix.
// Accuracies are in percent. Not here: running the model (evaluate.h).
#pragma once

#include <torch/types.h>

#include <optional>
#include <string>
#include <vector>

namespace smcl::eval {

struct Metrics {
  double top1 = 0;
  double top5 = 0;                       // top-min(5, K)
  std::vector<double> per_class;         // [K] accuracy of each class
  std::optional<double> many, medium, few;  // empty when the group has no class
  std::vector<std::vector<int64_t>> confusion;  // [true class][predicted class] counts
};

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
