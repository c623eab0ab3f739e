// Smoke tests of the real smcl binary: errors and exit codes, a tiny training run and its run folder,
// re-evaluation, and a run killed with SIGKILL mid-epoch that resumes to exactly the uninterrupted result.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <set>
#include <thread>

#include "cli/cli_util.h"
#include "smcl/data/long_tail.h"
#include "smcl/methods/gpaco.h"
#include "test_util.h"

namespace smcl {
namespace {

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_synthetic_mnist(dir_ / "data", 100, true, 1);
    test::write_synthetic_mnist(dir_ / "data", 30, false, 2);
    test::write_bytes(dir_ / "tiny.yaml", "data: {name: mnist, root: " + dir_ / "data" +
                                              ", imbalance_ratio: 10, max_per_class: 100}\n"
                                              "model: {name: resnet8}\n"
                                              "loss: {reweight: drw, drw_epoch: 2}\n"
                                              "train: {epochs: 3, batch_size: 32, seed: 3, threads: 2}\n"
                                              "optim: {lr: 0.05, warmup_epochs: 1, milestones: [2]}\n");
  }
  test::TempDir dir_;
};

}  // namespace

TEST_F(Cli, BadInputExitsTwoWithOneClearMessage) {
  test::expect_clean_error(test::run_smcl("train -c " + dir_ / "tiny.yaml" + " --set optim.lr=-1 --set model.name=vgg"),
                           "optim.lr: -1 is not > 0");
  test::expect_clean_error(test::run_smcl("train -c " + dir_ / "missing.yaml"), "cannot read config file");
  test::expect_clean_error(test::run_smcl("train -c " + dir_ / "tiny.yaml" + " --set data.root=" + dir_ / "nowhere"),
                           "cannot find 'train-images-idx3-ubyte'");
  test::expect_clean_error(test::run_smcl("eval --run " + dir_ / "nowhere"), "has no config.yaml");
  test::write_bytes(dir_ / "data/t10k-labels-idx1-ubyte", std::string({0, 0, 8, 1}) + test::be32(300) + "short");
  test::expect_clean_error(test::run_smcl("train -c " + dir_ / "tiny.yaml" + " --out " + dir_ / "r"), "truncated");
  EXPECT_EQ(test::run_smcl("train --no-such-flag").status, 2);
}

TEST_F(Cli, DataPrintsCountsAndWritesIndicesInTrainingOrder) {
  auto r = test::run_smcl("data -c " + dir_ / "tiny.yaml" + " --indices-out " + dir_ / "idx.txt");
  ASSERT_EQ(r.status, 0) << r.output;
  auto counts = data::long_tail_counts(config::Profile::kExp, 10, 100, 10);
  EXPECT_NE(r.output.find("groups: many (> 100) 0 classes, medium 7, few (< 20) 3"), std::string::npos) << r.output;
  std::istringstream lines(test::slurp(dir_ / "idx.txt"));
  std::vector<int64_t> indices;
  for (int64_t i; lines >> i;) indices.push_back(i);
  ASSERT_EQ(int64_t(indices.size()), std::accumulate(counts.begin(), counts.end(), int64_t(0)));
  // Training order is class by class; file order has class (i * 3) % 10 at index i.
  size_t at = 0;
  for (int c = 0; c < 10; ++c) {
    for (int64_t j = 0; j < counts[size_t(c)]; ++j, ++at) EXPECT_EQ((indices[at] * 3) % 10, c) << at;
  }
  std::set<int64_t> distinct(indices.begin(), indices.end());
  EXPECT_EQ(distinct.size(), indices.size());
}

