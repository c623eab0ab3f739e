#include "smcl/methods/smcl.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "reference_model.h"
#include "smcl/augment/batch_transforms.h"
#include "smcl/augment/masking.h"
#include "smcl/core/error.h"
#include "smcl/core/torch_compat.h"
#include "smcl/losses/supcon.h"
#include "smcl/saliency/saliency.h"
#include "test_util.h"

namespace smcl::methods {
using test::labels_of;
using test::set_reference_parameters;
using test::tensor_of;

// One SMCL step on a fixed ResNet-8 and batch against tests/reference/make_smcl_golden.py: boxes and lambdas,
// masked images, normalisation, one forward pass of all groups, L_MCE with the lambda-mixed labels and class
// weights, L_MSC with the masked image counted as the target class in proportion mean(lambda).
TEST(SmclStep, LossAndGradientsMatchAnIndependentPyTorchImplementation) {
  auto golden = test::read_json(test::golden("smcl_step.json"));
  const int64_t b = golden["batch"], c = golden["channels"], h = golden["height"], w = golden["width"];
  std::vector<torch::Tensor> views_u8;
  for (const auto& v : golden["views"]) views_u8.push_back(tensor_of(v, {b, c, h, w}).to(torch::kUInt8));
  auto ys = labels_of(golden["source_labels"]), yt = labels_of(golden["target_labels"]);
  const std::vector<double> mean{golden["mean"].get<double>()}, std{golden["std"].get<double>()};

  for (const auto& kase : golden["cases"]) {
    const std::string name = kase["name"];
    SCOPED_TRACE(name);
    auto model = models::make_model(config::ModelName::kResNet8, golden["classes"], c, {models::kSupConHead});
    set_reference_parameters(model, golden["parameters"]);
    model->train();
    config::SmclConfig smcl;
    smcl.alpha = kase["alpha"];
    smcl.beta = kase["beta"];
    smcl.temperature = kase["temperature"];
    smcl.base_temperature = kase["base_temperature"];
    smcl.target_ce = kase["target_ce"];

    SmclGroups groups;
    groups.source_labels = ys;
    std::vector<torch::Tensor> list{views_u8[0], views_u8[1]};
    if (kase["with_targets"]) {
      groups.target_labels = yt;
      list.push_back(views_u8[2]);
      list.push_back(views_u8[3]);
    }
    auto normalized = augment::normalize(torch::cat(list), mean, std);
    if (kase["masked"]) {
      std::vector<int64_t> flat;
      for (const auto& p : kase["peaks"]) flat.insert(flat.end(), {p[0].get<int64_t>(), p[1].get<int64_t>()});
      auto boxes = augment::boxes_at(torch::tensor(flat).view({b, 2}), kase["u"], h, w, kase["box"] == "per_batch");
      for (int64_t i = 0; i < b; ++i) {
        const auto& expected = kase["boxes"][size_t(i)];
        EXPECT_EQ(boxes.top[i].item<int64_t>(), expected[0].get<int64_t>()) << i;
        EXPECT_EQ(boxes.bottom[i].item<int64_t>(), expected[1].get<int64_t>()) << i;
        EXPECT_EQ(boxes.left[i].item<int64_t>(), expected[2].get<int64_t>()) << i;
        EXPECT_EQ(boxes.right[i].item<int64_t>(), expected[3].get<int64_t>()) << i;
        EXPECT_NEAR(boxes.lambda[i].item<double>(), kase["lambda"][size_t(i)].get<double>(), 1e-7) << i;
      }
      auto fill = kase["mask_fill"] == "target" ? normalized.narrow(0, 2 * b, b) : torch::Tensor();
      normalized = torch::cat({normalized, augment::masked_images(normalized.narrow(0, 0, b), fill, boxes)});
      groups.lambda = boxes.lambda;
    }
    groups.views = normalized;
    auto weights = tensor_of(kase["class_weights"], {-1});
    StepModel step_model(model);
    auto out =
        smcl_loss(step_model, groups, weights, smcl, losses::ClassificationLoss(config::LossConfig{}, {1, 1, 1}));
    EXPECT_NEAR(out.loss.item<double>(), kase["loss"].get<double>(), 1e-5);

    if (name == golden["grad_case"]) {
      out.loss.backward();
      std::ifstream file(test::golden("smcl_step_grad.bin"), std::ios::binary);
      std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
      auto expected = torch::from_blob(bytes.data(), {int64_t(bytes.size() / sizeof(float))}, torch::kFloat32);
      std::vector<torch::Tensor> grads;
      for (const auto& p : model->parameters()) grads.push_back(p.grad().reshape(-1));
      auto ours = torch::cat(grads);
      ASSERT_EQ(ours.numel(), expected.numel());
      double worst = (ours - expected).abs().max().item<double>();
      EXPECT_LT(worst, 1e-4) << "largest gradient difference " << worst;
      EXPECT_GT(expected.abs().max().item<double>(), 1e-2);  // the comparison is not between zeros
    }
  }
}

}  // namespace smcl::methods

