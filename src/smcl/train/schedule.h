// The learning rate of each epoch (epochs counted from 0), set once at the start of the epoch as the
// LDAM-DRW/CMO codebases do: linear warm-up, then a step or a cosine schedule.
#pragma once

#include <cstdint>

#include "smcl/config/config.h"

namespace smcl::train {

// Warm-up: epoch e < warmup_epochs gets lr * (e + 1) / warmup_epochs.
// step: lr * gamma^(number of milestones <= e).
// cosine: lr * (1 + cos(pi * (e - warmup) / (epochs - warmup))) / 2 after the warm-up.
double learning_rate(const config::OptimConfig& optim, int64_t epoch, int64_t epochs);

}  // namespace smcl::train
