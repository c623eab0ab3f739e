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

// The step, rebuilt from its parts with the same draws: each view through the network in a pass of its own (in
// training mode: each view normalised by its own batch statistics, as GPaCo's query and key passes), and the
// parametric contrastive loss of both views' projections and logits against the batch and the queue as it was,
// with the log prior of the training counts 8, 3, 1 (of 12) written out here. Then the queue holds the second
// views' projections as its newest keys.
TEST(Gpaco, StepIsTheParametricContrastiveLossOfBothViewsAndTheQueue) {
  Fixture f;
  Gpaco gpaco(f.config, f.train);
  auto queue = std::dynamic_pointer_cast<KeyQueueImpl>(gpaco.module());
  ASSERT_NE(queue, nullptr);
  const auto keys_before = queue->keys.clone(), labels_before = queue->labels.clone();
  Rng rng(7), replay(7);
  auto out = gpaco.step(f.model, {f.images, f.labels, f.weights, 0}, rng);

  // The query view GPaCo's AutoAugment recipe, the key view SimAugment (paco.query_view, paco.key_view).
  std::vector<torch::Tensor> views;
  views.push_back(augment::train_view(
      f.images, augment::view_augment(f.config.augment, config::ViewAugment::kAutoAugment), replay));
  views.push_back(
      augment::train_view(f.images, augment::view_augment(f.config.augment, config::ViewAugment::kSimAugment), replay));
  EXPECT_EQ(rng.state(), replay.state());
  auto q = f.model->forward(views[0]), k = f.model->forward(views[1]);
  auto log_prior = torch::log(torch::tensor({8.0f / 12, 3.0f / 12, 1.0f / 12}));
  losses::ParametricContrastiveOptions options;
  options.alpha = 0.3;
  options.temperature = 0.1;
  const auto both = torch::cat({f.labels, f.labels});
  auto expected =
      losses::parametric_contrastive(torch::cat({q.projection, k.projection}), both, torch::cat({q.logits, k.logits}),
                                     log_prior, options, keys_before, labels_before);
  EXPECT_NEAR(out.loss.item<double>(), expected.item<double>(), 1e-5);
  EXPECT_EQ(out.views, 16);
  EXPECT_TRUE(torch::equal(out.logits, q.logits.detach()));
  // One pass over both views (shared batch statistics), or no queue, would be another loss.
  auto one_pass = f.model->forward(torch::cat(views));
  EXPECT_GT(
      std::abs(out.loss.item<double>() - losses::parametric_contrastive(one_pass.projection, both, one_pass.logits,
                                                                        log_prior, options, keys_before, labels_before)
                                             .item<double>()),
      1e-4);
  EXPECT_GT(std::abs(out.loss.item<double>() - losses::parametric_contrastive(torch::cat({q.projection, k.projection}),
                                                                              both, torch::cat({q.logits, k.logits}),
                                                                              log_prior, options)
                                                   .item<double>()),
            1e-4);
  // The queue: its 8 oldest keys gone, the second views' 8 projections and labels newest.
  const int64_t size = keys_before.size(0);
  EXPECT_TRUE(torch::equal(queue->keys.narrow(0, 0, size - 8), keys_before.narrow(0, 8, size - 8)));
  EXPECT_TRUE(torch::allclose(queue->keys.narrow(0, size - 8, 8), k.projection.detach(), 0, 1e-6));
  EXPECT_TRUE(torch::equal(queue->labels.narrow(0, size - 8, 8), f.labels));
}

// GPaCo's queue starts as its code starts it, [K, P] Gaussian keys normalised along the queue and uniform labels,
// and keeps the last K keys in order; K and P are config keys; queue_size 0 keeps none.
TEST(Gpaco, TheQueueStartsAsGpacosAndKeepsTheLastKeys) {
  Fixture f;
  EXPECT_EQ(f.config.paco.queue_size, 1024);
  EXPECT_EQ(f.config.paco.projection_dim, 32);
  Gpaco gpaco(f.config, f.train);
  auto queue = std::dynamic_pointer_cast<KeyQueueImpl>(gpaco.module());
  ASSERT_NE(queue, nullptr);
  EXPECT_EQ(queue->keys.sizes(), torch::IntArrayRef({1024, 32}));
  EXPECT_TRUE(torch::allclose(queue->keys.norm(2, 0), torch::ones({32}), 0, 1e-5));  // each column of unit norm
  EXPECT_GE(queue->labels.min().item<int64_t>(), 0);
  EXPECT_LE(queue->labels.max().item<int64_t>(), 2);
  EXPECT_EQ(std::get<0>(torch::_unique(queue->labels)).numel(), 3);  // uniform over the 3 classes: all drawn

  KeyQueue small(5, 2, 3);
  auto keys = [](std::vector<float> v) { return torch::tensor(v).view({-1, 2}); };
  small->keys.copy_(keys({0, 0, 1, 1, 2, 2, 3, 3, 4, 4}));
  small->labels.copy_(torch::tensor(std::vector<int64_t>{0, 1, 2, 0, 1}));
  small->push(keys({5, 5, 6, 6}), torch::tensor(std::vector<int64_t>{2, 2}));
  EXPECT_TRUE(torch::equal(small->keys, keys({2, 2, 3, 3, 4, 4, 5, 5, 6, 6})));
  EXPECT_TRUE(torch::equal(small->labels, torch::tensor(std::vector<int64_t>{2, 0, 1, 2, 2})));
  small->push(keys({7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12}), torch::tensor(std::vector<int64_t>{0, 1, 2, 0, 1, 2}));
  EXPECT_TRUE(torch::equal(small->keys, keys({8, 8, 9, 9, 10, 10, 11, 11, 12, 12})));  // a batch larger than K
  EXPECT_TRUE(torch::equal(small->labels, torch::tensor(std::vector<int64_t>{1, 2, 0, 1, 2})));

  f.config.paco.queue_size = 0;
  EXPECT_EQ(Gpaco(f.config, f.train).module(), nullptr);
}

// GPaCo's projection head: Linear, ReLU, Linear, ReLU, Linear to paco.projection_dim, with its code's names.
TEST(Gpaco, ItsNetworkHasGpacosThreeLayerHead) {
  Fixture f;
  auto parameters = f.model->named_parameters();
  for (const auto* name : {"head.0.weight", "head.2.weight", "head.4.weight"}) ASSERT_TRUE(parameters.contains(name));
  EXPECT_EQ(parameters["head.0.weight"].sizes(), torch::IntArrayRef({64, 64}));
  EXPECT_EQ(parameters["head.2.weight"].sizes(), torch::IntArrayRef({64, 64}));
  EXPECT_EQ(parameters["head.4.weight"].sizes(), torch::IntArrayRef({32, 64}));
  auto out = f.model->forward(f.images.to(torch::kFloat32) / 255);
  auto by_hand =
      torch::relu(torch::nn::functional::linear(out.features, parameters["head.0.weight"], parameters["head.0.bias"]));
  by_hand = torch::relu(torch::nn::functional::linear(by_hand, parameters["head.2.weight"], parameters["head.2.bias"]));
  by_hand = torch::nn::functional::linear(by_hand, parameters["head.4.weight"], parameters["head.4.bias"]);
  EXPECT_TRUE(torch::allclose(out.projection, by_hand / by_hand.norm(2, 1, /*keepdim=*/true), 0, 1e-6));
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
