#include "smcl/methods/bcl.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "smcl/augment/batch_transforms.h"
#include "smcl/core/error.h"
#include "smcl/losses/balanced_contrastive.h"
#include "test_util.h"

namespace smcl::methods {
namespace {

struct Fixture {
  config::Config config;
  data::Dataset train;
  models::Network model{nullptr};
  torch::Tensor images, labels, weights;

  Fixture() {
    config.method.name = config::MethodName::kBcl;
    config.loss.name = config::LossName::kLogitAdjusted;
    config.smcl.alpha = 0.8;
    config.smcl.beta = 0.35;
    config.smcl.temperature = 0.1;
    config.augment.mean = {0.5};
    config.augment.std = {0.25};
    torch::manual_seed(0);
    train.images = torch::randint(0, 256, {12, 1, 8, 8}, torch::kInt64).to(torch::kUInt8);
    train.labels = torch::tensor(std::vector<int64_t>{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2});
    train.num_classes = 3;
    model = build_model(config, 3, 1);
    images = train.images.narrow(0, 3, 8);
    labels = train.labels.narrow(0, 3, 8);
    weights = torch::tensor({1.0f, 2.0f, 4.0f});
  }
};

}  // namespace

// The step, rebuilt from its parts with the same draws: three views in one forward pass (eval mode, so that the
// two passes agree), the logit-adjusted CE of the first, the balanced contrastive loss of the other two
// projections with the prototypes normalize(head(W)).
TEST(Bcl, StepIsTheClassificationLossOfTheFirstViewPlusBclOfTheOtherTwo) {
  Fixture f;
  f.model->eval();
  Bcl bcl(f.config, f.train, f.model);
  bcl.module()->eval();
  Rng rng(7), replay(7);
  auto out = bcl.step(f.model, {f.images, f.labels, f.weights, 0}, rng);

  // The first view BCL's RandAugment recipe, the other two SimAugment (bcl.classifier_view, bcl.contrast_views).
  std::vector<torch::Tensor> views;
  views.push_back(augment::train_view(
      f.images, augment::view_augment(f.config.augment, config::ViewAugment::kRandAugment), replay));
  for (int i = 0; i < 2; ++i) {
    views.push_back(augment::train_view(
        f.images, augment::view_augment(f.config.augment, config::ViewAugment::kSimAugment), replay));
  }
  EXPECT_EQ(rng.state(), replay.state());
  auto forward = f.model->forward(torch::cat(views));
  // log prior of the counts 8, 3, 1 of 12, by hand
  auto log_prior = torch::log(torch::tensor({8.0f / 12, 3.0f / 12, 1.0f / 12}));
  auto ce = torch::nn::functional::cross_entropy(forward.logits.narrow(0, 0, 8) + log_prior, f.labels,
                                                 torch::nn::functional::CrossEntropyFuncOptions().weight(f.weights));
  auto head = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(bcl.module());
  ASSERT_NE(head, nullptr);
  auto prototypes = torch::nn::functional::normalize(head->forward(f.model->classifier()->weight),
                                                     torch::nn::functional::NormalizeFuncOptions().dim(1));
  auto contrastive = losses::balanced_contrastive(forward.projection.narrow(0, 8, 16), torch::cat({f.labels, f.labels}),
                                                  prototypes, 0.1);
  EXPECT_NEAR(out.loss.item<double>(), (0.8 * ce + 0.35 * contrastive).item<double>(), 1e-5);
  EXPECT_EQ(out.views, 24);
  EXPECT_TRUE(torch::equal(out.logits, forward.logits.narrow(0, 0, 8).detach()));
}

// The prototype head is the method's own: it gets gradients, and so does the classifier from both terms.
TEST(Bcl, ThePrototypeHeadAndTheClassifierLearnFromTheContrastiveTerm) {
  Fixture f;
  Bcl bcl(f.config, f.train, f.model);
  EXPECT_EQ(bcl.module()->parameters().size(), 6u);  // two linear layers and the batch norm's scale and shift
  f.config.smcl.alpha = 0;
  Bcl contrastive_only(f.config, f.train, f.model);
  Rng rng(3);
  contrastive_only.step(f.model, {f.images, f.labels, f.weights, 0}, rng).loss.backward();
  for (const auto& p : contrastive_only.module()->parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_GT(p.grad().abs().sum().item<double>(), 0);
  }
  EXPECT_GT(f.model->classifier()->weight.grad().abs().sum().item<double>(), 0);
}

// BCL's network as its code builds it: the cosine classifier of scale bcl.cosine_scale (30) and the projection head
// Linear, BatchNorm1d, ReLU, Linear to bcl.projection_dim (1024), each written out here from the parameters.
TEST(Bcl, ItsNetworkHasBclsCosineClassifierAndHead) {
  Fixture f;
  EXPECT_EQ(f.config.bcl.cosine_scale, 30);
  EXPECT_EQ(f.config.bcl.projection_dim, 1024);
  auto parameters = f.model->named_parameters();
  auto buffers = f.model->named_buffers();
  EXPECT_FALSE(parameters.contains("linear.bias"));
  EXPECT_EQ(parameters["head.0.weight"].sizes(), torch::IntArrayRef({64, 64}));
  EXPECT_EQ(parameters["head.1.weight"].sizes(), torch::IntArrayRef({64}));  // the batch norm's scale
  EXPECT_EQ(parameters["head.3.weight"].sizes(), torch::IntArrayRef({1024, 64}));
  // NormedLinear's initialisation: every class row of unit norm.
  EXPECT_TRUE(torch::allclose(parameters["linear.weight"].norm(2, 1), torch::ones({3}), 0, 1e-5));
  f.model->eval();
  auto out = f.model->forward(f.images.to(torch::kFloat32) / 255);
  const auto& h = out.features;
  auto w = parameters["linear.weight"];
  auto cosines = (h / h.norm(2, 1, true)).mm((w / w.norm(2, 1, true)).t());
  EXPECT_TRUE(torch::allclose(out.logits, 30 * cosines, 0, 1e-5));
  namespace F = torch::nn::functional;
  auto hidden = F::linear(h, parameters["head.0.weight"], parameters["head.0.bias"]);
  hidden = (hidden - buffers["head.1.running_mean"]) / torch::sqrt(buffers["head.1.running_var"] + 1e-5) *
               parameters["head.1.weight"] +
           parameters["head.1.bias"];
  auto projection = F::linear(torch::relu(hidden), parameters["head.3.weight"], parameters["head.3.bias"]);
  EXPECT_TRUE(torch::allclose(out.projection, projection / projection.norm(2, 1, true), 0, 1e-6));
  // bcl.cosine_scale 0: a linear classifier with a bias.
  f.config.bcl.cosine_scale = 0;
  EXPECT_TRUE(build_model(f.config, 3, 1)->named_parameters().contains("linear.bias"));
}

TEST(Bcl, RefusesLdamFocalsBiasOrANetworkWithoutProjection) {
  Fixture f;
  f.config.loss.name = config::LossName::kLdam;
  EXPECT_NE(test::error_of([&] { Bcl(f.config, f.train, build_model(f.config, 3, 1)); }).find("loss.name ldam"),
            std::string::npos);
  f.config.loss.name = config::LossName::kLogitAdjusted;
  EXPECT_THROW(Bcl(f.config, f.train, models::make_model(config::ModelName::kResNet8, 3, 1)), Error);
  // Focal's initial bias needs a linear classifier.
  f.config.loss.name = config::LossName::kFocal;
  EXPECT_NE(test::error_of([&] { build_model(f.config, 3, 1); }).find("bcl.cosine_scale: 0"), std::string::npos);
  f.config.bcl.cosine_scale = 0;
  EXPECT_TRUE(build_model(f.config, 3, 1)->classifier()->bias.defined());
}

}  // namespace smcl::methods
