#include "smcl/methods/method.h"

#include "smcl/augment/batch_transforms.h"
#include "smcl/core/error.h"
#include "smcl/methods/smcl.h"

namespace smcl::methods {

StepOutput Erm::step(models::ResNetCifar& model, const StepInput& input, Rng& rng) {
  auto view = augment::train_view(input.images, augment_, rng);
  auto logits = model->forward(view).logits;
  // cross_entropy with weights is the weighted mean sum_i w_yi CE_i / sum_i w_yi, as PyTorch's.
  auto loss = torch::nn::functional::cross_entropy(
      logits, input.labels, torch::nn::functional::CrossEntropyFuncOptions().weight(input.class_weights));
  return {loss, logits.detach()};
}

StepOutput Scl::step(models::ResNetCifar& model, const StepInput& input, Rng& rng) {
  auto first = augment::train_view(input.images, augment_, rng);
  auto second = augment::train_view(input.images, augment_, rng);
  return smcl_loss(model, {torch::cat({first, second}), input.labels, {}, {}}, input.class_weights, smcl_);
}

std::vector<std::string> method_names() { return {"erm", "scl", "smcl"}; }

bool uses_projection_head(const config::Config& config) { return config.method.name != "erm"; }

std::unique_ptr<Method> make_method(const config::Config& config, const data::Dataset& train) {
  if (config.method.name == "erm") return std::make_unique<Erm>(config);
  if (config.method.name == "scl") return std::make_unique<Scl>(config);
  if (config.method.name == "smcl") return std::make_unique<Smcl>(config, train);
  std::string names;
  for (const auto& n : method_names()) names += (names.empty() ? "" : ", ") + n;
  throw Error("unknown method '" + config.method.name + "' (allowed: " + names + ")");
}

}  // namespace smcl::methods
