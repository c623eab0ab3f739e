// BCL's balanced contrastive loss (Zhu et al., CVPR 2022; docs/methods.md): supervised contrastive learning whose
// contrast set also holds one prototype per class (class-complement) and whose denominator averages each class's
// terms over that class's members (class-averaging).
#pragma once

#include <torch/types.h>

namespace smcl::losses {

// anchors [N, D] L2-normalised projections (BCL: the two contrastive views, N = 2B), labels [N] int64,
// prototypes [K, D] L2-normalised class prototypes, their class the row index. With the contrast set
// C = anchors + prototypes, labels y_c, and n_k the number of members of class k in C:
//   L = mean over anchors a of -1/|P(a)| sum_{p in P(a)} log( exp(s_ap) / sum_{c != a} exp(s_ac) / m_ac ),
//   s_ac = v_a.v_c / temperature, P(a) = {c in C, c != a, y_c = y_a}, m_ac = n_{y_c} - [y_c = y_a]
// (each class's terms averaged over its members other than the anchor). Every anchor has a positive: its
// class's prototype. Computed in float32 at least, also inside an autocast step (losses/precision.h).
torch::Tensor balanced_contrastive(const torch::Tensor& anchors, const torch::Tensor& labels,
                                   const torch::Tensor& prototypes, double temperature);

}  // namespace smcl::losses
