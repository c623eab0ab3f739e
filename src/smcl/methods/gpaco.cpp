#include "smcl/methods/gpaco.h"

#include <torch/torch.h>

#include "smcl/augment/batch_transforms.h"
#include "smcl/core/error.h"
#include "smcl/losses/class_weights.h"

namespace smcl::methods {

Gpaco::Gpaco(const config::Config& config, const data::Dataset& train)
    : augment_(config.augment),
      options_{config.paco.alpha, config.paco.beta, config.paco.gamma, config.paco.temperature,
               config.paco.centre_temperature} {
  SMCL_CHECK(config.loss.name == config::LossName::kCe && config.loss.reweight == config::Reweight::kNone,
             "method gpaco's class-centre terms are its classification loss: loss.name must be ce and loss.reweight "
             "none (they are "
                 << config::name_of(config.loss.name) << " and " << config::name_of(config.loss.reweight) << ")");
  const auto counts = data::class_counts(train);
  for (int64_t n : counts) SMCL_CHECK(n > 0, "method gpaco needs training images in every class (its log prior)");
  log_prior_ = losses::log_prior(counts).to(train.labels.device(), torch::kFloat32);
}

PreparedStep Gpaco::prepare(const StepInput& input, Rng& rng) const {
  auto first = augment::train_view(input.images, augment_, rng);
  auto second = augment::train_view(input.images, augment_, rng);
  auto run = [this](StepModel& model, const PreparedStep::Inputs& in) -> StepOutput {
    const auto &batch = in[0], &labels = in[1];
    auto out = model.forward(batch);
    auto loss =
        losses::parametric_contrastive(out.projection, torch::cat({labels, labels}), out.logits, log_prior_, options_);
    return {loss, out.logits.narrow(0, 0, labels.size(0)).detach(), batch.size(0)};
  };
  return {{torch::cat({first, second}), input.labels}, run, "gpaco"};
}

}  // namespace smcl::methods