TEST_F(Cli, TrainWritesARunFolderThatEvalReproduces) {
  auto r = test::run_smcl("train -c " + dir_ / "tiny.yaml" + " --out " + dir_ / "run");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const auto* file :
       {"config.yaml", "metrics.jsonl", "summary.json", "checkpoints/last.pt", "checkpoints/best.pt"}) {
    EXPECT_TRUE(std::filesystem::exists(dir_ / ("run/" + std::string(file)))) << file;
  }
  auto summary = test::read_json(dir_ / "run/summary.json");
  for (const auto* key : {"epoch", "top1", "top5", "many", "medium", "few", "per_class"}) {
    EXPECT_TRUE(summary["last"].contains(key)) << key;
    EXPECT_TRUE(summary["best"].contains(key)) << key;
  }
  EXPECT_EQ(summary["last"]["epoch"], 2);
  EXPECT_EQ(summary["last"]["per_class"].size(), 10u);
  EXPECT_EQ(summary["counts"].get<std::vector<int64_t>>(), data::long_tail_counts(config::Profile::kExp, 10, 100, 10));
  EXPECT_GT(summary["train_images_per_second"].get<double>(), 0);
  EXPECT_GT(summary["wall_seconds"].get<double>(), 0);
  // It learns: 10 classes, chance is 10%.
  EXPECT_GT(summary["best"]["top1"].get<double>(), 50.0) << summary.dump();
  std::istringstream metrics(test::slurp(dir_ / "run/metrics.jsonl"));
  int lines = 0;
  for (std::string line; std::getline(metrics, line); ++lines) {
    EXPECT_EQ(nlohmann::json::parse(line)["epoch"], lines);
  }
  EXPECT_EQ(lines, 3);
  // Re-evaluating the saved checkpoints gives the numbers the run recorded.
  auto e = test::run_smcl("eval --run " + dir_ / "run" + " --json-out " + dir_ / "eval.json");
  ASSERT_EQ(e.status, 0) << e.output;
  auto evaluated = test::read_json(dir_ / "eval.json");
  EXPECT_NEAR(evaluated["last"]["top1"].get<double>(), summary["last"]["top1"].get<double>(), 1e-9);
  EXPECT_NEAR(evaluated["best"]["top1"].get<double>(), summary["best"]["top1"].get<double>(), 1e-9);
  EXPECT_EQ(evaluated["last"]["confusion"], summary["last"]["confusion"]);
  // A second train into the same folder is refused instead of overwriting it.
  test::expect_clean_error(test::run_smcl("train -c " + dir_ / "tiny.yaml" + " --out " + dir_ / "run"),
                           "already holds a run");
}

TEST_F(Cli, RunKilledMidEpochResumesToTheSameWeightsAndSummary) {
  ASSERT_EQ(test::run_smcl("train -c " + dir_ / "tiny.yaml" + " --out " + dir_ / "whole").status, 0);
  // 403 training images, batch 32: 13 steps per epoch; step 18 is in the middle of epoch 1.
  auto killed =
      test::run_smcl("train -c " + dir_ / "tiny.yaml" + " --out " + dir_ / "cut", "SMCL_DEBUG_KILL_AT_STEP=18 ");
  ASSERT_EQ(killed.status, 128 + 9) << killed.output;  // SIGKILL
  EXPECT_FALSE(std::filesystem::exists(dir_ / "cut/summary.json"));
  auto resumed = test::run_smcl("train --resume " + dir_ / "cut");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming"), std::string::npos);

  test::expect_same_run(dir_ / "whole", dir_ / "cut");
  // metrics.jsonl holds each epoch once.
  std::istringstream metrics(test::slurp(dir_ / "cut/metrics.jsonl"));
  int lines = 0;
  for (std::string line; std::getline(metrics, line); ++lines) EXPECT_EQ(nlohmann::json::parse(line)["epoch"], lines);
  EXPECT_EQ(lines, 3);
}

