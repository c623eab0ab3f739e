#include "smcl/methods/gpaco.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "smcl/augment/batch_transforms.h"
#include "smcl/core/error.h"
#include "test_util.h"

namespace smcl::methods {
namespace {

struct Fixture {
  config::Config config;
  data::Dataset train;
  models::Network model{nullptr};
  torch::Tensor images, labels, weights;

  Fixture() {
    config.method.name = config::MethodName::kGpaco;
    config.paco.alpha = 0.3;
    config.paco.temperature = 0.1;
    config.augment.mean = {0.5};
    config.augment.std = {0.25};
    torch::manual_seed(0);
    train.images = torch::randint(0, 256, {12, 1, 8, 8}, torch::kInt64).to(torch::kUInt8);
    train.labels = torch::tensor(std::vector<int64_t>{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2});
    train.num_classes = 3;
    model = build_model(config, 3, 1);
    images = train.images.narrow(0, 3, 8);
    labels = train.labels.narrow(0, 3, 8);
    weights = torch::ones({3});
  }
};

}  // namespace

// The step, rebuilt from its parts with the same draws: two views in one forward pass (eval mode, so that the
// two passes agree) and the parametric contrastive loss of both views' projections and logits, with the log prior
// of the training counts 8, 3, 1 (of 12) written out here.
TEST(Gpaco, StepIsTheParametricContrastiveLossOfBothViews) {
  Fixture f;
  f.model->eval();
  Gpaco gpaco(f.config, f.train);
  Rng rng(7), replay(7);
  auto out = gpaco.step(f.model, {f.images, f.labels, f.weights, 0}, rng);

  std::vector<torch::Tensor> views;
  for (int i = 0; i < 2; ++i) views.push_back(augment::train_view(f.images, f.config.augment, replay));
  EXPECT_EQ(rng.state(), replay.state());
  auto forward = f.model->forward(torch::cat(views));
  auto log_prior = torch::log(torch::tensor({8.0f / 12, 3.0f / 12, 1.0f / 12}));
  losses::ParametricContrastiveOptions options;
  options.alpha = 0.3;
  options.temperature = 0.1;
  auto expected = losses::parametric_contrastive(forward.projection, torch::cat({f.labels, f.labels}), forward.logits,
                                                 log_prior, options);
  EXPECT_NEAR(out.loss.item<double>(), expected.item<double>(), 1e-5);
  EXPECT_EQ(out.views, 16);
  EXPECT_TRUE(torch::equal(out.logits, forward.logits.narrow(0, 0, 8).detach()));
}

// The class centres are the classifier's rows: the classifier learns from the loss, and so does the backbone.
TEST(Gpaco, TheClassifierAndTheProjectionHeadLearn) {
  Fixture f;
  Gpaco gpaco(f.config, f.train);
  Rng rng(3);
  gpaco.step(f.model, {f.images, f.labels, f.weights, 0}, rng).loss.backward();
  EXPECT_GT(f.model->classifier()->weight.grad().abs().sum().item<double>(), 0);
  for (const auto& p : f.model->parameters()) ASSERT_TRUE(p.grad().defined());
}

TEST(Gpaco, RefusesAnotherClassificationLossOrReweighting) {
  Fixture f;
  f.config.loss.reweight = config::Reweight::kDrw;
  EXPECT_NE(test::error_of([&] { Gpaco(f.config, f.train); }).find("loss.reweight none"), std::string::npos);
  f.config.loss.reweight = config::Reweight::kNone;
  f.config.loss.name = config::LossName::kFocal;
  EXPECT_NE(test::error_of([&] { Gpaco(f.config, f.train); }).find("they are focal and none"), std::string::npos);
}

}  // namespace smcl::methods
