#include "smcl/config/config.h"

#include <gtest/gtest.h>

#include <map>

#include "smcl/core/error.h"
#include "smcl/sweep/sweep.h"
#include "test_util.h"

namespace smcl::config {
namespace {

std::string error_of(const std::string& path, const std::vector<std::string>& overrides) {
  return test::error_of([&] { load(path, overrides); });
}

}  // namespace

TEST(Config, FileAndOverridesSetTheNamedKeys) {
  test::TempDir dir;
  test::write_bytes(dir / "c.yaml", "data:\n  name: cifar100\n  imbalance_ratio: 50\noptim:\n  lr: 0.05\n");
  Config c = load(dir / "c.yaml", {"optim.milestones=[160, 180]", "train.epochs=3", "augment.flip=false"});
  EXPECT_EQ(c.data.name, config::DatasetName::kCifar100);
  EXPECT_DOUBLE_EQ(c.data.imbalance_ratio, 50);
  EXPECT_DOUBLE_EQ(c.optim.lr, 0.05);
  EXPECT_EQ(c.optim.milestones, (std::vector<int64_t>{160, 180}));
  EXPECT_EQ(c.train.epochs, 3);
  EXPECT_FALSE(c.augment.flip);
  EXPECT_EQ(c.model.name, config::ModelName::kResNet32);  // untouched default
}

TEST(Config, LaterOverridesWin) {
  Config c = load("", {"optim.lr=0.5", "optim.lr=0.25"});
  EXPECT_DOUBLE_EQ(c.optim.lr, 0.25);
}

TEST(Config, EveryProblemIsReportedAtOnceWithKeySourceAndValue) {
  test::TempDir dir;
  test::write_bytes(dir / "bad.yaml", "data:\n  name: imagenet\n  colour: red\noptim:\n  lr: fast\n");
  std::string message = error_of(dir / "bad.yaml", {"optim.gamma=2", "train.epochs=0"});
  EXPECT_NE(message.find("5 problems"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown key 'data.colour'"), std::string::npos) << message;
  EXPECT_NE(message.find("'imagenet' is not one of: fashion_mnist, mnist, cifar10, cifar100"), std::string::npos)
      << message;
  EXPECT_NE(message.find("optim.lr = fast: expected number"), std::string::npos) << message;
  EXPECT_NE(message.find("--set optim.gamma=2: optim.gamma: 2 is not in (0, 1]"), std::string::npos) << message;
  EXPECT_NE(message.find("train.epochs: 0 is not >= 1"), std::string::npos) << message;
  EXPECT_NE(message.find(dir / "bad.yaml"), std::string::npos) << message;
}

TEST(Config, WrongShapesAndSyntaxAreErrors) {
  EXPECT_NE(error_of("", {"optim.milestones=160"}).find("expected list of int"), std::string::npos);
  EXPECT_NE(error_of("", {"optim.milestones=[180, 160]"}).find("increasing"), std::string::npos);
  EXPECT_NE(error_of("", {"train.epochs=2.5"}).find("expected int"), std::string::npos);
  EXPECT_NE(error_of("", {"noequals"}).find("expected key=value"), std::string::npos);
  EXPECT_NE(error_of("", {"optim=1"}).find("unknown key 'optim'"), std::string::npos);
  EXPECT_NE(error_of("/nonexistent/c.yaml", {}).find("cannot read config file '/nonexistent/c.yaml'"),
            std::string::npos);
  test::TempDir dir;
  test::write_bytes(dir / "broken.yaml", "data: [unclosed\n");
  EXPECT_NE(error_of(dir / "broken.yaml", {}).find("is not valid YAML: line"), std::string::npos);
}

TEST(Config, NonFiniteNumbersAreRefusedForEveryRealKey) {
  for (const char* key : {"optim.lr", "data.imbalance_ratio", "mix.kappa", "smcl.box_beta", "mix.source_power"}) {
    for (const char* value : {".inf", "-.inf", ".nan"}) {
      const std::string message = error_of("", {std::string(key) + "=" + value});
      EXPECT_NE(message.find(std::string(key) + " = " + value + ": expected a finite number"), std::string::npos)
          << message;
    }
  }
  EXPECT_NE(error_of("", {"augment.std=[0.5, .inf, 0.5]"}).find("expected a finite number"), std::string::npos);
}

// Hostile YAML: an alias bomb, complex keys, thousands of unknown keys; each a short error, none a crash.
TEST(Config, HostileYamlIsBounded) {
  test::TempDir dir;
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char level = 'b'; level <= 'j'; ++level) {
    const char previous = char(level - 1);
    bomb += std::string(1, level) + ": &" + level + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", " : "") + "*" + previous;
    bomb += "]\n";
  }
  bomb += "train: {epochs: *j}\n";
  ASSERT_LT(bomb.size(), 1000u);
  test::write_bytes(dir / "bomb.yaml", bomb);
  EXPECT_NE(error_of(dir / "bomb.yaml", {}).find("more than 100000 YAML nodes"), std::string::npos);

  test::write_bytes(dir / "complex.yaml", "optim:\n  ? [lr, gamma]\n  : 1\n");
  EXPECT_NE(error_of(dir / "complex.yaml", {}).find("a key under 'optim' is not a plain name"), std::string::npos);

  std::string unknown;
  for (int i = 0; i < 5000; ++i) unknown += "optim.no_such_key_" + std::to_string(i) + ": 1\n";
  test::write_bytes(dir / "unknown.yaml", unknown);
  const std::string message = error_of(dir / "unknown.yaml", {});
  EXPECT_NE(message.find("(5000 problems)"), std::string::npos);
  EXPECT_NE(message.find("... and 4980 more"), std::string::npos);
  EXPECT_LT(message.size(), 10000u);  // not one line per key
}

TEST(Config, DifferingKeysNameKeyAndBothValues) {
  auto a = load("", {"optim.lr=0.1"});
  auto b = load("", {"optim.lr=0.2", "train.threads=3"});
  EXPECT_EQ(differing_keys(a, b), (std::vector<std::string>{"train.threads (0 -> 3)", "optim.lr (0.1 -> 0.2)"}));
  EXPECT_TRUE(differing_keys(a, a).empty());
}

TEST(Config, SmclKeysAreCheckedTogether) {
  std::string message =
      error_of("", {"method.name=smcl", "smcl.saliency=sift", "smcl.mask_prob=1.5", "smcl.box=per_pixel",
                    "smcl.mask_start_epoch=10", "smcl.target_start_epoch=12", "smcl.target_beta=1"});
  EXPECT_NE(message.find("5 problems"), std::string::npos) << message;
  EXPECT_NE(message.find("smcl.saliency: 'sift' is not one of: fine_grained, fine_grained_opencv, cam, center, random"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("smcl.mask_prob: 1.5 is not in [0, 1]"), std::string::npos) << message;
  EXPECT_NE(message.find("smcl.target_start_epoch: 12 is not -1 or an epoch in [0, smcl.mask_start_epoch]"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("smcl.target_beta: 1 is not in [0, 1)"), std::string::npos) << message;
  auto config = load("", {"method.name=smcl", "smcl.saliency=random", "smcl.beta=0", "smcl.target_ce=true"});
  EXPECT_EQ(config.smcl.saliency, config::Saliency::kRandom);
  EXPECT_EQ(config.smcl.beta, 0.0);
  EXPECT_TRUE(config.smcl.target_ce);
}

TEST(Config, LossMixAndRetrainKeysAreChecked) {
  std::string message =
      error_of("", {"loss.name=hinge", "loss.ldam_scale=0", "loss.focal_gamma=-1", "mix.prob=2", "mix.start_epoch=5",
                    "mix.end_epoch=5", "mix.kappa=0.5", "mix.source_sampler=x", "retrain.mode=svm", "retrain.tau=2"});
  EXPECT_NE(message.find("9 problems"), std::string::npos) << message;
  for (const char* fragment :
       {"loss.name: 'hinge' is not one of: ce, ldam, focal, balanced_softmax", "loss.ldam_scale: 0 is not > 0",
        "loss.focal_gamma: -1 is not >= 0", "mix.prob: 2 is not in [0, 1]",
        "mix.end_epoch: 5 is not -1 or an epoch after mix.start_epoch", "mix.kappa: 0.5 is not >= 1",
        "mix.source_sampler: 'x' is not one of", "retrain.mode: 'svm' is not one of: none, crt, lws, tau_norm",
        "retrain.tau: 2 is not in [0, 1]"}) {
    EXPECT_NE(message.find(fragment), std::string::npos) << fragment << "\n" << message;
  }
  auto config = load("", {"method.name=remix", "mix.kappa=2", "loss.name=ldam", "loss.ldam_max_margin=0.3"});
  EXPECT_EQ(config.mix.kappa, 2.0);
  EXPECT_EQ(config.loss.ldam_max_margin, 0.3);
  // Post-hoc logit adjustment takes any tau >= 0 (issue 37); tau_norm's exponent stays in [0, 1].
  EXPECT_EQ(load("", {"retrain.mode=logit_adjust", "retrain.tau=2.5"}).retrain.tau, 2.5);
  EXPECT_NE(error_of("", {"retrain.mode=logit_adjust", "retrain.tau=-1"}).find("retrain.tau: -1 is not >= 0"),
            std::string::npos);
  EXPECT_NE(error_of("", {"retrain.mode=tau_norm", "retrain.tau=2.5"}).find("retrain.tau: 2.5 is not in [0, 1]"),
            std::string::npos);
}

TEST(Config, YamlDumpRoundTrips) {
  Config c = load("", {"data.name=mnist", "optim.milestones=[3, 7]", "augment.mean=[0.5]", "augment.std=[0.25]",
                       "optim.lr=0.1", "loss.cb_beta=0.999"});
  test::TempDir dir;
  std::string text = to_yaml(c);
  test::write_bytes(dir / "dump.yaml", text);
  Config back = load(dir / "dump.yaml");
  EXPECT_EQ(to_yaml(back), text);
  EXPECT_DOUBLE_EQ(back.optim.lr, 0.1);
  EXPECT_DOUBLE_EQ(back.loss.cb_beta, 0.999);
  EXPECT_EQ(back.augment.mean, std::vector<double>{0.5});
  EXPECT_EQ(back.data.name, config::DatasetName::kMnist);
  // Real numbers are written as a person writes them, and still read back to the same double exactly.
  EXPECT_NE(text.find("lr: 0.1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("std: [0.25]"), std::string::npos) << text;
  Config odd = load("", {"optim.lr=0.30000000000000004", "optim.weight_decay=2e-4", "mix.alpha=1e-300"});
  test::write_bytes(dir / "odd.yaml", to_yaml(odd));
  Config odd_back = load(dir / "odd.yaml");
  EXPECT_EQ(odd_back.optim.lr, odd.optim.lr);
  EXPECT_EQ(odd_back.optim.weight_decay, 2e-4);
  EXPECT_EQ(odd_back.mix.alpha, 1e-300);
  EXPECT_NE(to_yaml(odd).find("weight_decay: 2e-04\n"), std::string::npos) << to_yaml(odd);
}

TEST(Config, ShippedConfigsAreValid) {
  int configs = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(std::string(SMCL_SOURCE_DIR) + "/configs")) {
    if (!entry.is_regular_file()) continue;
    ++configs;
    EXPECT_NO_THROW(load(entry.path().string())) << entry.path();
  }
  EXPECT_EQ(configs, 36);  // 26 CIFAR / Fashion-MNIST (logit adjustment and BCL: 6, GPaCo: 2), 4 Fashion-MNIST on
                           // biased backgrounds, 5 ImageNet-LT, 1 image folder
}

// Every shipped table loads (each row's config with its overrides resolves), rows have distinct folders.
TEST(Config, ShippedTablesLoad) {
  int tables = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(SMCL_SOURCE_DIR) + "/tables")) {
    ++tables;
    sweep::Table table;
    ASSERT_NO_THROW(table = sweep::load_table(entry.path().string())) << entry.path();
    EXPECT_EQ(table.seeds, (std::vector<int64_t>{0, 1, 2})) << entry.path();
    EXPECT_GE(table.rows.size(), 7u) << entry.path();
  }
  EXPECT_EQ(tables, 9);
  auto table = sweep::load_table(std::string(SMCL_SOURCE_DIR) + "/tables/cifar100_lt_r50.yaml");
  EXPECT_EQ(table.rows[10].name, "DRW+SMCL");
  EXPECT_EQ(*table.rows[10].paper, 54.8);
  auto config = sweep::row_config(table.rows[4], 1);  // DRW+Mixup
  EXPECT_EQ(config.method.name, config::MethodName::kMixup);
  EXPECT_EQ(config.data.imbalance_ratio, 50.0);
  EXPECT_EQ(config.train.seed, 1);
  EXPECT_EQ(config.loss.reweight, config::Reweight::kDrw);
}

// SPEC section 7: the contrastive rows (SCL, SMCL, BCL, GPaCo) train with SimAugment and Cutout, the others with
// pad-4 crop and flip only; each CIFAR table's controlled rows swap them, and its DRW (SimAugment, Cutout) row has
// exactly DRW+SMCL's augmentation.
TEST(Config, CifarRowsTakeTheirSpecAugmentation) {
  auto simaugment = [](const AugmentConfig& a) {
    return a.resized_crop && a.crop_scale == std::vector<double>{0.2, 1.0} &&
           a.crop_ratio == std::vector<double>{3.0 / 4.0, 4.0 / 3.0} && a.flip &&
           a.color_jitter == std::vector<double>{0.4, 0.4, 0.4, 0.1} && a.color_jitter_prob == 0.8 &&
           a.grayscale_prob == 0.2 && a.cutout == 16 && a.rand_augment_n == 0;
  };
  auto pad_crop_flip = [](const AugmentConfig& a) {
    return !a.resized_crop && a.crop_padding == 4 && a.flip && a.color_jitter_prob == 0 && a.grayscale_prob == 0 &&
           a.cutout == 0 && a.rand_augment_n == 0;
  };
  int rows = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(SMCL_SOURCE_DIR) + "/tables")) {
    if (entry.path().filename().string().rfind("cifar", 0) != 0) continue;
    const auto table = sweep::load_table(entry.path().string());
    std::map<std::string, AugmentConfig> augment;
    for (const auto& row : table.rows) {
      if (!row.retrain.empty()) continue;
      const auto config = sweep::row_config(row, 0);
      const auto method = config.method.name;
      const bool contrastive = method == MethodName::kScl || method == MethodName::kSmcl ||
                               method == MethodName::kBcl || method == MethodName::kGpaco;
      const bool controlled = row.name.find('(') != std::string::npos;
      EXPECT_TRUE(contrastive != controlled ? simaugment(config.augment) : pad_crop_flip(config.augment))
          << entry.path() << " row " << row.name << ":\n"
          << to_yaml(config);
      augment[row.name] = config.augment;
      ++rows;
    }
    ASSERT_TRUE(augment.count("DRW (SimAugment, Cutout)") && augment.count("SCL-DRW (pad-crop, flip)")) << entry.path();
    const auto& drw = augment["DRW (SimAugment, Cutout)"];
    const auto& smcl = augment["DRW+SMCL"];
    EXPECT_TRUE(drw.resized_crop == smcl.resized_crop && drw.crop_scale == smcl.crop_scale &&
                drw.crop_ratio == smcl.crop_ratio && drw.crop_padding == smcl.crop_padding && drw.flip == smcl.flip &&
                drw.color_jitter == smcl.color_jitter && drw.color_jitter_prob == smcl.color_jitter_prob &&
                drw.grayscale_prob == smcl.grayscale_prob && drw.cutout == smcl.cutout && drw.mean == smcl.mean &&
                drw.std == smcl.std)
        << entry.path();
  }
  EXPECT_EQ(rows, 6 * 13);
}