// tests/fixtures/killed_run is the tiny run of this fixture (its config with data.root relative, `data`) killed at
// step 30, in epoch 2, by smcl at commit c56241d, before the run folder and its records were typed: config.yaml,
// metrics.jsonl of epochs 0-1, classes.txt and checkpoints/last.pt. Today's smcl evaluates that checkpoint to the
// numbers it logged, and resumes it to the end. Where this CPU computes the fixture's own weights (a run killed
// at the same step by today's smcl has the same last.pt weights), the resumed run is the uninterrupted run to the
// bit; on another CPU type libtorch's kernels differ in the last bits, and only that part is skipped.
TEST_F(Cli, ARunKilledByAnOlderSmclEvaluatesAndResumes) {
  namespace fs = std::filesystem;
  fs::copy(std::string(SMCL_SOURCE_DIR) + "/tests/fixtures/killed_run", dir_ / "old", fs::copy_options::recursive);
  const std::string in_dir = "cd " + dir_.str() + " && ";
  const auto logged = test::read_json_lines(dir_ / "old/metrics.jsonl");
  ASSERT_EQ(logged.size(), 2u);

  auto e = test::run_smcl("eval --run old --checkpoint last --json-out eval.json", in_dir);
  ASSERT_EQ(e.status, 0) << e.output;
  const auto evaluated = test::read_json(dir_ / "eval.json")["last"];
  EXPECT_EQ(evaluated["epoch"], 1);
  EXPECT_EQ(evaluated["top1"], logged[1]["top1"]);
  EXPECT_EQ(evaluated["per_class"], logged[1]["per_class"]);

  auto resumed = test::run_smcl("train --resume old", in_dir);
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming 'old' at epoch 2 of 3"), std::string::npos) << resumed.output;
  const auto lines = test::read_json_lines(dir_ / "old/metrics.jsonl");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], logged[0]);  // the older smcl's lines are kept as they were
  EXPECT_EQ(lines[1], logged[1]);
  const auto summary = test::read_json(dir_ / "old/summary.json");
  EXPECT_EQ(summary["last"]["epoch"], 2);
  EXPECT_GT(summary["last"]["top1"].get<double>(), 50.0);

  test::write_bytes(dir_ / "relative.yaml", test::slurp(dir_ / "old/config.yaml"));
  ASSERT_EQ(test::run_smcl("train -c relative.yaml --out whole", in_dir).status, 0);
  ASSERT_EQ(test::run_smcl("train -c relative.yaml --out cut", in_dir + "SMCL_DEBUG_KILL_AT_STEP=30 ").status, 128 + 9);
  auto cut = models::make_model(config::ModelName::kResNet8, 10, 1),
       old = models::make_model(config::ModelName::kResNet8, 10, 1);
  train::load_checkpoint(dir_ / "cut/checkpoints/last.pt", *cut, nullptr, torch::kCPU);
  train::load_checkpoint(std::string(SMCL_SOURCE_DIR) + "/tests/fixtures/killed_run/checkpoints/last.pt", *old, nullptr,
                         torch::kCPU);
  bool same_weights = true;
  auto old_parameters = old->named_parameters();
  for (const auto& p : cut->named_parameters())
    same_weights = same_weights && torch::equal(p.value(), old_parameters[p.key()]);
  if (!same_weights) GTEST_SKIP() << "this CPU does not reproduce the fixture's weights: bit-identity not checked";
  test::expect_same_run(dir_ / "whole", dir_ / "old");
}

TEST_F(Cli, SmclRunKilledMidEpochResumesToTheSameRun) {
  const std::string smcl = " --set method.name=smcl --set smcl.mask_start_epoch=1 --set smcl.mask_prob=0.5";
  ASSERT_EQ(test::run_smcl("train -c " + dir_ / "tiny.yaml" + smcl + " --out " + dir_ / "whole").status, 0);
  auto killed = test::run_smcl("train -c " + dir_ / "tiny.yaml" + smcl + " --out " + dir_ / "cut",
                               "SMCL_DEBUG_KILL_AT_STEP=30 ");  // mid epoch 2, while masking
  ASSERT_EQ(killed.status, 128 + 9) << killed.output;
  ASSERT_EQ(test::run_smcl("train --resume " + dir_ / "cut").status, 0);
  test::expect_same_run(dir_ / "whole", dir_ / "cut");
  EXPECT_EQ(test::read_json(dir_ / "cut/summary.json")["method"], "smcl");
}

