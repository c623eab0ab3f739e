// The mixing baselines of SPEC section 5, one method with four ways of building the mixed image:
//   mixup   x = lambda x_i + (1 - lambda) x_j, j a partner from a shuffle of the batch (Zhang et al. 2018)
//   cutmix  x_i with the partner's pixels pasted into a random box (Yun et al. 2019)
//   remix   mixup's image; the label share goes wholly to the minor class when the count ratio is at least
//           kappa and the major image's share is below tau (Chou et al. 2020)
//   cmo     cutmix's box, the partner drawn from the training set by a minor-weighted sampler (Park et al. 2022)
// lambda ~ Beta(alpha, alpha) once per batch; a box has side floor(D sqrt(1 - lambda)) around a uniform centre,
// clipped, and the label share of x_i is 1 - (actual box area) / (H W). Mixing happens with probability
// mix.prob per batch in epochs [mix.start_epoch, mix.end_epoch); other batches are plain ERM.
#pragma once

#include <optional>

#include "smcl/data/class_sampler.h"
#include "smcl/methods/method.h"

namespace smcl::methods {

// Remix's label share of image i given lambda, its share of the pixels: 0 when n_i / n_j >= kappa and
// lambda < tau, 1 when n_i / n_j <= 1 / kappa and 1 - lambda < tau, else lambda.
double remix_label_share(double lambda, int64_t count_i, int64_t count_j, double kappa, double tau);

class Mixing : public Method {
 public:
  // train: the training set (cmo draws its partners from it; remix reads its class counts).
  Mixing(const config::Config& config, const data::Dataset& train);
  PreparedStep prepare(const StepInput& input, Rng& rng) const override;

  // Whether a batch of `epoch` may be mixed (before the per-batch coin).
  bool mixes_in(int64_t epoch) const;

 private:
  // The three parts of a mixing method, fixed by method.name in the constructor.
  bool partners_from_training_set_;  // cmo: minor-weighted images of the training set; else the batch permuted
  bool blends_;                      // mixup, remix: lambda x + (1 - lambda) x'; cutmix, cmo: a box pasted
  bool remix_labels_;                // remix: Remix's label rule; else each label's share is its pixel share
  config::AugmentConfig augment_;
  config::MixConfig mix_;
  losses::ClassificationLoss loss_;
  std::vector<int64_t> counts_;
  data::Dataset train_;                                 // the training set, where cmo's partners come from
  torch::Tensor train_labels_;                          // [N] int64
  std::optional<data::ClassWeightedSampler> partners_;  // cmo only
};

}  // namespace smcl::methods
