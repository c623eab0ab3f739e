// BCL, balanced contrastive learning (Zhu et al., CVPR 2022; docs/methods.md): three augmented views of each
// image in one forward pass (the first's augmentation bcl.classifier_view, the others' bcl.contrast_views); the
// classification loss (loss.name; BCL's recipe: logit_adjusted, tau 1) on the first view, and the balanced contrastive
// loss over the other two views' projections plus one prototype per class, the class's classifier row W_k through the
// method's own prototype head, L2-normalised. The classifier is BCL's cosine one (logits s cos(h, W_k), s =
// bcl.cosine_scale; 0: linear). L = smcl.alpha * CE + smcl.beta * L_BCL, temperature smcl.temperature.
#pragma once

#include <torch/nn/modules/container/sequential.h>

#include "smcl/data/dataset.h"
#include "smcl/methods/method.h"

namespace smcl::methods {

class Bcl : public Method {
 public:
  // model: the network it trains (heads_of: BCL's projection head, and its cosine classifier unless
  // bcl.cosine_scale is 0); the prototype head maps its feature dimension d to the projection's: Linear(d, d),
  // BatchNorm1d(d), ReLU, Linear(d, bcl.projection_dim), as BCL's head_fc.
  // Initialised from torch's global generator (call after the model's initialisation).
  Bcl(const config::Config& config, const data::Dataset& train, const models::Network& model);
  PreparedStep prepare(const StepInput& input, Rng& rng) const override;
  std::shared_ptr<torch::nn::Module> module() const override { return prototype_head_.ptr(); }

 private:
  config::AugmentConfig classifier_augment_, contrast_augment_;  // bcl.classifier_view, bcl.contrast_views
  config::SmclConfig smcl_;
  losses::ClassificationLoss loss_;
  torch::nn::Sequential prototype_head_;
};

}  // namespace smcl::methods
