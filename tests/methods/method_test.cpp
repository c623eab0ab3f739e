#include "smcl/methods/method.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "smcl/augment/batch_transforms.h"
#include "smcl/core/error.h"
#include "smcl/losses/supcon.h"

namespace smcl::methods {

namespace {

data::Dataset tiny_training_set() {
  data::Dataset train;
  train.images = torch::randint(0, 256, {6, 1, 8, 8}, torch::kInt64).to(torch::kUInt8);
  train.labels = torch::tensor(std::vector<int64_t>{0, 0, 0, 0, 1, 2});
  train.num_classes = 3;
  return train;
}

}  // namespace

TEST(Methods, EveryNameMakesItsMethod) {
  // The contrastive methods train a projection head (SPEC section 6; BCL's and GPaCo's papers); the others not.
  const std::set<std::string> with_head = {"scl", "smcl", "bcl", "gpaco"};
  for (const auto& [value, name] : config::Choices<config::MethodName>::table) {
    config::Config config;
    config.method.name = value;
    auto model = build_model(config, 3, 1);
    EXPECT_NE(make_method(config, tiny_training_set(), &model), nullptr) << name;
    EXPECT_EQ(model->has_projection(), with_head.count(std::string(name)) == 1) << name;
  }
  config::Config bcl;
  bcl.method.name = config::MethodName::kBcl;
  EXPECT_THROW(make_method(bcl, tiny_training_set()), Error);  // its prototype head needs the network
}

TEST(Methods, SclIsWeightedCrossEntropyOnTwoViewsPlusSupConOnTheirProjections) {
  config::Config config;
  config.method.name = config::MethodName::kScl;
  config.smcl.alpha = 0.7;
  config.smcl.beta = 0.3;
  config.smcl.temperature = 0.2;
  config.augment.mean = {0.5};
  config.augment.std = {0.25};
  torch::manual_seed(0);
  auto model = models::make_model(config::ModelName::kResNet8, 3, 1, {models::kSupConHead});
  model->eval();  // batch statistics would make the two forward passes below differ
  auto images = torch::randint(0, 256, {6, 1, 8, 8}, torch::kInt64).to(torch::kUInt8);
  auto labels = torch::tensor(std::vector<int64_t>{0, 1, 2, 0, 1, 1});
  auto weights = torch::tensor({1.0f, 2.0f, 4.0f});
  Rng rng(4);
  auto out = make_method(config, tiny_training_set())->step(model, {images, labels, weights, 0}, rng);

  // The same views, recomputed from the same generator state, and the loss assembled term by term.
  Rng again(4);
  auto v1 = augment::train_view(images, config.augment, again);
  auto v2 = augment::train_view(images, config.augment, again);
  auto o1 = model->forward(v1), o2 = model->forward(v2);
  auto ce_terms =
      torch::cat({torch::nn::functional::cross_entropy(
                      o1.logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone)),
                  torch::nn::functional::cross_entropy(
                      o2.logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))});
  auto w = weights.index_select(0, torch::cat({labels, labels}));
  auto ce = (w * ce_terms).sum() / w.sum();
  auto sc = losses::supcon(torch::cat({o1.projection, o2.projection}), torch::cat({labels, labels}), 0.2, 0.07);
  EXPECT_NEAR(out.loss.item<double>(), (0.7 * ce + 0.3 * sc).item<double>(), 1e-5);
  EXPECT_TRUE(torch::allclose(out.logits, o1.logits, 1e-5, 1e-5));
}

}  // namespace smcl::methods
