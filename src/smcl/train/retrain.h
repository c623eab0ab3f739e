// Decoupled classifier re-training (Kang et al. 2020, SPEC section 5) of a finished run, features frozen:
//   crt       a fresh linear classifier trained with class-balanced sampling (every class 1/K, then a uniform
//             image of it), plain cross-entropy, SGD with a cosine schedule from retrain.lr to 0 by epoch
//   lws       the run's classifier kept, one scale f_k per class learned the same way: logits (W h + b)_k f_k
//   tau_norm  W_k / ||W_k||^tau with the bias dropped, no training
// The backbone stays in eval mode (batch-norm statistics frozen); images get the run's training augmentation.
// The result is a run folder of its own (config.yaml with the retrain section, metrics.jsonl, summary.json,
// checkpoints/last.pt and best.pt holding the whole model with the new classifier folded in, so `smcl eval`
// reads it like any run). Killed, it continues from checkpoints/retrain.pt.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "smcl/config/config.h"

namespace smcl::train {

// Re-trains (or rescales) the classifier of the finished run in source_dir into out_dir. A folder that already
// holds the same retrain is continued, or just returns its summary when finished. Throws smcl::Error naming
// the folder when the source is not a finished run, uses the cosine classifier (ldam), or out_dir holds another
// run. Returns summary.json.
nlohmann::json retrain(const std::string& source_dir, const config::RetrainConfig& options, const std::string& out_dir);

}  // namespace smcl::train
