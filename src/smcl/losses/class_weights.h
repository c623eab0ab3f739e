// Per-class loss weights of SPEC section 5: class-balanced weights from the effective number of samples
// (Cui et al. 2019), used always ("cb") or from the DRW epoch on ("drw", Cao et al. 2019); and the log class prior
// that logit adjustment adds to the logits.
#pragma once

#include <torch/types.h>

#include <vector>

#include "smcl/config/config.h"

namespace smcl::losses {

// w_k = (1 - beta) / (1 - beta^n_k), normalised to sum to K. counts: n_k > 0. Returns [K] float32.
torch::Tensor class_balanced_weights(const std::vector<int64_t>& counts, double beta);

// The weights of config.reweight at `epoch` (from 0): [K] float32, all ones when no reweighting applies.
torch::Tensor class_weights_at_epoch(const config::LossConfig& config, const std::vector<int64_t>& counts,
                                     int64_t epoch);

// tau log pi_k with pi_k = n_k / sum_j n_j, computed in double: the shift of Balanced Softmax and the logit-adjusted
// loss, of post-hoc logit adjustment, and of GPaCo's class centres (docs/methods.md). counts: n_k > 0. Returns [K]
// float64.
torch::Tensor log_prior(const std::vector<int64_t>& counts, double tau = 1.0);

}  // namespace smcl::losses
