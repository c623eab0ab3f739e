#include "smcl/methods/method.h"

#include "smcl/augment/batch_transforms.h"
#include "smcl/core/error.h"
#include "smcl/methods/bcl.h"
#include "smcl/methods/gpaco.h"
#include "smcl/methods/mixing.h"
#include "smcl/methods/smcl.h"

namespace smcl::methods {

Erm::Erm(const config::Config& config, const data::Dataset& train)
    : augment_(config.augment), loss_(config.loss, data::class_counts(train)) {}

PreparedStep Erm::prepare(const StepInput& input, Rng& rng) const {
  auto view = augment::train_view(input.images, augment_, rng);
  return [this, view, input](models::Network& model) -> StepOutput {
    auto logits = model->forward(view).logits;
    return {loss_(logits, input.labels, input.class_weights), logits.detach(), view.size(0)};
  };
}

Scl::Scl(const config::Config& config, const data::Dataset& train)
    : augment_(config.augment), smcl_(config.smcl), loss_(config.loss, data::class_counts(train)) {}

PreparedStep Scl::prepare(const StepInput& input, Rng& rng) const {
  auto first = augment::train_view(input.images, augment_, rng);
  auto second = augment::train_view(input.images, augment_, rng);
  SmclGroups groups{torch::cat({first, second}), input.labels, {}, {}};
  return [this, groups, input](models::Network& model) {
    return smcl_loss(model, groups, input.class_weights, smcl_, loss_);
  };
}

bool uses_projection_head(const config::Config& config) {
  using config::MethodName;
  const auto name = config.method.name;
  return name == MethodName::kScl || name == MethodName::kSmcl || name == MethodName::kBcl ||
         name == MethodName::kGpaco;
}

models::Network build_model(const config::Config& config, int64_t num_classes, int64_t in_channels) {
  auto model = models::make_model(config.model.name, num_classes, in_channels, uses_projection_head(config),
                                  losses::uses_cosine_classifier(config.loss));
  if (auto bias = losses::initial_classifier_bias(config.loss, num_classes)) {
    torch::NoGradGuard no_grad;
    model->classifier()->bias.fill_(*bias);
  }
  return model;
}

std::unique_ptr<Method> make_method(const config::Config& config, const data::Dataset& train,
                                    const models::Network* model) {
  switch (config.method.name) {
    case config::MethodName::kErm: return std::make_unique<Erm>(config, train);
    case config::MethodName::kScl: return std::make_unique<Scl>(config, train);
    case config::MethodName::kSmcl: return std::make_unique<Smcl>(config, train);
    case config::MethodName::kBcl:
      SMCL_CHECK(model != nullptr, "method bcl needs the network it trains (its prototype head is sized by it)");
      return std::make_unique<Bcl>(config, train, *model);
    case config::MethodName::kGpaco: return std::make_unique<Gpaco>(config, train);
    case config::MethodName::kMixup:
    case config::MethodName::kCutMix:
    case config::MethodName::kRemix:
    case config::MethodName::kCmo: return std::make_unique<Mixing>(config, train);
  }
  throw Error("method value " + config::name_of(config.method.name) + " has no factory");
}

}  // namespace smcl::methods
