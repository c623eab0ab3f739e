#include "smcl/methods/method.h"

#include "smcl/augment/batch_transforms.h"
#include "smcl/core/error.h"
#include "smcl/losses/supcon.h"

namespace smcl::methods {
namespace {

// Weighted mean sum_i w_yi CE_i / sum_i w_yi, as PyTorch's cross_entropy(weight=w).
torch::Tensor weighted_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                     const torch::Tensor& class_weights) {
  return torch::nn::functional::cross_entropy(
      logits, labels, torch::nn::functional::CrossEntropyFuncOptions().weight(class_weights));
}

}  // namespace

StepOutput Erm::step(models::ResNetCifar& model, const StepInput& input, Rng& rng) {
  auto view = augment::train_view(input.images, augment_, rng);
  auto logits = model->forward(view).logits;
  return {weighted_cross_entropy(logits, input.labels, input.class_weights), logits.detach()};
}

StepOutput Scl::step(models::ResNetCifar& model, const StepInput& input, Rng& rng) {
  const int64_t b = input.labels.size(0);
  auto first = augment::train_view(input.images, augment_, rng);
  auto second = augment::train_view(input.images, augment_, rng);
  auto out = model->forward(torch::cat({first, second}));
  auto labels = torch::cat({input.labels, input.labels});
  auto ce = weighted_cross_entropy(out.logits, labels, input.class_weights);
  auto contrastive = losses::supcon(out.projection, labels, smcl_.temperature, smcl_.base_temperature);
  return {smcl_.alpha * ce + smcl_.beta * contrastive, out.logits.narrow(0, 0, b).detach()};
}

std::vector<std::string> method_names() { return {"erm", "scl"}; }

bool uses_projection_head(const config::Config& config) { return config.method.name != "erm"; }

std::unique_ptr<Method> make_method(const config::Config& config) {
  if (config.method.name == "erm") return std::make_unique<Erm>(config);
  if (config.method.name == "scl") return std::make_unique<Scl>(config);
  std::string names;
  for (const auto& n : method_names()) names += (names.empty() ? "" : ", ") + n;
  throw Error("unknown method '" + config.method.name + "' (allowed: " + names + ")");
}

}  // namespace smcl::methods