// BCL's prototype head is the method's own: its weights, batch-norm statistics and momentum are in the
// checkpoint, so a killed run resumes to the uninterrupted one.
TEST_F(Cli, BclRunKilledMidEpochResumesToTheSameRun) {
  const std::string bcl = " --set method.name=bcl --set loss.name=logit_adjusted --set smcl.beta=0.35";
  ASSERT_EQ(test::run_smcl("train -c " + dir_ / "tiny.yaml" + bcl + " --out " + dir_ / "whole").status, 0);
  auto killed =
      test::run_smcl("train -c " + dir_ / "tiny.yaml" + bcl + " --out " + dir_ / "cut", "SMCL_DEBUG_KILL_AT_STEP=18 ");
  ASSERT_EQ(killed.status, 128 + 9) << killed.output;
  auto resumed = test::run_smcl("train --resume " + dir_ / "cut");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  test::expect_same_run(dir_ / "whole", dir_ / "cut");
  EXPECT_EQ(test::read_json(dir_ / "cut/summary.json")["method"], "bcl");
}

// GPaCo's queue of keys is in the checkpoint: a killed run resumes to the uninterrupted one, queue included.
TEST_F(Cli, GpacoRunKilledMidEpochResumesToTheSameRunAndQueue) {
  const std::string gpaco = " --set method.name=gpaco --set loss.reweight=none --set paco.queue_size=40";
  ASSERT_EQ(test::run_smcl("train -c " + dir_ / "tiny.yaml" + gpaco + " --out " + dir_ / "whole").status, 0);
  auto killed = test::run_smcl("train -c " + dir_ / "tiny.yaml" + gpaco + " --out " + dir_ / "cut",
                               "SMCL_DEBUG_KILL_AT_STEP=18 ");
  ASSERT_EQ(killed.status, 128 + 9) << killed.output;
  auto resumed = test::run_smcl("train --resume " + dir_ / "cut");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  test::expect_same_run(dir_ / "whole", dir_ / "cut");
  std::vector<methods::KeyQueue> queues;
  for (const char* run : {"whole", "cut"}) {
    auto model = methods::build_model(config::load(dir_ / run + "/config.yaml"), 10, 1);
    queues.emplace_back(40, 32, 10);
    train::load_checkpoint(dir_ / run + "/checkpoints/last.pt", *model, nullptr, torch::kCPU,
                           queues.back().ptr().get());
  }
  EXPECT_TRUE(torch::equal(queues[0]->keys, queues[1]->keys));
  EXPECT_TRUE(torch::equal(queues[0]->labels, queues[1]->labels));
}

// Before its target epoch SMCL draws and trains exactly as SCL: a run's first epochs are the SCL run's.
TEST_F(Cli, SmclBeforeItsTargetEpochIsSclToTheBit) {
  const std::string base = "train -c " + dir_ / "tiny.yaml" + " --set train.epochs=2";
  ASSERT_EQ(test::run_smcl(base + " --set method.name=scl --out " + dir_ / "scl").status, 0);
  ASSERT_EQ(
      test::run_smcl(base + " --set method.name=smcl --set smcl.mask_start_epoch=2 --out " + dir_ / "smcl").status, 0);
  test::expect_same_run(dir_ / "scl", dir_ / "smcl");
}