namespace smcl::methods {
namespace {

struct Fixture {
  config::Config config;
  data::Dataset train;
  models::Network model{nullptr};
  torch::Tensor images, labels, weights;

  Fixture() {
    config.method.name = config::MethodName::kSmcl;
    config.augment.mean = {0.5};
    config.augment.std = {0.25};
    config.smcl.mask_start_epoch = 3;
    config.smcl.saliency = config::Saliency::kCenter;
    torch::manual_seed(0);
    train.images = torch::randint(0, 256, {12, 1, 8, 8}, torch::kInt64).to(torch::kUInt8);
    train.labels = torch::tensor(std::vector<int64_t>{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2});
    train.num_classes = 3;
    model = models::make_model(config::ModelName::kResNet8, 3, 1, {models::kSupConHead});
    images = train.images.narrow(0, 2, 6);
    labels = train.labels.narrow(0, 2, 6);
    weights = torch::tensor({1.0f, 2.0f, 4.0f});
  }
};

}  // namespace

TEST(SmclStep, BeforeTheTargetsStartItIsScl) {
  Fixture f;
  Rng a(9), b(9);
  auto smcl = make_method(f.config, f.train)->step(f.model, {f.images, f.labels, f.weights, 2}, a);
  f.config.method.name = config::MethodName::kScl;
  auto scl = make_method(f.config, f.train)->step(f.model, {f.images, f.labels, f.weights, 2}, b);
  EXPECT_EQ(smcl.loss.item<double>(), scl.loss.item<double>());
  EXPECT_EQ(a.state(), b.state());
}

TEST(SmclStep, FromTheMaskEpochItAddsTargetViewsAndTheMaskedSourceView) {
  Fixture f;
  f.config.smcl.mask_prob = 1.0;
  Rng rng(21);
  Rng replay = rng;
  auto out = make_method(f.config, f.train)->step(f.model, {f.images, f.labels, f.weights, 3}, rng);

  // The same draws in the documented order: two source views, the targets (class ~ effective number, then
  // an image), their two views, the mask coin, then u for the centred boxes.
  const auto& a = f.config.augment;
  auto s1 = augment::random_view(f.images, a, replay), s2 = augment::random_view(f.images, a, replay);
  data::ClassWeightedSampler sampler(
      f.train.labels, data::class_probabilities(config::SamplerName::kEffectiveNumber, {8, 3, 1}, 0.9999, 1));
  auto index = torch::tensor(sampler.sample(6, replay));
  auto targets = f.train.images.index_select(0, index);
  auto t1 = augment::random_view(targets, a, replay), t2 = augment::random_view(targets, a, replay);
  ASSERT_TRUE(replay.bernoulli(1.0));
  auto boxes = augment::boxes_at(saliency::center_peaks(6, 8, 8), replay.beta(1, 1), 8, 8, false);
  auto views = augment::normalize(torch::cat({s1, s2, t1, t2}), a.mean, a.std);
  auto masked = augment::masked_images(views.narrow(0, 0, 6), views.narrow(0, 12, 6), boxes);
  SmclGroups groups{torch::cat({views, masked}), f.labels, f.train.labels.index_select(0, index), boxes.lambda};
  StepModel step_model(f.model);
  auto expected = smcl_loss(step_model, groups, f.weights, f.config.smcl,
                            losses::ClassificationLoss(f.config.loss, data::class_counts(f.train)));
  EXPECT_NEAR(out.loss.item<double>(), expected.loss.item<double>(), 1e-6);
  EXPECT_EQ(rng.state(), replay.state());
}

// Every ablation switch gives a working step: finite loss, gradients everywhere, the model left in training mode.
TEST(SmclStep, EveryAblationSwitchTrains) {
  std::vector<std::vector<std::pair<std::string, std::string>>> variants = {{{"saliency", "fine_grained"}},
                                                                            {{"saliency", "cam"}},
                                                                            {{"saliency", "random"}},
                                                                            {{"saliency", "center"}},
                                                                            {{"saliency_of", "target"}},
                                                                            {{"box", "per_batch"}},
                                                                            {{"mask_fill", "zero"}},
                                                                            {{"target_ce", "true"}},
                                                                            {{"target_sampler", "class_balanced"}},
                                                                            {{"target_sampler", "inverse_power"}}};
  if (saliency::opencv_available()) variants.push_back({{"saliency", "fine_grained_opencv"}});
  for (const auto& variant : variants) {
    Fixture f;
    f.config.smcl.mask_prob = 1.0;
    for (const auto& [key, value] : variant) {
      auto& c = f.config.smcl;
      if (key == "saliency") c.saliency = test::choice<config::Saliency>(value);
      if (key == "saliency_of") c.saliency_of = test::choice<config::SaliencyOf>(value);
      if (key == "box") c.box = test::choice<config::BoxMode>(value);
      if (key == "mask_fill") c.mask_fill = test::choice<config::MaskFill>(value);
      if (key == "target_ce") c.target_ce = value == "true";
      if (key == "target_sampler") c.target_sampler = test::choice<config::SamplerName>(value);
    }
    SCOPED_TRACE(variant[0].first + "=" + variant[0].second);
    f.model->train();
    Rng rng(4);
    auto out = make_method(f.config, f.train)->step(f.model, {f.images, f.labels, f.weights, 3}, rng);
    EXPECT_TRUE(std::isfinite(out.loss.item<double>()));
    EXPECT_TRUE(f.model->is_training());
    out.loss.backward();
    EXPECT_GT(f.model->classifier()->weight.grad().abs().sum().item<double>(), 0.0);
  }
}

TEST(SmclStep, BetaZeroLeavesOnlyTheCrossEntropyOfTheSourceViews) {
  Fixture f;
  f.config.smcl.beta = 0;
  f.config.smcl.mask_prob = 0;
  Rng rng(2), replay(2);
  auto out = make_method(f.config, f.train)->step(f.model, {f.images, f.labels, f.weights, 5}, rng);
  const auto& a = f.config.augment;
  auto s1 = augment::random_view(f.images, a, replay), s2 = augment::random_view(f.images, a, replay);
  data::ClassWeightedSampler sampler(
      f.train.labels, data::class_probabilities(config::SamplerName::kEffectiveNumber, {8, 3, 1}, 0.9999, 1));
  auto targets = f.train.images.index_select(0, torch::tensor(sampler.sample(6, replay)));
  auto t1 = augment::random_view(targets, a, replay), t2 = augment::random_view(targets, a, replay);
  ASSERT_FALSE(replay.bernoulli(0.0));
  auto logits = f.model->forward(augment::normalize(torch::cat({s1, s2, t1, t2}), a.mean, a.std)).logits;
  auto ce = torch::nn::functional::cross_entropy(logits.narrow(0, 0, 12), torch::cat({f.labels, f.labels}),
                                                 torch::nn::functional::CrossEntropyFuncOptions().weight(f.weights));
  EXPECT_NEAR(out.loss.item<double>(), ce.item<double>(), 1e-6);
  out.loss.backward();
  for (const auto& item : f.model->named_parameters()) {
    bool head = item.key().rfind("head.", 0) == 0;
    bool has_grad = item.value().grad().defined() && item.value().grad().abs().sum().item<double>() > 0;
    EXPECT_EQ(has_grad, !head) << item.key();
  }
}

TEST(SmclStep, UnderBf16AutocastTheLossesAreTheFloat32LossesOfTheBf16Outputs) {
  // train.amp: the model runs in bfloat16, every loss in float32 (losses/precision.h).
  torch::manual_seed(0);
  auto model = models::make_model(config::ModelName::kResNet8, 4, 3, {models::kSupConHead});
  const int64_t b = 6;
  SmclGroups groups;
  groups.views = torch::randn({5 * b, 3, 16, 16});
  groups.source_labels = torch::tensor(std::vector<int64_t>{0, 1, 2, 3, 0, 1});
  groups.target_labels = torch::tensor(std::vector<int64_t>{3, 3, 2, 2, 1, 0});
  groups.lambda = torch::rand({b});
  const auto weights = torch::tensor(std::vector<float>{0.5f, 1.0f, 1.5f, 2.0f});
  const config::SmclConfig smcl;
  const losses::ClassificationLoss ce(config::LossConfig{}, {10, 5, 3, 2});
  StepOutput step;
  models::Output out;
  {
    AutocastScope bf16(torch::kCPU, torch::kBFloat16, true);
    StepModel step_model(model);
    step = smcl_loss(step_model, groups, weights, smcl, ce);
    out = model->forward(groups.views);  // the same bfloat16 outputs once more
    // Without the pause, the similarity matrix would be bfloat16 (so the comparison below is not vacuous).
    EXPECT_EQ(out.projection.matmul(out.projection.t()).scalar_type(), torch::kBFloat16);
  }
  ASSERT_EQ(out.logits.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(step.loss.scalar_type(), torch::kFloat);
  // L = alpha L_MCE + beta L_MSC (SPEC section 4) from the bf16 outputs taken to float32, without autocast.
  const auto z = out.logits.to(torch::kFloat), v = out.projection.to(torch::kFloat);
  const auto& ys = groups.source_labels;
  const auto& yt = groups.target_labels;
  const auto view_labels = torch::cat({ys, ys, yt, yt});
  const auto lambda_bar = groups.lambda.mean();
  const auto expected = ce(z.narrow(0, 0, 2 * b), torch::cat({ys, ys}), weights) +
                        ce.mixed(z.narrow(0, 4 * b, b), yt, ys, groups.lambda, weights) +
                        lambda_bar * losses::supcon(v, torch::cat({view_labels, yt}), 0.07, 0.07) +
                        (1 - lambda_bar) * losses::supcon(v, torch::cat({view_labels, ys}), 0.07, 0.07);
  EXPECT_EQ(step.loss.item<float>(), expected.item<float>());
}

}  // namespace smcl::methods
