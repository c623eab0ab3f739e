// GPaCo, generalized parametric contrastive learning (Cui et al., ICCV 2021 and TPAMI 2023; docs/methods.md), as its
// long-tail code trains it: two augmented views of each image (paco.query_view and paco.key_view: by default its
// CIFAR code's AutoAugment and SimAugment), each through the network in a pass of its own (its
// batch-norm statistics its own, as the code's query and key passes), and the parametric contrastive loss over
// both views' projections, with the classifier's logits as the learnable class centres' similarities. Each anchor's
// contrast set is the batch's two views plus a queue of the last paco.queue_size keys (second views' projections)
// and their labels; no momentum encoder (the code has none either: both views go through the same network). The
// centre terms replace the cross-entropy, so loss.name must be ce and loss.reweight none; the settings are section
// paco.
#pragma once

#include <torch/nn/module.h>

#include "smcl/data/dataset.h"
#include "smcl/losses/parametric_contrastive.h"
#include "smcl/methods/method.h"

namespace smcl::methods {

// GPaCo's queue: the last K keys [K, P] and their labels [K], oldest first, as buffers (saved in every checkpoint,
// restored on resume). It starts as GPaCo's code starts it: Gaussian keys normalised along the queue (dim 0), labels
// uniform over the classes, drawn from torch's global generator.
class KeyQueueImpl : public torch::nn::Module {
 public:
  KeyQueueImpl(int64_t size, int64_t dim, int64_t num_classes);
  // keys [B, P], labels [B]: the oldest min(B, K) leave, the newest min(B, K) of these arrive at the end. In place,
  // with shapes fixed by B alone (a captured step may do it).
  void push(const torch::Tensor& keys, const torch::Tensor& labels);

  torch::Tensor keys, labels;
};
TORCH_MODULE(KeyQueue);

class Gpaco : public Method {
 public:
  // The queue's keys are paco.projection_dim wide, the network's projections (heads_of); it is initialised from
  // torch's global generator: call after the model's initialisation.
  Gpaco(const config::Config& config, const data::Dataset& train);
  PreparedStep prepare(const StepInput& input, Rng& rng) const override;
  // The queue (null when paco.queue_size is 0).
  std::shared_ptr<torch::nn::Module> module() const override { return queue_.is_empty() ? nullptr : queue_.ptr(); }

 private:
  config::AugmentConfig query_augment_, key_augment_;  // paco.query_view, paco.key_view
  losses::ParametricContrastiveOptions options_;
  torch::Tensor log_prior_;  // [K] float32 log(n_k / n) of the training counts, on the training device
  KeyQueue queue_{nullptr};
};

}  // namespace smcl::methods