// A finished run and four classifier re-trainings of it: tau_norm, lws and logit_adjust are closed-form functions
// of the run's classifier, crt a new one; the backbone is untouched and `smcl eval` reproduces each summary.
TEST_F(Cli, RetrainCrtLwsTauNormKeepTheBackboneAndWriteRunFolders) {
  ASSERT_EQ(test::run_smcl("train -c " + dir_ / "tiny.yaml" + " --out " + dir_ / "run").status, 0);
  auto source = models::make_model(config::ModelName::kResNet8, 10, 1);
  train::load_checkpoint(dir_ / "run/checkpoints/last.pt", *source, nullptr, torch::kCPU);
  const auto w = source->classifier()->weight, b = source->classifier()->bias;
  for (std::string mode : {"tau_norm", "logit_adjust", "lws", "crt"}) {
    auto r = test::run_smcl("retrain --run " + dir_ / "run" + " --mode " + mode + " --set retrain.epochs=2");
    ASSERT_EQ(r.status, 0) << r.output;
    const std::string out = dir_ / ("run-" + mode);
    auto summary = test::read_json(out + "/summary.json");
    EXPECT_EQ(summary["retrain"]["mode"], mode);
    auto model = models::make_model(config::ModelName::kResNet8, 10, 1);
    train::load_checkpoint(out + "/checkpoints/last.pt", *model, nullptr, torch::kCPU);
    auto params = model->named_parameters();
    for (const auto& p : source->named_parameters()) {
      if (p.key().rfind("linear.", 0) == 0) continue;
      EXPECT_TRUE(torch::equal(p.value(), params[p.key()])) << mode << " " << p.key();
    }
    // retrain.bn train (the default): crt and lws moved the batch-norm running statistics; tau_norm and
    // logit_adjust train nothing.
    const bool moved =
        !torch::equal(model->named_buffers()["bn1.running_mean"], source->named_buffers()["bn1.running_mean"]);
    EXPECT_EQ(moved, mode == "crt" || mode == "lws") << mode;
    auto w2 = model->classifier()->weight, b2 = model->classifier()->bias;
    if (mode == "tau_norm") {  // tau 1: unit rows, no bias
      EXPECT_TRUE(torch::allclose(w2, w / w.norm(2, 1, true), 1e-6, 1e-6)) << w2;
      EXPECT_EQ(b2.abs().max().item<double>(), 0.0);
    } else if (mode == "logit_adjust") {  // tau 1: b - log pi_k, so exp(b - b2) = pi sums to 1; W unchanged
      EXPECT_TRUE(torch::equal(w2, w));
      EXPECT_NEAR(torch::exp(b.to(torch::kFloat64) - b2.to(torch::kFloat64)).sum().item<double>(), 1.0, 1e-5);
    } else if (mode == "lws") {  // every class row and its bias scaled by one factor f_k
      auto f = w2.select(1, 0) / w.select(1, 0);
      EXPECT_TRUE(torch::allclose(w2, w * f.unsqueeze(1), 1e-5, 1e-6)) << f;
      EXPECT_TRUE(torch::allclose(b2, b * f, 1e-5, 1e-6)) << f;
      EXPECT_GT((f - 1).abs().max().item<double>(), 1e-4);  // it learned something
    } else {
      EXPECT_GT((w2 - w).abs().max().item<double>(), 1e-2);
      EXPECT_GT(summary["last"]["top1"].get<double>(), 50.0) << summary.dump();
    }
    auto e = test::run_smcl("eval --run " + out + " --json-out " + out + "/eval.json");
    ASSERT_EQ(e.status, 0) << e.output;
    EXPECT_NEAR(test::read_json(out + "/eval.json")["last"]["top1"].get<double>(),
                summary["last"]["top1"].get<double>(), 1e-9)
        << mode;
  }
  // retrain.bn frozen: the backbone in eval mode, its running statistics untouched.
  ASSERT_EQ(test::run_smcl("retrain --run " + dir_ / "run" +
                           " --mode lws --set retrain.epochs=1 --set retrain.bn=frozen --out " + dir_ / "lws-frozen")
                .status,
            0);
  auto frozen = models::make_model(config::ModelName::kResNet8, 10, 1);
  train::load_checkpoint(dir_ / "lws-frozen/checkpoints/last.pt", *frozen, nullptr, torch::kCPU);
  auto frozen_buffers = frozen->named_buffers();
  for (const auto& buffer : source->named_buffers()) {
    EXPECT_TRUE(torch::equal(buffer.value(), frozen_buffers[buffer.key()])) << buffer.key();
  }
  // Killed mid-way, crt continues from its checkpoint to the same classifier and batch-norm statistics.
  auto killed =
      test::run_smcl("retrain --run " + dir_ / "run" + " --mode crt --set retrain.epochs=2 --out " + dir_ / "cut",
                     "SMCL_DEBUG_KILL_AT_STEP=18 ");
  ASSERT_EQ(killed.status, 128 + 9) << killed.output;
  auto resumed =
      test::run_smcl("retrain --run " + dir_ / "run" + " --mode crt --set retrain.epochs=2 --out " + dir_ / "cut");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming"), std::string::npos) << resumed.output;
  auto whole = models::make_model(config::ModelName::kResNet8, 10, 1),
       cut = models::make_model(config::ModelName::kResNet8, 10, 1);
  train::load_checkpoint(dir_ / "run-crt/checkpoints/last.pt", *whole, nullptr, torch::kCPU);
  train::load_checkpoint(dir_ / "cut/checkpoints/last.pt", *cut, nullptr, torch::kCPU);
  EXPECT_TRUE(torch::equal(whole->classifier()->weight, cut->classifier()->weight));
  auto cut_buffers = cut->named_buffers();
  for (const auto& buffer : whole->named_buffers()) {
    EXPECT_TRUE(torch::equal(buffer.value(), cut_buffers[buffer.key()])) << buffer.key();
  }
  EXPECT_EQ(test::read_json(dir_ / "run-crt/summary.json")["last"], test::read_json(dir_ / "cut/summary.json")["last"]);

  test::expect_clean_error(test::run_smcl("retrain --run " + dir_ / "run" + " --mode lws --set optim.lr=1"),
                           "only retrain.* keys");
  test::expect_clean_error(test::run_smcl("retrain --run " + dir_ / "run" + " --mode crt --out " + dir_ / "run-lws"),
                           "already holds another run");
  test::expect_clean_error(test::run_smcl("retrain --run " + dir_ / "run-crt" + " --mode lws"),
                           "itself a retrained run");
  test::expect_clean_error(test::run_smcl("train --resume " + dir_ / "run-crt"), "is a classifier re-training");
  test::expect_clean_error(test::run_smcl("retrain --run " + dir_ / "cut/checkpoints --mode lws"),
                           "has no config.yaml");
}

