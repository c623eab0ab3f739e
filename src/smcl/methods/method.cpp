#include "smcl/methods/method.h"

#include "smcl/augment/batch_transforms.h"
#include "smcl/core/error.h"
#include "smcl/methods/bcl.h"
#include "smcl/methods/gpaco.h"
#include "smcl/methods/mixing.h"
#include "smcl/methods/smcl.h"

namespace smcl::methods {
namespace {

using MethodFactory = std::unique_ptr<Method> (*)(const config::Config&, const data::Dataset&, const models::Network*);

template <class M>
std::unique_ptr<Method> make(const config::Config& config, const data::Dataset& train, const models::Network*) {
  return std::make_unique<M>(config, train);
}

std::unique_ptr<Method> make_bcl(const config::Config& config, const data::Dataset& train,
                                 const models::Network* model) {
  SMCL_CHECK(model != nullptr, "method bcl needs the network it trains (its prototype head is sized by it)");
  return std::make_unique<Bcl>(config, train, *model);
}

// The projection heads of the methods that train one, as their codebases build them.
using HeadOf = models::ProjectionHead (*)(const config::Config&);
models::ProjectionHead no_head(const config::Config&) { return {}; }
models::ProjectionHead supcon_head(const config::Config&) { return models::kSupConHead; }
// BCL's `head`: Linear, BatchNorm1d, ReLU, Linear to bcl.projection_dim (1024).
models::ProjectionHead bcl_head(const config::Config& c) { return {c.bcl.projection_dim, 1, true}; }
// GPaCo's MLP: Linear, ReLU, Linear, ReLU, Linear to paco.projection_dim (32 in its CIFAR code).
models::ProjectionHead gpaco_head(const config::Config& c) { return {c.paco.projection_dim, 2, false}; }

// The registry: every method.name, the projection head its network carries, and its factory. A new method is its
// class, one line here and its name in config/choices.h.
struct Registered {
  config::MethodName name;
  HeadOf head;
  MethodFactory make;
};
using config::MethodName;
const Registered kRegistry[] = {
    {MethodName::kErm, no_head, make<Erm>},         // method.h
    {MethodName::kScl, supcon_head, make<Scl>},     // method.h
    {MethodName::kSmcl, supcon_head, make<Smcl>},   // smcl.h
    {MethodName::kBcl, bcl_head, make_bcl},         // bcl.h
    {MethodName::kGpaco, gpaco_head, make<Gpaco>},  // gpaco.h
    {MethodName::kMixup, no_head, make<Mixing>},    // mixing.h
    {MethodName::kCutMix, no_head, make<Mixing>},   // mixing.h
    {MethodName::kRemix, no_head, make<Mixing>},    // mixing.h
    {MethodName::kCmo, no_head, make<Mixing>},      // mixing.h
};

const Registered& registered(config::MethodName name) {
  for (const auto& entry : kRegistry) {
    if (entry.name == name) return entry;
  }
  throw Error("method value " + config::name_of(name) + " has no factory");
}

}  // namespace

StepModel::StepModel(models::Network network, Forward forward)
    : network_(std::move(network)), forward_(std::move(forward)) {}

models::Output StepModel::forward(const torch::Tensor& views) {
  return forward_ ? forward_(views) : network_->forward(views);
}

StepOutput Method::step(models::Network& model, const StepInput& input, Rng& rng) const {
  StepModel local(model);
  return prepare(input, rng)(local);
}

Erm::Erm(const config::Config& config, const data::Dataset& train)
    : augment_(config.augment), loss_(config.loss, data::class_counts(train), train.labels.device()) {}

PreparedStep Erm::prepare(const StepInput& input, Rng& rng) const {
  auto view = augment::train_view(input.images, augment_, rng);
  auto run = [this](StepModel& model, const PreparedStep::Inputs& in) -> StepOutput {
    const auto &images = in[0], &labels = in[1], &class_weights = in[2];
    auto logits = model.forward(images).logits;
    return {loss_(logits, labels, class_weights), logits.detach(), images.size(0)};
  };
  return {{view, input.labels, input.class_weights}, run, "erm"};
}

Scl::Scl(const config::Config& config, const data::Dataset& train)
    : augment_(config.augment),
      smcl_(config.smcl),
      loss_(config.loss, data::class_counts(train), train.labels.device()) {}

PreparedStep Scl::prepare(const StepInput& input, Rng& rng) const {
  auto first = augment::train_view(input.images, augment_, rng);
  auto second = augment::train_view(input.images, augment_, rng);
  auto run = [this](StepModel& model, const PreparedStep::Inputs& in) {
    const auto &views = in[0], &labels = in[1], &class_weights = in[2];
    return smcl_loss(model, SmclGroups{views, labels, {}, {}}, class_weights, smcl_, loss_);
  };
  return {{torch::cat({first, second}), input.labels, input.class_weights}, run, "scl"};
}

bool uses_projection_head(const config::Config& config) { return heads_of(config).projection.dim > 0; }

models::Heads heads_of(const config::Config& config) {
  models::Heads heads{registered(config.method.name).head(config), 0};
  if (losses::uses_cosine_classifier(config.loss)) {
    heads.cosine_scale = 1;  // LDAM's: its scale is in its loss
  } else if (config.method.name == MethodName::kBcl) {
    heads.cosine_scale = config.bcl.cosine_scale;
  }
  return heads;
}

models::Network build_model(const config::Config& config, int64_t num_classes, int64_t in_channels) {
  auto model = models::make_model(config.model.name, num_classes, in_channels, heads_of(config));
  if (auto bias = losses::initial_classifier_bias(config.loss, num_classes)) {
    SMCL_CHECK(!model->cosine_classifier(), "loss.name " << config::name_of(config.loss.name)
                                                         << " starts the classifier's bias at " << *bias
                                                         << "; BCL's cosine classifier has none (set "
                                                            "bcl.cosine_scale: 0 for a linear one)");
    torch::NoGradGuard no_grad;
    model->classifier()->bias.fill_(*bias);
  }
  return model;
}

std::unique_ptr<Method> make_method(const config::Config& config, const data::Dataset& train,
                                    const models::Network* model) {
  return registered(config.method.name).make(config, train, model);
}

}  // namespace smcl::methods
