// Data-parallel training with the real binary: `smcl launch` starts 2 processes that talk over Gloo on the
// loopback interface. One process at global batch B and two at B/2 each train the same run (synchronised batch
// norm), a rank killed mid-run makes the other exit with a clear error instead of hanging, and the run resumes
// with the same or another number of processes.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "cli/cli_util.h"
#include "smcl/core/distributed.h"
#include "test_util.h"

namespace smcl {
namespace {

class Distributed : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_synthetic_mnist(dir_ / "data", 100, true, 1);
    test::write_synthetic_mnist(dir_ / "data", 30, false, 2);
    // About 100 training images in batches of 21, 5 steps per epoch; every batch splits unevenly (11 + 10).
    // Few steps at a small learning rate: training amplifies float rounding (different kernels for 10 and 21
    // images) step after step, and the comparison must stay about the parallelism, not about that noise.
    // One thread per process: the two processes share this machine's cores.
    test::write_bytes(dir_ / "tiny.yaml", "data: {name: mnist, root: " + dir_ / "data" +
                                              ", imbalance_ratio: 5, max_per_class: 20}\n"
                                              "model: {name: resnet8}\n"
                                              "loss: {reweight: drw, drw_epoch: 1}\n"
                                              "train: {epochs: 2, batch_size: 21, seed: 3, threads: 1, sync_bn: true}\n"
                                              "optim: {lr: 0.01, warmup_epochs: 0, milestones: [1]}\n");
  }

  std::string train(const std::string& args) const { return "train -c " + dir_ / "tiny.yaml" + " " + args; }
  static std::string launch2(const std::string& smcl_args) { return "launch --nproc 2 -- smcl " + smcl_args; }

  test::TempDir dir_;
};

// The largest difference between the two runs' weights, relative to the largest weight (batch-norm running
// statistics relative to their own largest value, or 1).
double weight_difference(const std::string& a_dir, const std::string& b_dir, bool with_projection) {
  auto a = models::make_model(config::ModelName::kResNet8, 10, 1,
                              {with_projection ? models::kSupConHead : models::ProjectionHead{}}),
       b = models::make_model(config::ModelName::kResNet8, 10, 1,
                              {with_projection ? models::kSupConHead : models::ProjectionHead{}});
  train::load_checkpoint(a_dir + "/checkpoints/last.pt", *a, nullptr, torch::kCPU);
  train::load_checkpoint(b_dir + "/checkpoints/last.pt", *b, nullptr, torch::kCPU);
  auto pb = b->named_parameters();
  double diff = 0, scale = 0;
  for (const auto& p : a->named_parameters()) {
    diff = std::max(diff, (p.value() - pb[p.key()]).abs().max().item<double>());
    scale = std::max(scale, p.value().abs().max().item<double>());
  }
  auto bb = b->named_buffers();
  for (const auto& p : a->named_buffers()) {
    if (p.value().is_floating_point()) {
      diff = std::max(diff, (p.value() - bb[p.key()]).abs().max().item<double>() /
                                std::max(1.0, p.value().abs().max().item<double>()) * scale);
    } else {
      EXPECT_TRUE(torch::equal(p.value(), bb[p.key()])) << p.key();  // num_batches_tracked: the same steps
    }
  }
  return diff / scale;
}

// The test metrics of both runs' epochs: equal, but for a prediction that float noise may flip.
void expect_same_metrics(const std::string& a_dir, const std::string& b_dir) {
  auto a = test::read_json(a_dir + "/summary.json"), b = test::read_json(b_dir + "/summary.json");
  for (const char* which : {"last", "best"}) {
    EXPECT_EQ(a[which]["epoch"], b[which]["epoch"]) << which;
    // 300 test images: one flipped prediction moves top-1 by 0.33.
    EXPECT_NEAR(a[which]["top1"].get<double>(), b[which]["top1"].get<double>(), 0.34) << which;
  }
  EXPECT_EQ(a["counts"], b["counts"]);
}