TEST_F(Cli, RetrainRefusesUnfinishedAndCosineClassifierRuns) {
  auto killed =
      test::run_smcl("train -c " + dir_ / "tiny.yaml" + " --out " + dir_ / "cut", "SMCL_DEBUG_KILL_AT_STEP=18 ");
  ASSERT_EQ(killed.status, 128 + 9);
  test::expect_clean_error(test::run_smcl("retrain --run " + dir_ / "cut --mode crt"), "not a finished run");
  ASSERT_EQ(test::run_smcl("train -c " + dir_ / "tiny.yaml" + " --set train.epochs=1 --set loss.name=ldam --out " +
                           dir_ / "ldam")
                .status,
            0);
  test::expect_clean_error(test::run_smcl("retrain --run " + dir_ / "ldam --mode tau_norm"), "cosine classifier");
}

// A table of two training rows over two seeds and a retrain row over one of them (its own seeds): a sweep killed
// in its first run resumes it, trains the rest, and a third sweep trains nothing; the table's numbers are the
// runs' own.
TEST_F(Cli, SweepTrainsWhatIsMissingResumesAKilledRunAndWritesTheTable) {
  test::write_bytes(dir_ / "tables/t.yaml",
                    "name: tiny\ntitle: Tiny table\nseeds: [3, 4]\npaper: made up\nbaseline: ERM\nrows:\n"
                    "  - name: ERM\n    config: ../tiny.yaml\n    set: [train.epochs=2]\n    paper: 12.5\n"
                    "  - name: DRW+CMO\n    config: ../tiny.yaml\n"
                    "    set: [train.epochs=2, method.name=cmo, loss.name=focal, mix.prob=1]\n"
                    "  - name: cRT\n    from: ERM\n    retrain: crt\n    set: [retrain.epochs=1]\n    seeds: [4]\n");
  const std::string sweep = "sweep --table " + dir_ / "tables/t.yaml" + " --runs " + dir_ / "runs";
  auto killed = test::run_smcl(sweep, "SMCL_DEBUG_KILL_AT_STEP=18 ");
  ASSERT_EQ(killed.status, 128 + 9) << killed.output;
  auto r = test::run_smcl(sweep);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("[1/5] ERM, seed 3: resuming"), std::string::npos) << r.output;
  // The resumed run is the run `smcl train` makes of the same config.
  ASSERT_EQ(test::run_smcl("train -c " + dir_ / "tiny.yaml" + " --set train.epochs=2 --set train.seed=3 --out " +
                           dir_ / "direct")
                .status,
            0);
  test::expect_same_run(dir_ / "direct", dir_ / "runs/tiny/erm/seed3");
  EXPECT_EQ(test::read_json(dir_ / "runs/tiny/drw_cmo/seed4/summary.json")["method"], "cmo");
  EXPECT_TRUE(std::filesystem::exists(dir_ / "runs/tiny/crt/seed4/summary.json"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "runs/tiny/crt/seed3"));

  auto again = test::run_smcl(sweep);
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("[4/5] DRW+CMO, seed 4: finished, skipped"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("training into"), std::string::npos) << again.output;

  // The ERM row: mean and sample standard deviation of the two seeds' last top-1, computed here.
  double a = test::read_json(dir_ / "runs/tiny/erm/seed3/summary.json")["last"]["top1"];
  double b = test::read_json(dir_ / "runs/tiny/erm/seed4/summary.json")["last"]["top1"];
  char expected[96];
  std::snprintf(expected, sizeof(expected), "| ERM | %.2f +- %.2f |", (a + b) / 2, std::abs(a - b) / std::sqrt(2.0));
  auto table = test::slurp(dir_ / "runs/tiny/table.md");
  EXPECT_NE(table.find(expected), std::string::npos) << expected << "\n" << table;
  EXPECT_NE(table.find("| 2 | 12.5 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| cRT |"), std::string::npos) << table;
  EXPECT_NE(table.find("of its own list where a row has one"), std::string::npos) << table;
  EXPECT_NE(table.find("paper (made up)"), std::string::npos) << table;
  // Paired with the baseline ERM seed by seed: the differences of the runs' own top-1.
  auto json = test::read_json(dir_ / "runs/tiny/table.json");
  const double c3 = test::read_json(dir_ / "runs/tiny/drw_cmo/seed3/summary.json")["last"]["top1"];
  const double c4 = test::read_json(dir_ / "runs/tiny/drw_cmo/seed4/summary.json")["last"]["top1"];
  EXPECT_EQ(json["rows"][1]["differences"]["top1"]["differences"], nlohmann::json({c3 - a, c4 - b}));
  EXPECT_NE(table.find("| Δ top-1 |"), std::string::npos) << table;
  // The same runs against another row, without training: ERM's differences from DRW+CMO.
  auto against = test::run_smcl(sweep + " --report --baseline DRW+CMO --out " + dir_ / "against.md");
  ASSERT_EQ(against.status, 0) << against.output;
  EXPECT_EQ(against.output.find("training into"), std::string::npos) << against.output;
  auto against_json = test::read_json(dir_ / "against.json");
  EXPECT_EQ(against_json["baseline"], "DRW+CMO");
  EXPECT_EQ(against_json["rows"][0]["differences"]["top1"]["differences"], nlohmann::json({a - c3, b - c4}));

  // A folder holding another config is never overwritten.
  test::write_bytes(
      dir_ / "tables/t.yaml",
      "name: tiny\nseeds: [3]\nrows:\n  - name: ERM\n    config: ../tiny.yaml\n    set: [train.epochs=3]\n");
  test::expect_clean_error(test::run_smcl(sweep), "holds a run of another config than row 'ERM'");
  test::write_bytes(dir_ / "tables/bad.yaml",
                    "name: tiny\nseeds: [3]\nrows:\n  - name: X\n    config: ../tiny.yaml\n"
                    "    set: [optim.lr=-2]\n");
  test::expect_clean_error(test::run_smcl("sweep --table " + dir_ / "tables/bad.yaml"), "rows[0] (X)");
}

