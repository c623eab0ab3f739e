// The failure contract of the real smcl binary (README, "Failure behaviour"): every bad input or fault is exit 2
// with one message naming the file, key or value; a stop signal exits at a step boundary with 128 + the signal and
// leaves a resumable run; corrupt checkpoints and edited configs are refused, not trained on; nothing is left
// half-written. One table walks the malformed inputs; the faults that need a run have their own tests.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <functional>

#include "cli/cli_util.h"
#include "smcl/models/network.h"
#include "smcl/train/checkpoint.h"
#include "smcl/train/run_folder.h"
#include "test_util.h"

namespace smcl {
namespace {
namespace fs = std::filesystem;

class Failure : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_synthetic_mnist(dir_ / "data", 100, true, 1);
    test::write_synthetic_mnist(dir_ / "data", 30, false, 2);
    test::write_bytes(dir_ / "tiny.yaml", "data: {name: mnist, root: " + dir_ / "data" +
                                              ", imbalance_ratio: 10, max_per_class: 100}\n"
                                              "model: {name: resnet8}\n"
                                              "train: {epochs: 2, batch_size: 32, seed: 3, threads: 1}\n"
                                              "optim: {lr: 0.05, milestones: [1]}\n");
  }
  std::string train(const std::string& out, const std::string& extra = "") {
    return "train -c " + dir_ / "tiny.yaml" + " " + extra + " --out " + dir_ / out;
  }
  test::TempDir dir_;
};

void write_gzip(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  gzFile gz = gzopen(path.c_str(), "wb9");
  gzwrite(gz, content.data(), unsigned(content.size()));
  gzclose(gz);
}

// Each malformed input: what to write, the smcl arguments, and a fragment the message must hold.
struct BadInput {
  const char* what;
  std::function<void(const test::TempDir&)> write;
  std::string args;
  std::string fragment;
};

}  // namespace