TEST(DistributedLaunchInfo, ReadsTorchrunVariablesAndNamesABadOne) {
  auto with = [](const std::vector<std::pair<const char*, const char*>>& vars, const std::function<void()>& f) {
    for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"}) {
      ::unsetenv(name);
    }
    for (const auto& [name, value] : vars) ::setenv(name, value, 1);
    f();
    for (const auto& [name, value] : vars) ::unsetenv(name);
  };
  with({}, [] { EXPECT_EQ(dist::launch_info_from_environment().world_size, 1); });
  with({{"WORLD_SIZE", "4"},
        {"RANK", "3"},
        {"LOCAL_RANK", "1"},
        {"LOCAL_WORLD_SIZE", "2"},
        {"MASTER_ADDR", "node0"},
        {"MASTER_PORT", "29600"}},
       [] {
         auto info = dist::launch_info_from_environment();
         EXPECT_EQ(info.rank, 3);
         EXPECT_EQ(info.world_size, 4);
         EXPECT_EQ(info.local_rank, 1);
         EXPECT_EQ(info.local_world_size, 2);
         EXPECT_EQ(info.master_addr, "node0");
         EXPECT_EQ(info.master_port, 29600);
       });
  with({{"WORLD_SIZE", "2"}, {"MASTER_PORT", "29600"}}, [] {
    EXPECT_NE(test::error_of([] { dist::launch_info_from_environment(); }).find("RANK is not set"), std::string::npos);
  });
  with({{"WORLD_SIZE", "2"}, {"RANK", "2"}, {"MASTER_PORT", "29600"}}, [] {
    EXPECT_NE(
        test::error_of([] { dist::launch_info_from_environment(); }).find("RANK='2': expected an integer in [0, 1]"),
        std::string::npos);
  });
  with({{"WORLD_SIZE", "two"}}, [] {
    EXPECT_NE(test::error_of([] { dist::launch_info_from_environment(); }).find("WORLD_SIZE='two'"), std::string::npos);
  });
  with({{"WORLD_SIZE", "2"}, {"RANK", "0"}}, [] {
    EXPECT_NE(test::error_of([] { dist::launch_info_from_environment(); }).find("MASTER_PORT"), std::string::npos);
  });
}

TEST(DistributedShards, SplitRowsInRankOrderWithTheRemainderFirst) {
  // 10 rows over 3 processes: 4, 3, 3.
  EXPECT_EQ(dist::shard_of(10, 0, 3), std::make_pair(int64_t(0), int64_t(4)));
  EXPECT_EQ(dist::shard_of(10, 1, 3), std::make_pair(int64_t(4), int64_t(3)));
  EXPECT_EQ(dist::shard_of(10, 2, 3), std::make_pair(int64_t(7), int64_t(3)));
  EXPECT_EQ(dist::shard_of(32, 1, 2), std::make_pair(int64_t(16), int64_t(16)));
}

TEST_F(Distributed, TwoProcessesTrainTheRunOfOne) {
  // ERM with DRW's weighted cross-entropy (the weighted mean's normaliser is the global batch's).
  auto one = test::run_smcl(train("--out " + dir_ / "one"));
  ASSERT_EQ(one.status, 0) << one.output;
  auto two = test::run_smcl(launch2(train("--out " + dir_ / "two")));
  ASSERT_EQ(two.status, 0) << two.output;
  EXPECT_NE(two.output.find("data-parallel: 2 processes (gloo), global batch 21, synchronised batch norm"),
            std::string::npos)
      << two.output;
  EXPECT_EQ(two.output.find("resolved config:"), two.output.rfind("resolved config:")) << "rank 1 printed too";
  EXPECT_LT(weight_difference(dir_ / "one", dir_ / "two", false), 1e-5);
  expect_same_metrics(dir_ / "one", dir_ / "two");
}

