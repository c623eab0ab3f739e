// SMCL (SPEC section 4): for each source image a minor-weighted target image, two augmented views of each,
// and with probability mask_prob per batch a masked image (the source with the target pasted into a box at
// its saliency peak); cross-entropy on the source views and the lambda-mixed masked image, and supervised
// contrastive learning over all views, the masked image counting as the target class in proportion lambda.
#pragma once

#include "smcl/data/class_sampler.h"
#include "smcl/data/dataset.h"
#include "smcl/methods/method.h"

namespace smcl::methods {

// The groups of one SMCL step, already augmented and normalised, in the order they go through the model.
struct SmclGroups {
  torch::Tensor views;          // [G * B, C, H, W] float: s1, s2, then t1, t2 (with targets), then m (masked)
  torch::Tensor source_labels;  // [B] int64
  torch::Tensor target_labels;  // [B] int64; undefined without target views
  torch::Tensor lambda;         // [B] float32 masked share of each masked image; undefined without one
};

// One forward pass of every group and SMCL's loss L = alpha * L_MCE + beta * L_MSC (SPEC section 4), each
// classification term the loss of loss.name (cross-entropy by default) weighted by class_weights [K] as
// PyTorch's cross_entropy(weight=w). Without target views this is SCL on the two source views.
// StepOutput::logits are those of s1.
StepOutput smcl_loss(StepModel& model, const SmclGroups& groups, const torch::Tensor& class_weights,
                     const config::SmclConfig& smcl, const losses::ClassificationLoss& loss);

class Smcl : public Method {
 public:
  // train: the training set the targets are drawn from (images on the training device).
  Smcl(const config::Config& config, const data::Dataset& train);
  PreparedStep prepare(const StepInput& input, Rng& rng) const override;

  // The epoch from which batches carry the target views.
  int64_t target_start_epoch() const;

 private:
  // [B, 2] (row, column) saliency peaks of `images` (uint8 views) by the current model's class activation map
  // of `labels` (smcl.saliency cam).
  torch::Tensor cam_peaks(models::Network& model, const torch::Tensor& images, const torch::Tensor& labels) const;

  config::AugmentConfig augment_;
  // The same peaks by smcl.saliency, chosen in the constructor; empty for cam, which needs the model.
  std::function<torch::Tensor(const torch::Tensor& images, Rng& rng)> find_peaks_;
  config::SmclConfig smcl_;
  losses::ClassificationLoss loss_;
  data::Dataset train_;         // the training set, where the targets come from
  torch::Tensor train_labels_;  // [N] int64
  data::ClassWeightedSampler targets_;
};

}  // namespace smcl::methods
