// The closed sets of configuration values (config/choices.h): every name round-trips through the table and
// through a config file, and every value reaches its factory.
#include "smcl/config/choices.h"

#include <gtest/gtest.h>

#include <set>

#include "smcl/config/config.h"
#include "smcl/data/class_sampler.h"
#include "smcl/data/datasets.h"
#include "smcl/data/long_tail.h"
#include "smcl/losses/classification.h"
#include "smcl/models/network.h"
#include "test_util.h"

namespace smcl::config {
namespace {

// Names and values are unique, the values are exactly 0 .. N-1 (so the table lists every enumerator of an enum
// without explicit values), and name_of / parse_choice invert each other.
template <typename E>
void expect_round_trip(const char* what) {
  SCOPED_TRACE(what);
  std::set<std::string> names;
  std::set<int> values;
  for (const auto& [value, name] : Choices<E>::table) {
    EXPECT_TRUE(names.insert(name).second) << name << " twice";
    EXPECT_TRUE(values.insert(static_cast<int>(value)).second) << name << "'s value twice";
    EXPECT_EQ(name_of(value), name);
    ASSERT_TRUE(parse_choice<E>(name).has_value()) << name;
    EXPECT_EQ(*parse_choice<E>(name), value);
  }
  EXPECT_EQ(*values.begin(), 0);
  EXPECT_EQ(*values.rbegin(), static_cast<int>(Choices<E>::table.size()) - 1);
  EXPECT_FALSE(parse_choice<E>("no_such_name").has_value());
  EXPECT_FALSE(parse_choice<E>("").has_value());
}

TEST(Choices, EveryNameRoundTrips) {
  expect_round_trip<DatasetName>("DatasetName");
  expect_round_trip<Subset>("Subset");
  expect_round_trip<Profile>("Profile");
  expect_round_trip<ModelName>("ModelName");
  expect_round_trip<MethodName>("MethodName");
  expect_round_trip<SamplerName>("SamplerName");
  expect_round_trip<Saliency>("Saliency");
  expect_round_trip<SaliencyOf>("SaliencyOf");
  expect_round_trip<BoxMode>("BoxMode");
  expect_round_trip<MaskFill>("MaskFill");
  expect_round_trip<LossName>("LossName");
  expect_round_trip<Reweight>("Reweight");
  expect_round_trip<RetrainMode>("RetrainMode");
  expect_round_trip<RetrainBn>("RetrainBn");
  expect_round_trip<DeviceName>("DeviceName");
  expect_round_trip<Amp>("Amp");
  expect_round_trip<Backend>("Backend");
  expect_round_trip<Schedule>("Schedule");
  expect_round_trip<Switch>("Switch");
}

// Each name set with --set is the value read back, and config.yaml writes the name, which loads again.
template <typename E, typename Read>
void expect_config_round_trip(const std::string& key, Read read) {
  for (const auto& [value, name] : Choices<E>::table) {
    SCOPED_TRACE(key + "=" + name);
    Config config = parse("", "", {key + "=" + name});
    EXPECT_EQ(read(config), value);
    const std::string yaml = to_yaml(config);
    EXPECT_NE(yaml.find(key.substr(key.rfind('.') + 1) + ": " + name), std::string::npos) << yaml;
    EXPECT_EQ(read(parse(yaml, "config.yaml")), value);
  }
}

TEST(Choices, EveryNameRoundTripsThroughAConfigFile) {
  expect_config_round_trip<DatasetName>("data.name", [](const Config& c) { return c.data.name; });
  expect_config_round_trip<Subset>("data.subset", [](const Config& c) { return c.data.subset; });
  expect_config_round_trip<Profile>("data.profile", [](const Config& c) { return c.data.profile; });
  expect_config_round_trip<ModelName>("model.name", [](const Config& c) { return c.model.name; });
  expect_config_round_trip<MethodName>("method.name", [](const Config& c) { return c.method.name; });
  expect_config_round_trip<SamplerName>("mix.source_sampler", [](const Config& c) { return c.mix.source_sampler; });
  expect_config_round_trip<SamplerName>("smcl.target_sampler", [](const Config& c) { return c.smcl.target_sampler; });
  expect_config_round_trip<Saliency>("smcl.saliency", [](const Config& c) { return c.smcl.saliency; });
  expect_config_round_trip<SaliencyOf>("smcl.saliency_of", [](const Config& c) { return c.smcl.saliency_of; });
  expect_config_round_trip<BoxMode>("smcl.box", [](const Config& c) { return c.smcl.box; });
  expect_config_round_trip<MaskFill>("smcl.mask_fill", [](const Config& c) { return c.smcl.mask_fill; });
  expect_config_round_trip<LossName>("loss.name", [](const Config& c) { return c.loss.name; });
  expect_config_round_trip<Reweight>("loss.reweight", [](const Config& c) { return c.loss.reweight; });
  expect_config_round_trip<RetrainMode>("retrain.mode", [](const Config& c) { return c.retrain.mode; });
  expect_config_round_trip<RetrainBn>("retrain.bn", [](const Config& c) { return c.retrain.bn; });
  expect_config_round_trip<DeviceName>("train.device", [](const Config& c) { return c.train.device; });
  expect_config_round_trip<Backend>("train.distributed.backend",
                                    [](const Config& c) { return c.train.distributed_backend; });
  expect_config_round_trip<Schedule>("optim.schedule", [](const Config& c) { return c.optim.schedule; });
  expect_config_round_trip<Amp>("train.amp", [](const Config& c) { return c.train.amp; });
  expect_config_round_trip<Switch>("train.fused_sgd", [](const Config& c) { return c.train.fused_sgd; });
  expect_config_round_trip<Switch>("train.cuda_graphs", [](const Config& c) { return c.train.cuda_graphs; });
}

TEST(Choices, AnUnknownNameListsTheAllowedOnes) {
  const std::string message = test::error_of([] { parse("", "", {"optim.schedule=linear"}); });
  EXPECT_NE(message.find("--set optim.schedule=linear: optim.schedule: 'linear' is not one of: step, cosine"),
            std::string::npos)
      << message;
  // --help's key list names them too.
  EXPECT_NE(describe_keys().find("optim.schedule (step | cosine, default step)"), std::string::npos);
}

// Every value reaches its factory (the factories switch over the enum; these run each branch once).
TEST(Choices, EveryValueHasItsFactory) {
  for (const auto& [value, name] : Choices<ModelName>::table) {
    auto model = models::make_model(value, 3, 1);
    EXPECT_GT(models::parameter_count(*model), 0) << name;
  }
  for (const auto& [value, name] : Choices<DatasetName>::table) {
    EXPECT_EQ(data::dataset_info(value).name, value) << name;
  }
  for (const auto& [value, name] : Choices<LossName>::table) {
    LossConfig loss;
    loss.name = value;
    losses::ClassificationLoss classify(loss, {4, 2});
    auto value_of = classify(torch::zeros({2, 2}), torch::tensor(std::vector<int64_t>{0, 1}), torch::ones({2}));
    EXPECT_TRUE(std::isfinite(value_of.item<double>())) << name;
  }
  for (const auto& [value, name] : Choices<SamplerName>::table) {
    double total = 0;
    for (double p : data::class_probabilities(value, {4, 2}, 0.9, 0.5)) total += p;
    EXPECT_NEAR(total, 1.0, 1e-12) << name;
  }
  for (const auto& [value, name] : Choices<Profile>::table) {
    EXPECT_EQ(data::long_tail_counts(value, 4, 100, 10).front(), 100) << name;
  }
}

}  // namespace
}  // namespace smcl::config