TEST_F(Distributed, TwoProcessesTrainTheSmclRunOfOne) {
  // SMCL with target views and the masked image in every batch: SupCon over the gathered global batch.
  const std::string smcl = "--set method.name=smcl --set smcl.mask_start_epoch=0 --set smcl.mask_prob=1 ";
  ASSERT_EQ(test::run_smcl(train(smcl + "--out " + dir_ / "one")).status, 0);
  auto two = test::run_smcl(launch2(train(smcl + "--out " + dir_ / "two")));
  ASSERT_EQ(two.status, 0) << two.output;
  EXPECT_LT(weight_difference(dir_ / "one", dir_ / "two", true), 1e-5);
  expect_same_metrics(dir_ / "one", dir_ / "two");
}

TEST_F(Distributed, PerProcessBatchNormIsNotTheRunOfOne) {
  // Without sync_bn each process normalises by its own half batch: a different (valid) run. This guards the
  // equality tests above against passing because the second process did nothing.
  ASSERT_EQ(test::run_smcl(train("--set train.epochs=1 --out " + dir_ / "one")).status, 0);
  auto two = test::run_smcl(launch2(train("--set train.epochs=1 --set train.sync_bn=false --out " + dir_ / "two")));
  ASSERT_EQ(two.status, 0) << two.output;
  EXPECT_GT(weight_difference(dir_ / "one", dir_ / "two", false), 1e-3);
}

TEST_F(Distributed, KilledRankStopsTheOtherAndTheRunResumesWithAnyNumberOfProcesses) {
  ASSERT_EQ(test::run_smcl(launch2(train("--out " + dir_ / "whole"))).status, 0);
  // Rank 1 dies at step 7, in epoch 1. Rank 0 must not wait for its 300 s timeout: it fails at once, long
  // before the launcher's grace period would stop it.
  auto start = std::chrono::steady_clock::now();
  auto killed = test::run_smcl("launch --nproc 2 --grace 120 -- smcl " + train("--out " + dir_ / "cut"),
                               "SMCL_DEBUG_KILL_AT_STEP=7 SMCL_DEBUG_KILL_RANK=1 ");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  test::expect_clean_error(killed, "smcl launch: rank 1 was killed by signal 9");
  EXPECT_NE(killed.output.find("distributed: rank 0 of 2: "), std::string::npos) << killed.output;
  EXPECT_NE(killed.output.find("another process of this job has probably stopped"), std::string::npos) << killed.output;
  EXPECT_EQ(killed.output.find("the processes left were stopped"), std::string::npos) << killed.output;
  EXPECT_LT(seconds, 100) << killed.output;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "cut/summary.json"));
  std::filesystem::copy(dir_ / "cut", dir_ / "cut1", std::filesystem::copy_options::recursive);

  // The same number of processes: exactly the uninterrupted run.
  auto resumed = test::run_smcl(launch2("train --resume " + dir_ / "cut"));
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming"), std::string::npos) << resumed.output;
  test::expect_same_run(dir_ / "whole", dir_ / "cut");
  // One process: the same run up to float rounding.
  ASSERT_EQ(test::run_smcl("train --resume " + dir_ / "cut1").status, 0);
  EXPECT_LT(weight_difference(dir_ / "whole", dir_ / "cut1", false), 1e-5);
  expect_same_metrics(dir_ / "whole", dir_ / "cut1");
}

TEST_F(Distributed, CommandsThatRunInOneProcessSayWhy) {
  const std::string env = "WORLD_SIZE=2 RANK=0 MASTER_PORT=29999 ";
  test::expect_clean_error(test::run_smcl(train(""), env), "needs --out DIR");
  test::expect_clean_error(test::run_smcl("eval --run " + dir_ / "r", env), "smcl eval runs in one process");
  test::expect_clean_error(test::run_smcl("launch --nproc 2 -- smcl " + train("--set optim.lr=-1 --out " + dir_ / "r")),
                           "exited with status 2");
  test::expect_clean_error(test::run_smcl("launch --nproc 2 --nnodes 2 -- smcl " + train("")),
                           "--master-port is needed");
}

}  // namespace
}  // namespace smcl