// A key given twice anywhere (a config file, a --set value, a table file) is an error naming it and both lines:
// YAML readers keep the first value and drop the second silently (issue 38).
TEST(Config, AKeyGivenTwiceIsAnError) {
  test::TempDir dir;
  test::write_bytes(dir / "twice.yaml", "optim:\n  lr: 0.1\n  momentum: 0.9\n  lr: 0.5\n");
  EXPECT_NE(error_of(dir / "twice.yaml", {}).find("line 4: the key 'lr' is given twice (first at line 2)"),
            std::string::npos)
      << error_of(dir / "twice.yaml", {});
  test::write_bytes(dir / "sections.yaml", "train: {epochs: 3}\noptim: {lr: 0.1}\ntrain: {seed: 2}\n");
  EXPECT_NE(error_of(dir / "sections.yaml", {}).find("the key 'train' is given twice"), std::string::npos);
  EXPECT_NE(
      error_of("", {"optim.milestones=[1, 2]", "smcl={alpha: 1, alpha: 2}"}).find("the key 'alpha' is given twice"),
      std::string::npos);
  test::write_bytes(dir / "ok.yaml", "optim:\n  lr: 0.1\n");
  test::write_bytes(dir / "table.yaml",
                    "name: t\nseeds: [0]\nrows:\n  - name: A\n    config: ok.yaml\n    set: [optim.lr=0.2]\n"
                    "    set: [optim.lr=0.3]\n");
  try {
    sweep::load_table(dir / "table.yaml");
    ADD_FAILURE() << "a row with two set keys was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 7: the key 'set' is given twice (first at line 6)"), std::string::npos)
        << e.what();
  }
}

}  // namespace smcl::config
