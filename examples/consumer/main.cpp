// Uses the installed smcl library: builds the long-tailed counts of CIFAR-100-LT and a ResNet-32, and calls
// the public saliency and SupCon functions.
#include <cstdio>
#include <numeric>

#include "smcl/core/version.h"
#include "smcl/data/long_tail.h"
#include "smcl/losses/supcon.h"
#include "smcl/models/resnet_cifar.h"
#include "smcl/saliency/saliency.h"

int main() {
  auto counts = smcl::data::long_tail_counts(smcl::config::Profile::kExp, 100, 500, 100);
  auto model = smcl::models::make_model(smcl::config::ModelName::kResNet32, 100, 3);
  std::printf("smcl %s: CIFAR-100-LT has %lld images; ResNet-32 has %lld parameters\n", smcl::kVersion,
              static_cast<long long>(std::accumulate(counts.begin(), counts.end(), 0LL)),
              static_cast<long long>(smcl::models::parameter_count(*model)));
  // A bright square on black: the saliency peak is inside it.
  auto images = torch::zeros({1, 3, 32, 32}, torch::kUInt8);
  images.slice(2, 20, 26).slice(3, 4, 10).fill_(200);
  auto peak = smcl::saliency::peaks(smcl::saliency::fine_grained(images));
  auto features =
      torch::nn::functional::normalize(torch::ones({4, 8}), torch::nn::functional::NormalizeFuncOptions().dim(1));
  auto loss = smcl::losses::supcon(features, torch::tensor({0, 0, 1, 1}, torch::kInt64), 0.1, 0.1);
  std::printf("saliency peak (%lld, %lld); SupCon of identical features %.4f\n",
              static_cast<long long>(peak[0][0].item<int64_t>()), static_cast<long long>(peak[0][1].item<int64_t>()),
              loss.item<double>());
  return 0;
}
