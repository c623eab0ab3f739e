#include "smcl/methods/mixing.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "reference_model.h"
#include "smcl/augment/batch_transforms.h"
#include "test_util.h"

namespace smcl::methods {
namespace {

namespace F = torch::nn::functional;

struct Fixture {
  config::Config config;
  data::Dataset train;
  models::Network model{nullptr};
  torch::Tensor images, labels, weights;

  explicit Fixture(const std::string& method) {
    config.method.name = test::choice<config::MethodName>(method);
    config.mix.prob = 1.0;
    config.augment.mean = {0.5};
    config.augment.std = {0.25};
    torch::manual_seed(0);
    train.images = torch::randint(0, 256, {12, 1, 8, 8}, torch::kInt64).to(torch::kUInt8);
    train.labels = torch::tensor(std::vector<int64_t>{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2});
    train.num_classes = 3;
    model = models::make_model(config::ModelName::kResNet8, 3, 1);
    model->eval();  // batch statistics would make the reference forward pass below differ
    images = train.images.narrow(0, 3, 8);
    labels = train.labels.narrow(0, 3, 8);
    weights = torch::tensor({1.0f, 2.0f, 4.0f});
  }
};

// sum_i share_i w_{y_i} CE_i / sum_i w_{y_i}, written out sample by sample.
double weighted_ce(const torch::Tensor& logits, const std::vector<int64_t>& labels, const std::vector<double>& share,
                   const torch::Tensor& weights) {
  double total = 0, norm = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    double w = weights[labels[i]].item<double>();
    auto ce = F::cross_entropy(logits[int64_t(i)].unsqueeze(0), torch::tensor({labels[i]}));
    total += share[i] * w * ce.item<double>();
    norm += w;
  }
  return total / norm;
}

std::vector<int64_t> to_vector(const torch::Tensor& t) {
  auto c = t.contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

}  // namespace

TEST(Remix, LabelShareGoesToTheMinorClassOnlyWhenBothConditionsHold) {
  // n_i / n_j = 30 >= kappa 3: lambda below tau 0.5 drops label i, lambda above keeps mixup's share.
  EXPECT_EQ(remix_label_share(0.3, 300, 10, 3, 0.5), 0.0);
  EXPECT_EQ(remix_label_share(0.6, 300, 10, 3, 0.5), 0.6);
  // i is the minor one (ratio 1/30 <= 1/3): 1 - lambda = 0.3 < tau gives label i everything.
  EXPECT_EQ(remix_label_share(0.7, 10, 300, 3, 0.5), 1.0);
  EXPECT_EQ(remix_label_share(0.4, 10, 300, 3, 0.5), 0.4);
  // A ratio of 2 is below kappa: plain mixup.
  EXPECT_EQ(remix_label_share(0.1, 20, 10, 3, 0.5), 0.1);
  EXPECT_EQ(remix_label_share(0.1, 30, 10, 3, 0.5), 0.0);  // exactly kappa counts
}

TEST(Mixing, EpochWindowAndProbabilityZeroGivePlainErm) {
  Fixture f("cutmix");
  f.config.mix.start_epoch = 2;
  f.config.mix.end_epoch = 4;
  Mixing mixing(f.config, f.train);
  EXPECT_FALSE(mixing.mixes_in(1));
  EXPECT_TRUE(mixing.mixes_in(2));
  EXPECT_TRUE(mixing.mixes_in(3));
  EXPECT_FALSE(mixing.mixes_in(4));
  Rng a(3), b(3);
  auto out = mixing.step(f.model, {f.images, f.labels, f.weights, 1}, a);
  auto erm = Erm(f.config, f.train).step(f.model, {f.images, f.labels, f.weights, 1}, b);
  EXPECT_EQ(out.loss.item<double>(), erm.loss.item<double>());
}

// Each kind's step, replayed from the same generator: the partner, lambda, box and label shares rebuilt here
// by hand, and the loss assembled sample by sample.
TEST(Mixing, StepIsTheMixedImageAndTheMixedLabelLoss) {
  for (std::string kind : {"mixup", "cutmix", "remix", "cmo"}) {
    Fixture f(kind);
    f.config.mix.alpha = 0.7;
    Rng rng(11);
    auto out = make_method(f.config, f.train)->step(f.model, {f.images, f.labels, f.weights, 0}, rng);

    Rng replay(11);
    const int64_t b = 8, h = 8, w = 8;
    auto view = augment::train_view(f.images, f.config.augment, replay);
    ASSERT_TRUE(replay.bernoulli(1.0));
    torch::Tensor partner;
    std::vector<int64_t> own = to_vector(f.labels), other;
    if (kind == "cmo") {
      // CMO's 1 / n_k image weights: every class equally likely.
      data::ClassWeightedSampler sampler(f.train.labels, {1.0 / 3, 1.0 / 3, 1.0 / 3});
      auto index = torch::tensor(sampler.sample(b, replay));
      partner = augment::train_view(f.train.images.index_select(0, index), f.config.augment, replay);
      other = to_vector(f.train.labels.index_select(0, index));
    } else {
      auto perm = replay.permutation(b);
      partner = view.index_select(0, torch::tensor(perm));
      for (auto j : perm) other.push_back(own[size_t(j)]);
    }
    double lambda = replay.beta(0.7, 0.7);
    torch::Tensor mixed;
    std::vector<double> share(size_t(b), lambda);
    if (kind == "mixup" || kind == "remix") {
      mixed = lambda * view + (1 - lambda) * partner;
      if (kind == "remix") {
        const int64_t counts[3] = {8, 3, 1};
        for (size_t i = 0; i < share.size(); ++i) {
          double ratio = double(counts[own[i]]) / double(counts[other[i]]);
          if (ratio >= 3 && lambda < 0.5) share[i] = 0;
          if (ratio <= 1.0 / 3 && 1 - lambda < 0.5) share[i] = 1;
        }
      }
    } else {
      int64_t row = replay.uniform_int(h), col = replay.uniform_int(w);
      int64_t half = int64_t(std::floor(8 * std::sqrt(1 - lambda))) / 2;
      int64_t top = std::max<int64_t>(row - half, 0), bottom = std::min<int64_t>(row + half, h);
      int64_t left = std::max<int64_t>(col - half, 0), right = std::min<int64_t>(col + half, w);
      mixed = view.clone();
      using torch::indexing::Slice;
      mixed.index_put_({Slice(), Slice(), Slice(top, bottom), Slice(left, right)},
                       partner.index({Slice(), Slice(), Slice(top, bottom), Slice(left, right)}));
      double area = double((bottom - top) * (right - left)) / double(h * w);
      std::fill(share.begin(), share.end(), 1 - area);
    }
    auto logits = f.model->forward(mixed).logits;
    std::vector<double> rest;
    for (double s : share) rest.push_back(1 - s);
    double expected = weighted_ce(logits, own, share, f.weights) + weighted_ce(logits, other, rest, f.weights);
    EXPECT_NEAR(out.loss.item<double>(), expected, 1e-5) << kind;
    EXPECT_EQ(rng.state(), replay.state()) << kind;
  }
}

TEST(Mixing, EveryKindAndLossTrains) {
  for (std::string kind : {"mixup", "cutmix", "remix", "cmo"}) {
    for (std::string loss : {"ce", "ldam", "focal", "balanced_softmax"}) {
      Fixture f(kind);
      f.config.loss.name = test::choice<config::LossName>(loss);
      f.config.model.name = config::ModelName::kResNet8;
      auto model = build_model(f.config, 3, 1);
      Rng rng(5);
      auto out = make_method(f.config, f.train)->step(model, {f.images, f.labels, f.weights, 0}, rng);
      ASSERT_TRUE(std::isfinite(out.loss.item<double>())) << kind << " " << loss;
      out.loss.backward();
      for (const auto& p : model->parameters()) {
        ASSERT_TRUE(p.grad().defined()) << kind << " " << loss;
      }
    }
  }
}

// One step of each kind against tests/reference/make_mixing_golden.py: loss and gradients of the closed-form
// ResNet-8 in training mode. The golden takes the random draws as inputs; they are smcl's own draws for this
// batch, replayed here from the same generator and checked first, so a change of the generator's stream says so.
TEST(Mixing, OneStepOfEachKindMatchesAnIndependentPyTorchImplementation) {
  auto golden = test::read_json(test::golden("mixing_step.json"));
  const int64_t b = golden["batch"], first = golden["first"];
  data::Dataset train;
  train.images = test::tensor_of(golden["images"], {-1, 1, 8, 8}).to(torch::kUInt8);
  train.labels = test::labels_of(golden["train_labels"]);
  train.num_classes = golden["classes"];
  auto images = train.images.narrow(0, first, b), labels = train.labels.narrow(0, first, b);
  auto weights = test::tensor_of(golden["class_weights"], {-1});
  for (const auto& expected : golden["steps"]) {
    const std::string kind = expected["kind"];
    SCOPED_TRACE(kind);
    config::Config config;
    config.method.name = test::choice<config::MethodName>(kind);
    config.mix.prob = 1.0;
    config.mix.alpha = golden["alpha"];
    config.mix.kappa = golden["kappa"];
    config.mix.tau = golden["tau"];
    config.mix.source_sampler =
        config::SamplerName::kInversePower;  // CMO's 1 / n_k image weights: every class equally likely
    config.mix.source_power = 1.0;
    config.augment.crop_padding = 0;
    config.augment.flip = false;
    config.augment.mean = {golden["mean"].get<double>()};
    config.augment.std = {golden["std"].get<double>()};

    // The draws, in the order the step makes them.
    Rng replay(golden["seed"].get<uint64_t>());
    augment::train_view(images, config.augment, replay);
    ASSERT_TRUE(replay.bernoulli(1.0));
    std::vector<int64_t> partners;
    if (kind == "cmo") {
      data::ClassWeightedSampler sampler(train.labels, {1.0 / 3, 1.0 / 3, 1.0 / 3});
      partners = sampler.sample(b, replay);
      augment::train_view(train.images.index_select(0, torch::tensor(partners)), config.augment, replay);
    } else {
      partners = replay.permutation(b);
    }
    const double lambda = replay.beta(config.mix.alpha, config.mix.alpha);
    nlohmann::json draws = {{"partners", partners}, {"lambda", lambda}, {"centre", nullptr}};
    if (kind == "cutmix" || kind == "cmo") {
      const int64_t row = replay.uniform_int(8);
      draws["centre"] = {row, replay.uniform_int(8)};
    }
    if (draws.dump() != expected["draws"].dump()) {
      ADD_FAILURE() << "smcl's generator no longer draws what the golden was made with: put " << draws.dump()
                    << " into DRAWS of make_mixing_golden.py and regenerate it";
      continue;
    }

    auto model = models::make_model(config::ModelName::kResNet8, train.num_classes, 1);
    test::set_reference_parameters(model, golden["parameters"]);
    model->train();
    Rng rng(golden["seed"].get<uint64_t>());
    auto out = make_method(config, train)->step(model, {images, labels, weights, 0}, rng);
    EXPECT_EQ(rng.state(), replay.state());
    EXPECT_NEAR(out.loss.item<double>(), expected["loss"].get<double>(), 1e-5 * expected["loss"].get<double>());
    out.loss.backward();
    int64_t index = 0;
    for (const auto& item : model->named_parameters()) {
      const auto& want = expected["gradients"][item.key()];
      auto g = item.value().grad().to(torch::kFloat64).reshape(-1);
      auto direction = torch::sin(0.11 * torch::arange(g.numel(), torch::kFloat64) + 0.7 * double(index++));
      const double norm2 = want["squared_norm"];
      EXPECT_NEAR(g.dot(g).item<double>(), norm2, 1e-4 * norm2 + 1e-12) << item.key();
      EXPECT_NEAR(g.dot(direction).item<double>(), want["dot"].get<double>(),
                  1e-4 * std::sqrt(norm2 * double(g.numel())) + 1e-9)
          << item.key();
      if (want.contains("values")) {
        auto values = test::tensor_of(want["values"], {-1}).to(torch::kFloat64);
        EXPECT_LT((g - values).abs().max().item<double>(), 1e-5 + 1e-4 * values.abs().max().item<double>())
            << item.key();
      }
    }
  }
}

}  // namespace smcl::methods