TEST_F(Failure, EveryMalformedInputIsExitTwoWithItsFileOrKeyNamed) {
  const std::string deep_pickle = "\x80\x02" + std::string(1000000, ']') + std::string(999999, 'a') + ".";
  const std::vector<BadInput> cases = {
      {"non-finite learning rate", {}, "config --set optim.lr=.inf", "optim.lr = .inf: expected a finite number"},
      {"non-finite imbalance ratio", {}, "config --set data.imbalance_ratio=-.inf", "expected a finite number"},
      {"YAML alias bomb",
       [](const test::TempDir& d) {
         std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
         for (char l = 'b'; l <= 'j'; ++l) {
           bomb += std::string(1, l) + ": &" + l + " [";
           for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", " : "") + "*" + char(l - 1);
           bomb += "]\n";
         }
         test::write_bytes(d / "bomb.yaml", bomb);
       },
       "config -c {dir}/bomb.yaml", "bomb.yaml' expands to more than 100000 YAML nodes"},
      {"YAML complex key", [](const test::TempDir& d) { test::write_bytes(d / "complex.yaml", "? [a, b]\n: 1\n"); },
       "config -c {dir}/complex.yaml", "is not a plain name"},
      {"deeply nested CIFAR pickle (2 KB gzip'd)",
       [&](const test::TempDir& d) {
         for (const char* name : {"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
                                  "test_batch", "batches.meta"}) {
           write_gzip(d / (std::string("cifar/cifar-10-batches-py/") + name), deep_pickle);
         }
       },
       "data --set data.name=cifar10 --set data.root={dir}/cifar", "nested more than 1000 levels"},
      {"gzip'd IDX file inflating past its header",
       [](const test::TempDir& d) {
         test::write_synthetic_mnist(d / "gz", 10, true, 1);
         test::write_synthetic_mnist(d / "gz", 10, false, 2);
         fs::remove(d / "gz/train-labels-idx1-ubyte");
         write_gzip(d / "gz/train-labels-idx1-ubyte.gz",
                    std::string({0, 0, 8, 1}) + test::be32(100) + std::string(50 << 20, '\1'));
       },
       "data --set data.name=mnist --set data.root={dir}/gz", "decompresses to more than the 108 bytes"},
      {"label typo in a list file",
       [](const test::TempDir& d) {
         fs::create_directories(d / "imgs");
         fs::copy_file(test::golden("images/rgb_40x28.jpg"), d / "imgs/a.jpg");
         fs::copy_file(test::golden("images/rgb_40x28.jpg"), d / "imgs/b.jpg");
         test::write_bytes(d / "imgs/train.txt", "a.jpg 0\nb.jpg 2000000000\n");
         test::write_bytes(d / "imgs/test.txt", "a.jpg 0\n");
       },
       "data --set data.name=image_list --set data.root={dir}/imgs --set data.train_list=train.txt "
       "--set data.test_list=test.txt",
       "train.txt' line 2: label 2000000000 implies 2000000001 classes for 2 training images"},
      {"image declaring 20000 x 20000 pixels",
       [](const test::TempDir& d) {
         fs::create_directories(d / "big");
         auto png = test::slurp(test::golden("images/rgb_23x17.png"));
         const std::string side = {0, 0, char(0x4E), char(0x20)};
         png.replace(16, 4, side);
         png.replace(20, 4, side);
         const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(png.data() + 12), 17);  // IHDR's, made right
         for (int i = 0; i < 4; ++i) png[size_t(29 + i)] = char((crc >> (24 - 8 * i)) & 0xFF);
         test::write_bytes(d / "big/a.png", png);
         test::write_bytes(d / "big/list.txt", "a.png 0\n");
       },
       "data --set data.name=image_list --set data.root={dir}/big --set data.train_list=list.txt "
       "--set data.test_list=list.txt",
       "list.txt' line 1: image '{dir}/big/a.png' declares 400000000 pixels"},
      {"table with a seed twice",
       [](const test::TempDir& d) {
         test::write_bytes(d / "t.yaml", "name: t\nseeds: [0, 0]\nrows:\n  - {name: A, config: tiny.yaml}\n");
       },
       "sweep --report --table {dir}/t.yaml", "seeds: 0 is listed twice"},
      {"table with the same row twice",
       [](const test::TempDir& d) {
         test::write_bytes(d / "t2.yaml",
                           "name: t\nseeds: [0]\nrows:\n  - {name: A, config: tiny.yaml}\n"
                           "  - {name: B, config: tiny.yaml}\n");
       },
       "sweep --report --table {dir}/t2.yaml", "trains the same as row 'A'"},
      {"table row re-training seeds its source has not",
       [](const test::TempDir& d) {
         test::write_bytes(d / "t4.yaml",
                           "name: t\nseeds: [0, 1]\nrows:\n  - {name: A, config: tiny.yaml}\n"
                           "  - {name: R, from: A, retrain: crt, seeds: [1, 2]}\n");
       },
       "sweep --report --table {dir}/t4.yaml", "rows[1] (R).seeds: 2 is not a seed of row 'A'"},
      {"sweep against a row the table has not",
       [](const test::TempDir& d) {
         test::write_bytes(d / "t5.yaml", "name: t\nseeds: [0]\nrows:\n  - {name: A, config: tiny.yaml}\n");
       },
       "sweep --report --table {dir}/t5.yaml --baseline B", "sweep --baseline: 'B' is not the name of a row"},
      {"table with a complex key", [](const test::TempDir& d) { test::write_bytes(d / "t3.yaml", "? [a]\n: 1\n"); },
       "sweep --report --table {dir}/t3.yaml", "t3.yaml"},
      {"checkpoint that is not one",
       [](const test::TempDir& d) {
         test::write_bytes(d / "fake/config.yaml", test::slurp(d / "tiny.yaml"));
         test::write_bytes(d / "fake/checkpoints/last.pt", "not a checkpoint");
       },
       "export --run {dir}/fake --out {dir}/x.pt", "last.pt' is not an smcl checkpoint"},
  };
  for (const auto& c : cases) {
    if (c.write) c.write(dir_);
    std::string args = c.args, fragment = c.fragment;
    for (std::string* text : {&args, &fragment}) {
      for (size_t at; (at = text->find("{dir}")) != std::string::npos;) text->replace(at, 5, dir_.str());
    }
    SCOPED_TRACE(c.what);
    auto r = test::run_smcl(args);
    test::expect_clean_error(r, fragment);
    EXPECT_LT(r.output.size(), 4000u) << c.what;
  }
}

