// GPaCo's parametric contrastive loss (Cui et al., "Parametric Contrastive Learning", ICCV 2021, and
// "Generalized Parametric Contrastive Learning", TPAMI 2023; docs/methods.md): supervised contrastive learning
// whose contrast set also holds one learnable centre per class, the linear classifier's rows, so that the
// centre terms are the classifier's logits, shifted by the log class prior (the balanced form).
#pragma once

#include <torch/types.h>

namespace smcl::losses {

struct ParametricContrastiveOptions {
  double alpha = 0.01;              // weight of each same-class sample as a positive
  double beta = 1.0;                // weight of the anchor's own class centre as a positive
  double gamma = 1.0;               // weight of the samples in the denominator (the centres': 1)
  double temperature = 0.05;        // tau of the sample similarities
  double centre_temperature = 1.0;  // the centre logits (s + log pi) are divided by it
};

// anchors [N, D] L2-normalised projections, labels [N] int64, logits [N, K] the classifier's logits of the same
// N images, log_prior [K] log(n_k / n); queue [Q, D] and queue_labels [Q] (undefined: none), earlier keys that join
// every anchor's contrast set as samples (GPaCo's code; never anchors, no gradient). The samples j are the other
// anchors and the queued keys. For anchor i, with l_ik = (s_ik + log pi_k) / centre_temperature and
// l_ij' = z_i.z_j / tau (j != i):
//   L_i = -sum_c m_ic (l_ic - log sum_c w_ic exp(l_ic)) / sum_c m_ic,
//   m = beta on the own class's centre, alpha on every other same-class sample, 0 elsewhere;
//   w = 1 on the centres, gamma on the samples, 0 on the anchor itself;
// L = mean_i L_i. Computed in float32 at least, also inside an autocast step (losses/precision.h).
torch::Tensor parametric_contrastive(const torch::Tensor& anchors, const torch::Tensor& labels,
                                     const torch::Tensor& logits, const torch::Tensor& log_prior,
                                     const ParametricContrastiveOptions& options, const torch::Tensor& queue = {},
                                     const torch::Tensor& queue_labels = {});

}  // namespace smcl::losses
