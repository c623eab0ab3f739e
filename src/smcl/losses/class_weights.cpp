#include "smcl/losses/class_weights.h"

#include <cmath>

#include "smcl/core/error.h"

namespace smcl::losses {

torch::Tensor class_balanced_weights(const std::vector<int64_t>& counts, double beta) {
  std::vector<double> w;
  double total = 0;
  for (int64_t n : counts) {
    SMCL_CHECK(n > 0, "class-balanced weights need at least one image per class; a class has " << n);
    // The same double-precision expression as the Python codebases (numpy), so the weights agree exactly.
    double value = (1.0 - beta) / (1.0 - std::pow(beta, double(n)));
    w.push_back(value);
    total += value;
  }
  for (auto& v : w) v *= double(counts.size()) / total;
  return torch::tensor(w, torch::kFloat64).to(torch::kFloat32);
}

torch::Tensor class_weights_at_epoch(const config::LossConfig& config, const std::vector<int64_t>& counts,
                                     int64_t epoch) {
  const bool on = config.reweight == config::Reweight::kCb ||
                  (config.reweight == config::Reweight::kDrw && epoch >= config.drw_epoch);
  if (!on) return torch::ones({int64_t(counts.size())}, torch::kFloat32);
  return class_balanced_weights(counts, config.cb_beta);
}

torch::Tensor log_prior(const std::vector<int64_t>& counts, double tau) {
  double total = 0;
  for (int64_t n : counts) total += double(n);
  std::vector<double> shift;
  for (int64_t n : counts) shift.push_back(tau * std::log(double(n) / total));
  return torch::tensor(shift, torch::kFloat64);
}

}  // namespace smcl::losses
