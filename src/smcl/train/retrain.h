// Decoupled classifier re-training (Kang et al. 2020, SPEC section 5) of a finished run, features frozen:
//   crt       a fresh linear classifier trained with class-balanced sampling (every class 1/K, then a uniform
//             image of it), plain cross-entropy, SGD with a cosine schedule from retrain.lr to 0 by epoch
//   lws       the run's classifier kept, one scale f_k per class learned the same way: logits (W h + b)_k f_k
//   tau_norm  W_k / ||W_k||^tau with the bias dropped, no training
//   logit_adjust  b_k - tau log pi_k, pi_k = n_k / N of the training set: Menon et al.'s post-hoc logit
//             adjustment (ICLR 2021), argmax_k z_k - tau log pi_k, folded into the bias; no training
// The backbone's parameters stay frozen; with retrain.bn train (default, as Kang et al.'s code) it runs in training
// mode, so batch norm uses the class-balanced batches' statistics and updates its running statistics; with frozen
// it stays in eval mode. Images get the run's training augmentation.
// The result is a run folder of its own (config.yaml with the retrain section, metrics.jsonl, summary.json,
// checkpoints/last.pt and best.pt holding the whole model with the new classifier folded in, so `smcl eval`
// reads it like any run). Killed, it continues from checkpoints/retrain.pt.
#pragma once

#include <torch/torch.h>

#include <string>

#include "smcl/config/config.h"
#include "smcl/models/network.h"
#include "smcl/train/run_folder.h"

namespace smcl::train {

// The classifier being re-trained, apart from the model: logits (W h + b) * f. learn_classifier (crt): W and b
// are learned, f stays 1; otherwise (lws) f is learned, W and b stay as given.
class ClassifierHeadImpl : public torch::nn::Module {
 public:
  ClassifierHeadImpl(const torch::Tensor& weight, const torch::Tensor& bias, bool learn_classifier);
  torch::Tensor forward(const torch::Tensor& features);
  // Writes W f and b f into the model's linear classifier: the model alone then gives the head's logits.
  void fold_into(models::Network& model) const;

 private:
  torch::Tensor weight_, bias_, scale_;
};
TORCH_MODULE(ClassifierHead);

// tau-norm: each class row W_k / ||W_k||^tau, the bias zero.
void tau_normalize(torch::nn::Linear& classifier, double tau);

// Post-hoc logit adjustment: b_k -= tau log(n_k / N), counts n_k > 0 the training set's per class.
void adjust_logits(torch::nn::Linear& classifier, const std::vector<int64_t>& counts, double tau);

// One re-training step on a batch of training views: the model's pooled features without gradients (in the
// model's current mode: in training mode batch norm uses the batch's statistics and moves its running ones),
// cross-entropy of the head's logits, one optimizer step. Returns the loss, detached.
torch::Tensor retrain_step(models::Network& model, ClassifierHead& head, torch::optim::Optimizer& optimizer,
                           const torch::Tensor& views, const torch::Tensor& labels);

// Re-trains (or rescales) the classifier of the finished run in source_dir into out_dir. A folder that already
// holds the same retrain is continued, or just returns its summary when finished. Throws smcl::Error naming
// the folder when the source is not a finished run, uses the cosine classifier (ldam), or out_dir holds another
// run. Returns its summary.
RunSummary retrain(const std::string& source_dir, const config::RetrainConfig& options, const std::string& out_dir);

}  // namespace smcl::train
