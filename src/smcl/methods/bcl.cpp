#include "smcl/methods/bcl.h"

#include <torch/torch.h>

#include "smcl/augment/batch_transforms.h"
#include "smcl/core/error.h"
#include "smcl/losses/balanced_contrastive.h"

namespace smcl::methods {

Bcl::Bcl(const config::Config& config, const data::Dataset& train, const models::Network& model)
    : classifier_augment_(augment::view_augment(config.augment, config.bcl.classifier_view)),
      contrast_augment_(augment::view_augment(config.augment, config.bcl.contrast_views)),
      smcl_(config.smcl),
      loss_(config.loss, data::class_counts(train), train.labels.device()) {
  SMCL_CHECK(config.loss.name != config::LossName::kLdam,
             "method bcl builds its classifier from bcl.cosine_scale; loss.name ldam would build LDAM's (choose "
             "another loss)");
  SMCL_CHECK(model->has_projection(), "method bcl needs the network's projection head");
  const int64_t d = model->feature_dim(), p = config.bcl.projection_dim;
  prototype_head_ = torch::nn::Sequential(torch::nn::Linear(d, d), torch::nn::BatchNorm1d(d), torch::nn::ReLU(),
                                          torch::nn::Linear(d, p));
}

PreparedStep Bcl::prepare(const StepInput& input, Rng& rng) const {
  std::vector<torch::Tensor> views;
  views.push_back(augment::train_view(input.images, classifier_augment_, rng));
  for (int i = 0; i < 2; ++i) views.push_back(augment::train_view(input.images, contrast_augment_, rng));
  auto head = prototype_head_.ptr();  // a shared_ptr: the step calls the head, which this const method cannot
  auto run = [this, head](StepModel& model, const PreparedStep::Inputs& in) -> StepOutput {
    const auto &batch = in[0], &labels = in[1], &class_weights = in[2];
    const int64_t b = labels.size(0);
    auto out = model.forward(batch);
    auto logits = out.logits.narrow(0, 0, b);
    auto total = smcl_.alpha * loss_(logits, labels, class_weights);
    if (smcl_.beta != 0) {
      // The prototypes follow the classifier: W's gradient comes from both terms, as in BCL's code.
      auto prototypes = torch::nn::functional::normalize(head->forward(model.network()->classifier()->weight),
                                                         torch::nn::functional::NormalizeFuncOptions().dim(1));
      auto anchors = out.projection.narrow(0, b, 2 * b);
      total = total + smcl_.beta * losses::balanced_contrastive(anchors, torch::cat({labels, labels}), prototypes,
                                                                smcl_.temperature);
    }
    return {total, logits.detach(), batch.size(0)};
  };
  return {{torch::cat(views), input.labels, input.class_weights}, run, "bcl"};
}

}  // namespace smcl::methods
