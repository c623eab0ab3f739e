// The SGD update of training (fit.cpp: SGD with momentum, coupled weight decay and the learning rate set before
// each epoch) against torch.optim.SGD (tests/reference/make_optim_golden.py), and the fused update
// (train/fused_sgd.h) against libtorch's own torch::optim::SGD.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include "smcl/models/network.h"
#include "smcl/train/fused_sgd.h"
#include "test_util.h"

namespace smcl::train {

// torch::optim::SGD itself (fuse false) and the fused update (fuse true): the golden's six steps.
class OptimizerGolden : public testing::TestWithParam<bool> {};

TEST_P(OptimizerGolden, SgdStepsEqualTorchOptimSgd) {
  const auto golden = test::read_json(test::golden("sgd.json"));
  std::vector<torch::Tensor> params;
  for (size_t i = 0; i < golden["shapes"].size(); ++i) {
    auto flat = torch::tensor(golden["initial"][i].get<std::vector<double>>(), torch::kFloat64);
    params.push_back(flat.reshape(golden["shapes"][i].get<std::vector<int64_t>>()).requires_grad_(true));
  }
  FusedSgd optimizer(params,
                     torch::optim::SGDOptions(0.1)
                         .momentum(golden["momentum"].get<double>())
                         .weight_decay(golden["weight_decay"].get<double>()),
                     GetParam());
  int step = 0;
  for (const auto& s : golden["steps"]) {
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(s["lr"].get<double>());
    }
    for (size_t i = 0; i < params.size(); ++i) {
      // A new gradient tensor every step: the fused update copies it into its buffer first.
      params[i].mutable_grad() =
          torch::tensor(s["grads"][i].get<std::vector<double>>(), torch::kFloat64).reshape(params[i].sizes());
    }
    optimizer.step();
    EXPECT_EQ(optimizer.fused(), GetParam());
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

INSTANTIATE_TEST_SUITE_P(FusedAndNot, OptimizerGolden, testing::Bool());

namespace {

// A ResNet-8 with projection head and channels_last weights, the same initialisation every call.
models::Network network() {
  torch::manual_seed(5);
  auto model = models::make_model(config::ModelName::kResNet8, 5, 3, {models::kSupConHead});
  model->use_channels_last();
  return model;
}

torch::optim::SGDOptions options(bool nesterov) {
  return torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(5e-4).nesterov(nesterov);
}

// One training step of `model` with the real autograd path: the gradients accumulate into whatever tensors
// the parameters' gradients are (the fused buffers' views once flat).
void train_step(models::Network& model, torch::optim::SGD& optimizer, int64_t step) {
  auto generator_seed = 100 + step;
  torch::manual_seed(uint64_t(generator_seed));
  auto x = torch::randn({8, 3, 12, 12});
  auto y = torch::randint(0, 5, {8}, torch::kInt64);
  if (auto* fused = dynamic_cast<FusedSgd*>(&optimizer)) {
    fused->zero_gradients();
  } else {
    optimizer.zero_grad();
  }
  auto out = model->forward(x);
  auto loss = torch::nn::functional::cross_entropy(out.logits, y) + 0.1 * out.projection.pow(2).sum();
  loss.backward();
  optimizer.step();
}

// The largest relative difference of two models' parameters.
double largest_relative_difference(models::Network& a, models::Network& b) {
  double largest = 0;
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    auto scale = pb[i].detach().abs().max().clamp_min(1e-12);
    largest = std::max(largest, ((pa[i] - pb[i]).abs().max() / scale).item<double>());
  }
  return largest;
}

}  // namespace

TEST(FusedSgd, TrainsAsTorchOptimSgdWithinOneRoundingPerStep) {
  for (bool nesterov : {false, true}) {
    auto reference = network(), fused_model = network();
    torch::optim::SGD sgd(reference->parameters(), options(nesterov));
    FusedSgd fused(fused_model->parameters(), options(nesterov));
    for (int64_t step = 0; step < 6; ++step) {
      train_step(reference, sgd, step);
      train_step(fused_model, fused, step);
      EXPECT_TRUE(fused.fused());
    }
    EXPECT_LT(largest_relative_difference(fused_model, reference), 1e-6) << "nesterov " << nesterov;
    // The flat buffers kept every parameter's shape and layout, channels_last included.
    auto pf = fused_model->parameters(), pr = reference->parameters();
    for (size_t i = 0; i < pf.size(); ++i) {
      EXPECT_EQ(pf[i].sizes(), pr[i].sizes());
      EXPECT_EQ(pf[i].strides(), pr[i].strides()) << "parameter " << i;
    }
  }
}

TEST(FusedSgd, ACheckpointResumesExactlyWithEitherOptimiser) {
  // Six fused steps without a break ...
  auto whole = network();
  FusedSgd whole_sgd(whole->parameters(), options(false));
  for (int64_t step = 0; step < 6; ++step) train_step(whole, whole_sgd, step);
  // ... and three, saved, loaded into a new model and optimiser, and three more.
  auto first = network();
  FusedSgd first_sgd(first->parameters(), options(false));
  for (int64_t step = 0; step < 3; ++step) train_step(first, first_sgd, step);
  std::stringstream model_bytes, optimizer_bytes;
  {
    torch::serialize::OutputArchive model_archive, optimizer_archive;
    first->save(model_archive);
    first_sgd.save(optimizer_archive);
    model_archive.save_to(model_bytes);
    optimizer_archive.save_to(optimizer_bytes);
  }
  auto resume = [&](torch::optim::SGD& optimizer, models::Network& model) {
    torch::serialize::InputArchive model_archive, optimizer_archive;
    model_bytes.seekg(0);
    optimizer_bytes.seekg(0);
    model_archive.load_from(model_bytes);
    optimizer_archive.load_from(optimizer_bytes);
    model->load(model_archive);
    optimizer.load(optimizer_archive);
    for (int64_t step = 3; step < 6; ++step) train_step(model, optimizer, step);
  };
  auto second = network();
  FusedSgd second_sgd(second->parameters(), options(false));
  resume(second_sgd, second);
  EXPECT_TRUE(second_sgd.fused());
  EXPECT_EQ(largest_relative_difference(second, whole), 0.0);  // the same operations on the same numbers
  // torch::optim::SGD reads the fused optimiser's checkpoint too.
  auto plain = network();
  torch::optim::SGD plain_sgd(plain->parameters(), options(false));
  resume(plain_sgd, plain);
  EXPECT_LT(largest_relative_difference(plain, whole), 1e-6);
}

TEST(FusedSgd, AParameterWithoutAGradientFallsBackToSgdItself) {
  auto a = torch::ones({3}, torch::requires_grad()), b = torch::ones({2}, torch::requires_grad());
  auto a_ref = torch::ones({3}, torch::requires_grad()), b_ref = torch::ones({2}, torch::requires_grad());
  FusedSgd fused({a, b}, options(false));
  torch::optim::SGD sgd({a_ref, b_ref}, options(false));
  for (int step = 0; step < 3; ++step) {
    fused.zero_gradients();
    sgd.zero_grad();
    (a * torch::tensor({1.0F, 2.0F, 3.0F})).sum().backward();  // b never gets a gradient: SGD skips it
    (a_ref * torch::tensor({1.0F, 2.0F, 3.0F})).sum().backward();
    fused.step();
    sgd.step();
    EXPECT_FALSE(fused.fused());
  }
  EXPECT_TRUE(torch::equal(a, a_ref));
  EXPECT_TRUE(torch::equal(b, b_ref));
  EXPECT_TRUE(torch::equal(b, torch::ones({2})));
}

TEST(FusedSgd, TheSwitchFusesOnCudaUnlessTold) {
  EXPECT_TRUE(fuses_sgd(config::Switch::kAuto, torch::Device(torch::kCUDA, 0)));
  EXPECT_FALSE(fuses_sgd(config::Switch::kAuto, torch::kCPU));
  EXPECT_TRUE(fuses_sgd(config::Switch::kOn, torch::kCPU));
  EXPECT_FALSE(fuses_sgd(config::Switch::kOff, torch::Device(torch::kCUDA, 0)));
}

}  // namespace smcl::train
