// cRT, LWS and tau-norm (Kang et al. 2020) against tests/reference/make_decoupled_golden.py: two re-training
// steps of smcl's head and step on the closed-form ResNet-8, with batch norm in training mode and frozen.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>

#include "reference_model.h"
#include "smcl/augment/batch_transforms.h"
#include "smcl/train/retrain.h"
#include "test_util.h"

namespace smcl::train {
namespace {

void expect_close(const torch::Tensor& ours, const nlohmann::json& expected, const std::string& what) {
  auto want = test::tensor_of(expected, {-1});
  auto got = ours.detach().reshape(-1).to(torch::kFloat32);
  ASSERT_EQ(got.numel(), want.numel()) << what;
  const double worst = (got - want).abs().max().item<double>();
  EXPECT_LT(worst, 1e-5 + 1e-5 * want.abs().max().item<double>()) << what << ": largest difference " << worst;
}

}  // namespace

TEST(Decoupled, CrtAndLwsStepsMatchAnIndependentPyTorchImplementation) {
  auto golden = test::read_json(test::golden("decoupled.json"));
  const int64_t k = golden["classes"];
  std::vector<torch::Tensor> views;
  for (const auto& batch : golden["images"]) {
    views.push_back(augment::normalize(test::tensor_of(batch, {-1, 1, 8, 8}).to(torch::kUInt8),
                                       {golden["mean"].get<double>()}, {golden["std"].get<double>()}));
  }
  for (const auto& run : golden["runs"]) {
    const std::string mode = run["mode"], bn = run["bn"];
    SCOPED_TRACE(mode + ", bn " + bn);
    auto model = models::make_model(config::ModelName::kResNet8, k, 1);
    test::set_reference_parameters(model, golden["parameters"]);
    model->train(bn == "train");
    const bool crt = mode == "crt";
    auto weight =
        crt ? test::tensor_of(golden["crt_start"]["weight"], {k, -1}) : model->classifier()->weight.detach().clone();
    auto bias = crt ? test::tensor_of(golden["crt_start"]["bias"], {k}) : model->classifier()->bias.detach().clone();
    ClassifierHead head(weight, bias, crt);
    torch::optim::SGD optimizer(head->parameters(), torch::optim::SGDOptions(golden["lr"].get<double>())
                                                        .momentum(golden["momentum"].get<double>())
                                                        .weight_decay(golden["weight_decay"].get<double>()));
    auto parameters_before = torch::cat({model->parameters()[0].detach().reshape(-1).clone(),
                                         model->classifier()->weight.detach().reshape(-1).clone()});
    for (size_t step = 0; step < views.size(); ++step) {
      auto loss = retrain_step(model, head, optimizer, views[step], test::labels_of(golden["labels"][step]));
      const double expected = run["losses"][step];
      EXPECT_NEAR(loss.item<double>(), expected, 1e-5 * std::max(1.0, expected)) << "step " << step;
    }
    auto buffers = head->named_buffers(), learned = head->named_parameters();
    auto find = [&](const std::string& name) { return learned.find(name) ? *learned.find(name) : buffers[name]; };
    expect_close(find("weight"), run["weight"], "W");
    expect_close(find("bias"), run["bias"], "b");
    expect_close(find("scale"), run["scale"], "f");
    // Batch norm's running statistics move in training mode only (the golden has them either way).
    expect_close(model->named_buffers()["bn1.running_mean"], run["bn1_running_mean"], "bn1.running_mean");
    expect_close(model->named_buffers()["layer3.0.bn2.running_var"], run["layer3_bn2_running_var"],
                 "layer3.0.bn2.running_var");
    // The backbone's parameters and the network's own classifier are untouched.
    auto parameters_after =
        torch::cat({model->parameters()[0].detach().reshape(-1), model->classifier()->weight.detach().reshape(-1)});
    EXPECT_TRUE(torch::equal(parameters_before, parameters_after));
    // Folded into the network, the network alone gives the head's logits.
    torch::NoGradGuard no_grad;
    model->eval();
    auto h = model->forward(views[0]).features;
    auto by_head = head->forward(h);
    head->fold_into(model);
    EXPECT_LT((model->classify(h) - by_head).abs().max().item<double>(), 1e-5);
  }
}

TEST(Decoupled, TauNormMatchesAnIndependentPyTorchImplementation) {
  auto golden = test::read_json(test::golden("decoupled.json"));
  auto model = models::make_model(config::ModelName::kResNet8, golden["classes"], 1);
  test::set_reference_parameters(model, golden["parameters"]);
  tau_normalize(model->classifier(), golden["tau"]);
  expect_close(model->classifier()->weight, golden["tau_norm"]["weight"], "W");
  expect_close(model->classifier()->bias, golden["tau_norm"]["bias"], "b");
}

TEST(Decoupled, PostHocLogitAdjustmentMatchesAnIndependentPyTorchImplementation) {
  auto golden = test::read_json(test::golden("decoupled.json"));
  auto model = models::make_model(config::ModelName::kResNet8, golden["classes"], 1);
  test::set_reference_parameters(model, golden["parameters"]);
  auto weight = model->classifier()->weight.detach().clone();
  adjust_logits(model->classifier(), golden["counts"].get<std::vector<int64_t>>(), golden["tau"]);
  expect_close(model->classifier()->bias, golden["logit_adjust"]["bias"], "b");
  EXPECT_TRUE(torch::equal(model->classifier()->weight, weight));
}

// Any tau >= 0 (issue 37), here 2.5, by hand: b_k - 2.5 log(n_k / N).
TEST(Decoupled, PostHocLogitAdjustmentTakesAnyTau) {
  auto classifier = torch::nn::Linear(4, 3);
  const std::vector<int64_t> counts = {60, 30, 10};
  const auto before = classifier->bias.detach().to(torch::kFloat64).clone();
  adjust_logits(classifier, counts, 2.5);
  for (int64_t k = 0; k < 3; ++k) {
    const double expected = before[k].item<double>() - 2.5 * std::log(double(counts[size_t(k)]) / 100.0);
    EXPECT_NEAR(classifier->bias[k].item<double>(), expected, 1e-5) << k;
  }
}

}  // namespace smcl::train
