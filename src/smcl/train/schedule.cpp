#include "smcl/train/schedule.h"

#include <cmath>

namespace smcl::train {

double learning_rate(const config::OptimConfig& optim, int64_t epoch, int64_t epochs) {
  if (epoch < optim.warmup_epochs) return optim.lr * double(epoch + 1) / double(optim.warmup_epochs);
  if (optim.schedule == config::Schedule::kCosine) {
    double span = double(epochs - optim.warmup_epochs);
    double progress = span > 0 ? double(epoch - optim.warmup_epochs) / span : 0.0;
    return optim.lr * 0.5 * (1.0 + std::cos(M_PI * progress));
  }
  double lr = optim.lr;
  for (int64_t milestone : optim.milestones) {
    if (epoch >= milestone) lr *= optim.gamma;
  }
  return lr;
}

}  // namespace smcl::train