// The loss going to NaN stops the run with exit 2, naming the epoch and step; the run is not reported as done.
TEST_F(Failure, NonFiniteLossStopsTheRunNamingEpochAndStep) {
  auto r = test::run_smcl(train("nan", "--set optim.lr=1e6"));
  test::expect_clean_error(r, "the training loss is not finite (nan or inf) at epoch 0, step ");
  EXPECT_FALSE(fs::exists(dir_ / "nan/summary.json"));
}

// SIGTERM stops at the next step boundary with a message and 128 + 15; the run resumes to exactly the run that
// was never stopped. (The second-signal path ends the process by the signal itself.)
TEST_F(Failure, SigtermStopsAtAStepBoundaryAndTheRunResumesExactly) {
  ASSERT_EQ(test::run_smcl(train("whole")).status, 0);
  // 403 images, batch 32: 13 steps per epoch; global step 18 is step 5 of epoch 1.
  auto stopped = test::run_smcl(train("cut"), "SMCL_DEBUG_KILL_AT_STEP=18 SMCL_DEBUG_KILL_SIGNAL=15 ");
  EXPECT_EQ(stopped.status, 128 + 15) << stopped.output;
  EXPECT_NE(stopped.output.find("stopped by SIGTERM at epoch 1, step 5: '" + dir_ / "cut" +
                                "' keeps its checkpoint of 1 finished epochs"),
            std::string::npos)
      << stopped.output;
  auto resumed = test::run_smcl("train --resume " + dir_ / "cut");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  test::expect_same_run(dir_ / "whole", dir_ / "cut");
}

// A corrupt last.pt is refused by every command that reads it, naming the file; resume offers best.pt, and
// resuming from it ends where the whole run does.
TEST_F(Failure, CorruptCheckpointIsRefusedAndResumeOffersTheBestOne) {
  ASSERT_EQ(test::run_smcl(train("run", "--set train.epochs=1")).status, 0);
  fs::remove(dir_ / "run/summary.json");
  auto bytes = test::slurp(dir_ / "run/checkpoints/last.pt");
  bytes[bytes.size() / 2] = char(bytes[bytes.size() / 2] ^ 4);
  test::write_bytes(dir_ / "run/checkpoints/last.pt", bytes);
  for (const std::string& command :
       {"eval --run " + dir_ / "run", "export --run " + dir_ / "run --out " + dir_ / "e.pt",
        "train --resume " + dir_ / "run"}) {
    test::expect_clean_error(test::run_smcl(command), "last.pt' is corrupt: its content does not match its checksum");
  }
  auto r = test::run_smcl("train --resume " + dir_ / "run");
  EXPECT_NE(r.output.find("smcl train --resume " + dir_ / "run" + " --from best"), std::string::npos) << r.output;
  // A stale temporary of a killed writer is cleared on the next start.
  test::write_bytes(dir_ / "run/checkpoints/last.pt.tmp.4194305", "partial");
  auto from_best = test::run_smcl("train --resume " + dir_ / "run" + " --from best");
  ASSERT_EQ(from_best.status, 0) << from_best.output;
  EXPECT_NE(from_best.output.find("removed 1 unfinished temporary file"), std::string::npos) << from_best.output;
  EXPECT_FALSE(fs::exists(dir_ / "run/checkpoints/last.pt.tmp.4194305"));
  ASSERT_EQ(test::run_smcl(train("whole", "--set train.epochs=1")).status, 0);
  test::expect_same_run(dir_ / "whole", dir_ / "run");
}

