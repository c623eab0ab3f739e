#include "smcl/methods/mixing.h"

#include <torch/torch.h>

#include "smcl/augment/batch_transforms.h"
#include "smcl/augment/masking.h"
#include "smcl/core/error.h"
#include "smcl/saliency/saliency.h"

namespace smcl::methods {

double remix_label_share(double lambda, int64_t count_i, int64_t count_j, double kappa, double tau) {
  const double ratio = double(count_i) / double(count_j);
  if (ratio >= kappa && lambda < tau) return 0.0;
  if (ratio <= 1.0 / kappa && 1.0 - lambda < tau) return 1.0;
  return lambda;
}

Mixing::Mixing(const config::Config& config, const data::Dataset& train)
    : partners_from_training_set_(config.method.name == config::MethodName::kCmo),
      blends_(config.method.name == config::MethodName::kMixup || config.method.name == config::MethodName::kRemix),
      remix_labels_(config.method.name == config::MethodName::kRemix),
      augment_(config.augment),
      mix_(config.mix),
      loss_(config.loss, data::class_counts(train), train.labels.device()),
      counts_(data::class_counts(train)),
      train_(train),
      train_labels_(train.labels) {
  SMCL_ASSERT(blends_ || partners_from_training_set_ || config.method.name == config::MethodName::kCutMix,
              "Mixing: method " << config::name_of(config.method.name) << " is not a mixing method");
  if (partners_from_training_set_) {
    partners_.emplace(train.labels,
                      data::class_probabilities(mix_.source_sampler, counts_, mix_.source_beta, mix_.source_power));
  }
}

bool Mixing::mixes_in(int64_t epoch) const {
  return epoch >= mix_.start_epoch && (mix_.end_epoch < 0 || epoch < mix_.end_epoch);
}

PreparedStep Mixing::prepare(const StepInput& input, Rng& rng) const {
  auto view = augment::train_view(input.images, augment_, rng);
  if (!mixes_in(input.epoch) || !rng.bernoulli(mix_.prob)) {
    auto run = [this](StepModel& model, const PreparedStep::Inputs& in) -> StepOutput {
      const auto &images = in[0], &labels = in[1], &class_weights = in[2];
      auto logits = model.forward(images).logits;
      return {loss_(logits, labels, class_weights), logits.detach(), images.size(0)};
    };
    return {{view, input.labels, input.class_weights}, run, "plain"};
  }
  const int64_t b = view.size(0), h = view.size(2), w = view.size(3);
  torch::Tensor partner, partner_labels;
  if (partners_from_training_set_) {
    auto index = torch::tensor(partners_->sample(b, rng), torch::kInt64).to(train_labels_.device());
    partner = augment::train_view(data::gather(train_, index), augment_, rng);
    partner_labels = train_labels_.index_select(0, index);
  } else {
    auto index = torch::tensor(rng.permutation(b), torch::kInt64).to(view.device());
    partner = view.index_select(0, index);
    partner_labels = input.labels.index_select(0, index);
  }
  const double lambda = rng.beta(mix_.alpha, mix_.alpha);
  torch::Tensor mixed, share;  // share [B]: the label share of each image's own label
  if (blends_) {
    mixed = lambda * view + (1 - lambda) * partner;
    std::vector<float> shares(static_cast<size_t>(b), static_cast<float>(lambda));
    if (remix_labels_) {
      // One copy of the labels to the CPU, not one read per sample.
      auto own_cpu = input.labels.cpu(), other_cpu = partner_labels.cpu();
      auto own = own_cpu.accessor<int64_t, 1>(), other = other_cpu.accessor<int64_t, 1>();
      for (int64_t i = 0; i < b; ++i) {
        shares[size_t(i)] =
            float(remix_label_share(lambda, counts_[size_t(own[i])], counts_[size_t(other[i])], mix_.kappa, mix_.tau));
      }
    }
    share = torch::tensor(shares).to(view.device());
  } else {
    auto centre = saliency::random_peaks(1, h, w, rng).expand({b, 2}).to(view.device());
    auto boxes = augment::boxes_at(centre, 1 - lambda, h, w, /*per_batch=*/true);
    mixed = augment::masked_images(view, partner, boxes);
    share = 1 - boxes.lambda;
  }
  auto run = [this](StepModel& model, const PreparedStep::Inputs& in) -> StepOutput {
    const auto &images = in[0], &labels = in[1], &other_labels = in[2], &shares = in[3], &class_weights = in[4];
    auto logits = model.forward(images).logits;
    return {loss_.mixed(logits, labels, other_labels, shares, class_weights), logits.detach(), images.size(0)};
  };
  return {{mixed, input.labels, partner_labels, share, input.class_weights}, run, "mixed"};
}

}  // namespace smcl::methods
