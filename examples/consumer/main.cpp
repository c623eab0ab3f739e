// Uses the installed smcl library: builds the long-tailed counts of CIFAR-100-LT and a ResNet-32.
#include <cstdio>
#include <numeric>

#include "smcl/core/version.h"
#include "smcl/data/long_tail.h"
#include "smcl/models/resnet_cifar.h"

int main() {
  auto counts = smcl::data::long_tail_counts("exp", 100, 500, 100);
  auto model = smcl::models::make_model("resnet32", 100, 3);
  std::printf("smcl %s: CIFAR-100-LT has %lld images; ResNet-32 has %lld parameters\n", smcl::kVersion,
              static_cast<long long>(std::accumulate(counts.begin(), counts.end(), 0LL)),
              static_cast<long long>(smcl::models::parameter_count(*model)));
  return 0;
}
