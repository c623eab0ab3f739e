// The classification losses of SPEC section 5, one object for every method's cross-entropy term:
//   ce                CE(z, y)
//   ldam              CE(s * (z - m_y e_y), y), margins m_k = C / n_k^(1/4) with max_k m_k = ldam_max_margin, on the
//                     logits of a cosine classifier (the model is built with one, see methods::build_model)
//   focal             sigmoid focal loss, sum over classes of (1 - p_t)^gamma BCE with one-hot targets
//   balanced_softmax  CE(z + log pi, y), pi_k = n_k / N; only in training, predictions use the raw z
//   logit_adjusted    CE(z + tau log pi, y), tau = la_tau (Menon et al. 2021, their logit-adjusted loss; BCL's
//                     "logit compensation" at tau 1); predictions use the raw z
// Class weights w (loss.reweight) apply per sample as w_{y_i}. The reduction follows the reference codebases:
// the softmax losses take PyTorch's weighted mean sum_i w_{y_i} l_i / sum_i w_{y_i}; focal sums and divides by
// the batch size (Cui et al. 2019). Under autocast the losses are computed in float32 (losses/precision.h).
#pragma once

#include <torch/types.h>

#include <optional>
#include <vector>

#include "smcl/config/config.h"

namespace smcl::losses {

class ClassificationLoss {
 public:
  // counts: training images per class (> 0), for the LDAM margins and the balanced-softmax prior, which are kept
  // on `device`: on the training device, a step copies nothing from the host (which a CUDA graph cannot capture).
  ClassificationLoss(const config::LossConfig& config, const std::vector<int64_t>& counts,
                     torch::Device device = torch::kCPU);

  // [B] unweighted per-sample losses l(z_i, y_i) of logits [B, K] and labels [B].
  torch::Tensor per_sample(const torch::Tensor& logits, const torch::Tensor& labels) const;

  // sum_i share_i w_{y_i} l_i / normaliser (see above); share [B] scales each sample's term (undefined: 1).
  torch::Tensor operator()(const torch::Tensor& logits, const torch::Tensor& labels, const torch::Tensor& class_weights,
                           const torch::Tensor& share = {}) const;

  // The mixed-label loss of Mixup, CutMix, Remix, CMO and SMCL's masked image: loss(z, a, share = lambda) +
  // loss(z, b, share = 1 - lambda), lambda [B] the share of label a in each sample.
  torch::Tensor mixed(const torch::Tensor& logits, const torch::Tensor& labels_a, const torch::Tensor& labels_b,
                      const torch::Tensor& lambda, const torch::Tensor& class_weights) const;

  // The LDAM margins m_k [K] float32 (empty for the other losses).
  const torch::Tensor& margins() const { return margins_; }

 private:
  config::LossConfig config_;
  torch::Tensor margins_;    // ldam: [K] float32
  torch::Tensor log_prior_;  // balanced_softmax, logit_adjusted: [K] float32 tau log(n_k / N) (tau 1 for the first)
};

// labels [N] int64 -> [N, num_classes] of `dtype`, 1 at each label and 0 elsewhere: torch::one_hot's values without
// its range check, which reads the labels' minimum and maximum back to the host (no CUDA graph can hold that).
torch::Tensor one_hot(const torch::Tensor& labels, int64_t num_classes, torch::ScalarType dtype);

// Whether loss.name needs the cosine classifier (ldam).
bool uses_cosine_classifier(const config::LossConfig& config);

// The last-layer bias the loss starts from: -log(K - 1) for focal (every class probability 1/K under the
// sigmoid, Cui et al. 2019), otherwise nullopt (PyTorch's default initialisation).
std::optional<double> initial_classifier_bias(const config::LossConfig& config, int64_t num_classes);

}  // namespace smcl::losses
