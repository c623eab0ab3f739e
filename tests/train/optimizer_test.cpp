// The SGD update of training (fit.cpp: torch::optim::SGD with momentum, coupled weight decay and the learning
// rate set before each epoch) against torch.optim.SGD: tests/reference/make_optim_golden.py.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "test_util.h"

namespace smcl::train {

TEST(Optimizer, SgdStepsEqualTorchOptimSgd) {
  const auto golden = test::read_json(test::golden("sgd.json"));
  std::vector<torch::Tensor> params;
  for (size_t i = 0; i < golden["shapes"].size(); ++i) {
    auto flat = torch::tensor(golden["initial"][i].get<std::vector<double>>(), torch::kFloat64);
    params.push_back(flat.reshape(golden["shapes"][i].get<std::vector<int64_t>>()).requires_grad_(true));
  }
  torch::optim::SGD optimizer(params, torch::optim::SGDOptions(0.1)
                                          .momentum(golden["momentum"].get<double>())
                                          .weight_decay(golden["weight_decay"].get<double>()));
  int step = 0;
  for (const auto& s : golden["steps"]) {
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(s["lr"].get<double>());
    }
    for (size_t i = 0; i < params.size(); ++i) {
      params[i].mutable_grad() =
          torch::tensor(s["grads"][i].get<std::vector<double>>(), torch::kFloat64).reshape(params[i].sizes());
    }
    optimizer.step();
    for (size_t i = 0; i < params.size(); ++i) {
      auto expected = torch::tensor(s["params"][i].get<std::vector<double>>(), torch::kFloat64);
      auto ours = params[i].detach().reshape(-1);
      EXPECT_TRUE(torch::allclose(ours, expected, 1e-13, 1e-15))
          << "step " << step << ", parameter " << i << ": largest difference "
          << (ours - expected).abs().max().item<double>();
    }
    ++step;
  }
  EXPECT_EQ(step, 6);
}

}  // namespace smcl::train
