#include "smcl/methods/gpaco.h"

#include <torch/torch.h>

#include "smcl/augment/batch_transforms.h"
#include "smcl/core/error.h"
#include "smcl/losses/class_weights.h"

namespace smcl::methods {

KeyQueueImpl::KeyQueueImpl(int64_t size, int64_t dim, int64_t num_classes) {
  SMCL_ASSERT(size >= 1 && dim >= 1 && num_classes >= 1, "key queue " << size << " x " << dim);
  keys = register_buffer("keys", torch::nn::functional::normalize(
                                     torch::randn({size, dim}), torch::nn::functional::NormalizeFuncOptions().dim(0)));
  labels = register_buffer("labels", torch::randint(num_classes, {size}, torch::kInt64));
}

void KeyQueueImpl::push(const torch::Tensor& new_keys, const torch::Tensor& new_labels) {
  torch::NoGradGuard no_grad;
  const int64_t size = keys.size(0), b = new_keys.size(0), n = std::min(b, size);
  keys.copy_(torch::cat({keys.narrow(0, n, size - n), new_keys.narrow(0, b - n, n).to(keys.scalar_type())}));
  labels.copy_(torch::cat({labels.narrow(0, n, size - n), new_labels.narrow(0, b - n, n)}));
}

Gpaco::Gpaco(const config::Config& config, const data::Dataset& train)
    : query_augment_(augment::view_augment(config.augment, config.paco.query_view)),
      key_augment_(augment::view_augment(config.augment, config.paco.key_view)),
      options_{config.paco.alpha, config.paco.beta, config.paco.gamma, config.paco.temperature,
               config.paco.centre_temperature} {
  SMCL_CHECK(config.loss.name == config::LossName::kCe && config.loss.reweight == config::Reweight::kNone,
             "method gpaco's class-centre terms are its classification loss: loss.name must be ce and loss.reweight "
             "none (they are "
                 << config::name_of(config.loss.name) << " and " << config::name_of(config.loss.reweight) << ")");
  const auto counts = data::class_counts(train);
  for (int64_t n : counts) SMCL_CHECK(n > 0, "method gpaco needs training images in every class (its log prior)");
  log_prior_ = losses::log_prior(counts).to(train.labels.device(), torch::kFloat32);
  if (config.paco.queue_size > 0) {
    queue_ = KeyQueue(config.paco.queue_size, config.paco.projection_dim, int64_t(counts.size()));
  }
}

PreparedStep Gpaco::prepare(const StepInput& input, Rng& rng) const {
  auto first = augment::train_view(input.images, query_augment_, rng);
  auto second = augment::train_view(input.images, key_augment_, rng);
  // The shared module itself: the step updates it, which this const method cannot.
  std::shared_ptr<KeyQueueImpl> queue = queue_.is_empty() ? nullptr : queue_.ptr();
  auto run = [this, queue](StepModel& model, const PreparedStep::Inputs& in) -> StepOutput {
    const auto &query = in[0], &key = in[1], &labels = in[2];
    // Two passes, as GPaCo's code runs its query and key views: each view normalised by its own batch statistics.
    auto q = model.forward(query), k = model.forward(key);
    const auto projections = torch::cat({q.projection, k.projection}), logits = torch::cat({q.logits, k.logits});
    const auto both = torch::cat({labels, labels});
    torch::Tensor loss;
    if (!queue) {
      loss = losses::parametric_contrastive(projections, both, logits, log_prior_, options_);
    } else {
      // The queue as it was before this batch (a copy: the push below changes it in place, and backward reads it).
      loss = losses::parametric_contrastive(projections, both, logits, log_prior_, options_, queue->keys.clone(),
                                            queue->labels.clone());
      queue->push(k.projection.detach(), labels);
    }
    return {loss, q.logits.detach(), query.size(0) + key.size(0)};
  };
  return {{first, second, input.labels}, run, "gpaco"};
}

}  // namespace smcl::methods
