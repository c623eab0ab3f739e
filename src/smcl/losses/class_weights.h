// Per-class loss weights of SPEC section 5: class-balanced weights from the effective number of samples
// (Cui et al. 2019), used always ("cb") or from the DRW epoch on ("drw", Cao et al. 2019).
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

}  // namespace smcl::losses