// --jobs 2: the same table trained two runs at a time, each run in a process of its own with one thread, gives
// the runs a sweep one by one gives with one thread (with or without the prefetch thread: it moves no number); the
// retrain row starts only after its source run ended, and a plain sweep afterwards (threads unset) finds every run
// finished.
TEST_F(Cli, SweepJobsTrainTheSameRunsAsOneByOne) {
  test::write_bytes(dir_ / "tables/t.yaml",
                    "name: tiny\nseeds: [3, 4]\nrows:\n"
                    "  - name: ERM\n    config: ../tiny.yaml\n    set: [train.epochs=2]\n"
                    "  - name: DRW+CMO\n    config: ../tiny.yaml\n"
                    "    set: [train.epochs=2, method.name=cmo, loss.name=focal, mix.prob=1]\n"
                    "  - name: cRT\n    from: ERM\n    retrain: crt\n    set: [retrain.epochs=1]\n    seeds: [4]\n");
  const std::string table = "sweep --table " + dir_ / "tables/t.yaml";
  auto parallel = test::run_smcl(table + " --runs " + dir_ / "parallel --jobs 2 --threads 1");
  ASSERT_EQ(parallel.status, 0) << parallel.output;
  auto serial = test::run_smcl(table + " --runs " + dir_ / "serial --threads 1");
  ASSERT_EQ(serial.status, 0) << serial.output;
  for (const std::string run : {"erm/seed3", "erm/seed4", "drw_cmo/seed3", "drw_cmo/seed4", "crt/seed4"}) {
    SCOPED_TRACE(run);
    const std::string parallel_run = dir_ / "parallel/tiny/" + run, serial_run = dir_ / "serial/tiny/" + run;
    if (run == "crt/seed4") {  // a re-training names its source run's folder, which differs; its numbers do not
      auto a = test::read_json(parallel_run + "/summary.json"), b = test::read_json(serial_run + "/summary.json");
      EXPECT_EQ(a["last"], b["last"]);
    } else {
      test::expect_same_run(parallel_run, serial_run);
    }
    EXPECT_TRUE(std::filesystem::exists(parallel_run + ".log"));
    EXPECT_NE(test::slurp(parallel_run + "/config.yaml").find("threads: 1\n"), std::string::npos);
    // Two jobs of one thread take every core of a machine of up to two: their runs have no prefetch thread there.
    const bool every_core = std::thread::hardware_concurrency() <= 2;
    EXPECT_NE(test::slurp(parallel_run + "/config.yaml").find(every_core ? "prefetch: false\n" : "prefetch: true\n"),
              std::string::npos);
  }
  const auto source_ended = parallel.output.find("ERM, seed 4: ended");
  const auto retrain_started = parallel.output.find("cRT, seed 4: started");
  ASSERT_NE(source_ended, std::string::npos) << parallel.output;
  ASSERT_NE(retrain_started, std::string::npos) << parallel.output;
  EXPECT_LT(source_ended, retrain_started) << parallel.output;
  EXPECT_NE(parallel.output.find("| ERM |"), std::string::npos) << parallel.output;  // the table, once at the end
  auto again = test::run_smcl(table + " --runs " + dir_ / "parallel");
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_EQ(again.output.find("training into"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("[4/5] DRW+CMO, seed 4: finished, skipped"), std::string::npos) << again.output;
}

}  // namespace smcl
