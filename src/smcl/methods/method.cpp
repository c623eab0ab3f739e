#include "smcl/methods/method.h"

#include "smcl/augment/batch_transforms.h"
#include "smcl/core/error.h"

namespace smcl::methods {

StepOutput Erm::step(models::ResNetCifar& model, const StepInput& input, Rng& rng) {
  auto view = augment::train_view(input.images, augment_, rng);
  auto logits = model->forward(view).logits;
  // cross_entropy with weights is the weighted mean sum_i w_yi CE_i / sum_i w_yi, as PyTorch's.
  auto loss = torch::nn::functional::cross_entropy(
      logits, input.labels, torch::nn::functional::CrossEntropyFuncOptions().weight(input.class_weights));
  return {loss, logits.detach()};
}

std::vector<std::string> method_names() { return {"erm"}; }

std::unique_ptr<Method> make_method(const config::Config& config) {
  if (config.method.name == "erm") return std::make_unique<Erm>(config);
  std::string names;
  for (const auto& n : method_names()) names += (names.empty() ? "" : ", ") + n;
  throw Error("unknown method '" + config.method.name + "' (allowed: " + names + ")");
}

}  // namespace smcl::methods
