// GPaCo, generalized parametric contrastive learning (Cui et al., ICCV 2021 and TPAMI 2023; docs/methods.md):
// two augmented views of each image in one forward pass, and the parametric contrastive loss over both views'
// projections, with the linear classifier's logits as the learnable class centres' similarities. Without PaCo's
// momentum encoder and queue: each view's contrast set is the batch's two views, as SupCon's. The centre terms
// replace the cross-entropy, so loss.name must be ce and loss.reweight none; the settings are section paco.
#pragma once

#include "smcl/data/dataset.h"
#include "smcl/losses/parametric_contrastive.h"
#include "smcl/methods/method.h"

namespace smcl::methods {

class Gpaco : public Method {
 public:
  Gpaco(const config::Config& config, const data::Dataset& train);
  PreparedStep prepare(const StepInput& input, Rng& rng) const override;

 private:
  config::AugmentConfig augment_;
  losses::ParametricContrastiveOptions options_;
  torch::Tensor log_prior_;  // [K] float32 log(n_k / n) of the training counts, on the training device
};

}  // namespace smcl::methods