// Resume refuses a config.yaml edited after the checkpoint, listing the keys, but lets train.epochs grow.
TEST_F(Failure, ResumeChecksTheRunFoldersConfigAgainstTheCheckpoint) {
  ASSERT_EQ(test::run_smcl(train("run", "--set train.epochs=1")).status, 0);
  fs::remove(dir_ / "run/summary.json");
  const std::string original = test::slurp(dir_ / "run/config.yaml");
  std::string edited = original;
  edited.replace(edited.find("imbalance_ratio: 10"), 19, "imbalance_ratio: 20");
  edited.replace(edited.find("seed: 3"), 7, "seed: 4");
  test::write_bytes(dir_ / "run/config.yaml", edited);
  auto r = test::run_smcl("train --resume " + dir_ / "run");
  test::expect_clean_error(r, "differs from the config that checkpoint was trained with");
  EXPECT_NE(r.output.find("data.imbalance_ratio (10 -> 20)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("train.seed (3 -> 4)"), std::string::npos) << r.output;
  // Another network is an edited key too (issue 38), not "corrupt, or made for another model".
  std::string other_model = original;
  other_model.replace(other_model.find("name: resnet8"), 13, "name: resnet20");
  test::write_bytes(dir_ / "run/config.yaml", other_model);
  auto renamed = test::run_smcl("train --resume " + dir_ / "run");
  test::expect_clean_error(renamed, "model.name (resnet8 -> resnet20)");
  EXPECT_EQ(renamed.output.find("corrupt"), std::string::npos) << renamed.output;
  std::string longer = original;
  longer.replace(longer.find("epochs: 1"), 9, "epochs: 2");
  test::write_bytes(dir_ / "run/config.yaml", longer);
  auto extended = test::run_smcl("train --resume " + dir_ / "run");
  ASSERT_EQ(extended.status, 0) << extended.output;
  EXPECT_EQ(test::read_json(dir_ / "run/summary.json")["last"]["epoch"], 1);
}

// A full disk while checkpointing: exit 2 naming the file, the previous checkpoint intact, no temporary left.
// Simulated with the fault hook (SMCL_DEBUG_FAIL_WRITE) here, and on a real 400 KB tmpfs (too small for one
// checkpoint) in the next test, where the machine lets a mount namespace mount one.
TEST_F(Failure, FullDiskKeepsThePreviousCheckpointAndLeavesNoPartialFile) {
  ASSERT_EQ(test::run_smcl(train("run", "--set train.epochs=1")).status, 0);
  fs::remove(dir_ / "run/summary.json");
  const std::string before = test::slurp(dir_ / "run/checkpoints/last.pt");
  std::string yaml = test::slurp(dir_ / "run/config.yaml");
  yaml.replace(yaml.find("epochs: 1"), 9, "epochs: 2");
  test::write_bytes(dir_ / "run/config.yaml", yaml);
  auto r = test::run_smcl("train --resume " + dir_ / "run", "SMCL_DEBUG_FAIL_WRITE=last.pt ");
  test::expect_clean_error(r, "cannot write '" + dir_ / "run/checkpoints/last.pt" + "': No space left on device");
  EXPECT_EQ(test::slurp(dir_ / "run/checkpoints/last.pt"), before);
  for (const auto& entry : fs::directory_iterator(dir_ / "run/checkpoints")) {
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
  }
  ASSERT_EQ(test::run_smcl("train --resume " + dir_ / "run").status, 0);
}

TEST_F(Failure, FullTmpfsIsAClearErrorWithNoPartialFile) {
  const std::string mount = dir_ / "small";
  fs::create_directories(mount);
  auto probe = test::run_command("unshare -rm sh -c 'mount -t tmpfs -o size=400k tmpfs " + mount + " && echo mounted'");
  if (probe.output.find("mounted") == std::string::npos) GTEST_SKIP() << "no tmpfs mount here: " << probe.output;
  auto full = test::run_command("unshare -rm sh -c 'mount -t tmpfs -o size=400k tmpfs " + mount + " && " + SMCL_BINARY +
                                " " + train("small/run", "--set train.epochs=1") + "; echo status $?; ls " + mount +
                                "/run/checkpoints'");
  EXPECT_NE(full.output.find("No space left on device"), std::string::npos) << full.output;
  EXPECT_NE(full.output.find("status 2"), std::string::npos) << full.output;
  EXPECT_EQ(full.output.find(".tmp."), std::string::npos) << full.output;
}

// train.threads beyond the machine's cores is capped with a warning instead of stalling.
TEST_F(Failure, ThreadsAreCappedAtTheCores) {
  auto r = test::run_smcl(train("threads", "--set train.threads=2000 --set train.epochs=1"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("warning: train.threads 2000 is more than this machine's"), std::string::npos) << r.output;
}

// A sweep names a broken run folder and skips it (exit 2 at the end), or trains it anew with --rerun-broken.
TEST_F(Failure, SweepSkipsBrokenRunFoldersOrRerunsThem) {
  test::write_bytes(dir_ / "t.yaml",
                    "name: t\nseeds: [0, 1]\nrows:\n  - {name: A, config: tiny.yaml, "
                    "set: [train.epochs=1]}\n");
  const std::string sweep = "sweep --table " + dir_ / "t.yaml" + " --runs " + dir_ / "runs";
  ASSERT_EQ(test::run_smcl(sweep).status, 0);
  test::write_bytes(dir_ / "runs/t/a/seed1/summary.json", "{\"last\": {\"top1\": 5");  // cut short
  auto skipped = test::run_smcl(sweep);
  test::expect_clean_error(skipped, "1 run folder(s) of the table are broken");
  EXPECT_NE(skipped.output.find("broken, skipped: '" + dir_ / "runs/t/a/seed1/summary.json" + "' is not the summary"),
            std::string::npos)
      << skipped.output;
  EXPECT_NE(skipped.output.find("| A | "), std::string::npos) << skipped.output;  // the table of the rest
  auto rerun = test::run_smcl(sweep + " --rerun-broken");
  ASSERT_EQ(rerun.status, 0) << rerun.output;
  EXPECT_TRUE(fs::exists(dir_ / "runs/t/a/seed1.broken"));
  EXPECT_EQ(test::read_json(dir_ / "runs/t/a/seed1/summary.json")["seed"], 1);
}

// Two sweeps of one table share out its runs: a folder another process is training into (its lock held, here by
// this test) is skipped, not resumed a second time.
TEST_F(Failure, SweepSkipsARunAnotherProcessIsTraining) {
  test::write_bytes(dir_ / "t.yaml",
                    "name: t\nseeds: [0]\nrows:\n  - {name: A, config: tiny.yaml, set: [train.epochs=1]}\n");
  const std::string sweep = "sweep --table " + dir_ / "t.yaml" + " --runs " + dir_ / "runs";
  ASSERT_EQ(test::run_smcl(sweep).status, 0);
  fs::remove(dir_ / "runs/t/a/seed0/summary.json");  // unfinished again
  train::RunFolder held(dir_ / "runs/t/a/seed0");
  held.reopen();
  auto skipped = test::run_smcl(sweep);
  EXPECT_NE(skipped.output.find("A, seed 0: in use by another process, skipped"), std::string::npos) << skipped.output;
  EXPECT_FALSE(fs::exists(dir_ / "runs/t/a/seed0/summary.json"));
  held = train::RunFolder(dir_ / "runs/t/a/seed0");  // released: now the sweep resumes it
  auto resumed = test::run_smcl(sweep);
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_TRUE(fs::exists(dir_ / "runs/t/a/seed0/summary.json"));
}

// A run that fails does not stop the sweep: the rows after it are trained, the table lists the failure, the
// sweep exits 2 naming it, and the next sweep starts it again (issue 36); likewise with --jobs.
TEST_F(Failure, AFailedRunIsRecordedAndTheOtherRowsTrained) {
  test::write_bytes(dir_ / "t.yaml",
                    "name: t\nseeds: [0]\nrows:\n"
                    "  - {name: Diverges, config: tiny.yaml, set: [train.epochs=1, optim.lr=1e6]}\n"
                    "  - {name: B, config: tiny.yaml, set: [train.epochs=1]}\n");
  for (const std::string jobs : {"", " --jobs 2 --threads 1"}) {
    SCOPED_TRACE(jobs);
    fs::remove_all(dir_ / "runs");
    const std::string sweep = "sweep --table " + dir_ / "t.yaml" + " --runs " + dir_ / "runs" + jobs;
    auto r = test::run_smcl(sweep);
    test::expect_clean_error(r, "1 run(s) of the sweep failed");
    EXPECT_NE(r.output.find("Diverges, seed 0"), std::string::npos) << r.output;
    EXPECT_TRUE(fs::exists(dir_ / "runs/t/b/seed0/summary.json"));  // the row after it was trained
    EXPECT_NE(test::slurp(dir_ / "runs/t/diverges/seed0/failed.txt").find("the training loss is not finite"),
              std::string::npos);
    const auto table = test::slurp(dir_ / "runs/t/table.md");
    EXPECT_NE(table.find("| B | "), std::string::npos) << table;
    EXPECT_NE(table.find("- Diverges, seed 0: the training loss is not finite"), std::string::npos) << table;
    EXPECT_EQ(test::read_json(dir_ / "runs/t/table.json")["rows"][0]["failed"][0]["seed"], 0);
  }
  // Run again, it fails again (and says so again), and B is skipped as finished.
  auto again = test::run_smcl("sweep --table " + dir_ / "t.yaml" + " --runs " + dir_ / "runs");
  test::expect_clean_error(again, "1 run(s) of the sweep failed");
  EXPECT_NE(again.output.find("B, seed 0: finished, skipped"), std::string::npos) << again.output;
}

// sweep --jobs under signals (issue 38): two SIGTERMs at once, or a SIGKILL, and every run stops at a step
// boundary (its log says so) and no process of the sweep is left training; without this the children trained on,
// orphaned.
TEST_F(Failure, SweepJobsStopTheirRunsHoweverTheSweepIsStopped) {
  test::write_bytes(dir_ / "long.yaml",
                    "name: long\nseeds: [0]\nrows:\n"
                    "  - {name: A, config: tiny.yaml, set: [train.epochs=300]}\n"
                    "  - {name: B, config: tiny.yaml, set: [train.epochs=300, train.seed=4]}\n");
  // Starts the sweep, waits until both runs have finished an epoch, sends the signal(s), waits for the sweep,
  // then up to 60 s for its runs to end; prints what it saw, and kills what is left so that nothing outlives it.
  test::write_bytes(dir_ / "stop.sh", R"sh(set -u
smcl=$1 dir=$2; shift 2
"$smcl" sweep --table "$dir/long.yaml" --runs "$dir/runs" --jobs 2 --threads 1 > "$dir/sweep.txt" 2>&1 &
sweep=$!
for i in $(seq 1200); do
  [ "$(grep -l '^epoch' "$dir"/runs/long/*/seed0.log 2> /dev/null | wc -l)" = 2 ] && break
  sleep 0.1
done
for signal in "$@"; do kill -s "$signal" $sweep; done
wait $sweep
echo "sweep status $?"
for i in $(seq 600); do pgrep -f -- "--runs $dir/runs" > /dev/null || break; sleep 0.1; done
if pgrep -f -- "--runs $dir/runs" > /dev/null; then echo "runs left training"; pkill -KILL -f -- "--runs $dir/runs"; fi
)sh");
  for (const auto& [signals, status] :
       std::vector<std::pair<std::string, int>>{{"TERM TERM", 128 + 15}, {"KILL", 128 + 9}}) {
    SCOPED_TRACE(signals);
    fs::remove_all(dir_ / "runs");
    auto r = test::run_command("bash " + dir_ / "stop.sh" + " " + SMCL_BINARY + " " + dir_.str() + " " + signals);
    EXPECT_NE(r.output.find("sweep status " + std::to_string(status)), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("runs left training"), std::string::npos) << r.output;
    for (const std::string row : {"a", "b"}) {
      const std::string log = test::slurp(dir_ / "runs/long/" + row + "/seed0.log");
      EXPECT_NE(log.find("stopped by SIGTERM at epoch"), std::string::npos) << row << ":\n" << log;
      EXPECT_TRUE(fs::exists(dir_ / "runs/long/" + row + "/seed0/checkpoints/last.pt")) << row;
    }
  }
}

// Output that cannot be written is a failed command (issue 38): standard output on a full device, exit 2 with the
// reason on standard error, for a command whose output is standard output.
TEST_F(Failure, AnOutputThatCannotBeWrittenIsAnError) {
  auto r =
      test::run_command("sh -c '" + std::string(SMCL_BINARY) + " config -c " + dir_ / "tiny.yaml" + " >/dev/full'");
  test::expect_clean_error(r, "cannot write this command's output to standard output: No space left on device");
  EXPECT_EQ(
      test::run_command("sh -c '" + std::string(SMCL_BINARY) + " config -c " + dir_ / "tiny.yaml" + " >/dev/null'")
          .status,
      0);
}

}  // namespace smcl
