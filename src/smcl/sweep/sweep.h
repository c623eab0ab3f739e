// `smcl sweep`: the rows of a results table, each a config plus overrides (or a classifier re-training of
// another row), trained for every seed of the table file into runs/<table>/<row>/seed<k>. Finished runs are
// skipped, a started one is resumed, so a killed sweep continues where it stopped; a folder holding another
// config is an error, never overwritten. The table is mean +- sample standard deviation over the finished seeds.
//
// Table file (YAML; config paths are relative to the table file):
//   name: fashion_mnist_lt          # folder under the runs root
//   title: Fashion-MNIST-LT ...     # the table's heading
//   seeds: [0, 1, 2]                # train.seed of each run
//   epoch: last                     # which epoch's metrics: last (default) | best (selected on the test set)
//   paper: CIFAR-10-LT rho 100      # heading of the paper column (optional)
//   baseline: DRW                   # a row every other row is compared with, seed by seed (optional)
//   rows:
//     - name: LDAM-DRW              # row label; its folder is the name in lower case, other characters as _
//       config: ../configs/fashion_mnist_lt_drw.yaml
//       set: [loss.name=ldam]       # overrides, as --set
//       paper: 77.0                 # the paper's top-1 (optional)
//       seeds: [0, 1, 2, 3, 4]      # this row's seeds instead of the table's (optional; e.g. more seeds for the
//                                   # rows a question compares)
//     - name: cRT
//       from: ERM                   # a retrain row: the classifier of row ERM's run of the same seed
//       retrain: crt                # a retrain.mode; set then takes retrain.* keys only
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "smcl/config/config.h"

namespace smcl::sweep {

struct Row {
  std::string name;
  std::string id;                      // folder name
  std::string config;                  // resolved path of the config file (training rows)
  std::vector<std::string> overrides;  // --set values
  std::optional<double> paper;         // the paper's top-1
  std::string from;                    // retrain rows: id of the row whose runs are re-trained
  std::string retrain;                 // retrain rows: the retrain.mode name (validated by config::load)
  std::vector<int64_t> seeds;          // train.seed of each run: the row's own seeds key, else the table's
};

struct Table {
  std::string file;
  std::string name;
  std::string title;
  std::string paper_label;
  std::string epoch = "last";
  std::string baseline;        // the name of the row the others are compared with; empty: none
  std::vector<int64_t> seeds;  // the seeds of the rows that do not list their own
  std::vector<Row> rows;
};

// Reads and checks a table file. `overrides` ("key=value", as --set) are applied to every training row after
// its own set (e.g. data.root where the data is). Throws smcl::Error naming the file, the row and the key on any
// problem, including a row whose config does not load.
Table load_table(const std::string& path, const std::vector<std::string>& overrides = {});

// runs_root/name/id/seed<k>
std::string run_folder(const std::string& runs_root, const Table& table, const Row& row, int64_t seed);

// The resolved config of a training row's run for one seed (train.seed set, dataset defaults filled).
config::Config row_config(const Row& row, int64_t seed);

// One run of a sweep: a row and a seed.
struct Job {
  const Row* row = nullptr;
  int64_t seed = 0;
};

// The runs of the table in the order run() takes them: rows in order, each row's seeds in order; only the rows
// whose id is in `only` and the seeds in `seeds` when these are not empty (a retrain row brings its source row).
// Throws smcl::Error naming an unknown row or seed.
std::vector<Job> jobs(const Table& table, const std::vector<std::string>& only = {},
                      const std::vector<int64_t>& seeds = {});

// The GPUs `smcl sweep --jobs` shares its runs among (round-robin, several runs per GPU allowed): the ids listed
// in CUDA_VISIBLE_DEVICES (`visible`; null or empty: not set), else 0 .. count - 1; at most `count`, the GPUs
// libtorch sees (0 on a CPU build: none).
std::vector<std::string> visible_gpus(const char* visible, int64_t count);

// How the runs a sweep starts run, never what they compute (keys of train::kExecutionKeys); a resumed run keeps
// its folder's.
struct StartSettings {
  int64_t threads = 0;       // > 0: train.threads
  bool no_prefetch = false;  // train.prefetch: false
};

// A run that ended with an error keeps the message in this file of its folder until it is started again; the
// table lists it.
inline constexpr const char* kFailedFile = "failed.txt";

struct SweepOutcome {
  int64_t broken = 0;                 // broken run folders skipped
  std::vector<std::string> failures;  // "ROW, seed K: message" of each run that ended with an error
};

// Trains (or resumes) every run of jobs(table, only, seeds) that is not finished. Prints progress. A run folder
// that is broken (its config.yaml does not load, its summary.json is not JSON, a checkpoint fails its checksum)
// is named and skipped, or with `rerun_broken` moved to <folder>.broken and trained anew. A run that ends with an
// error (not a stop signal, which ends the sweep) is named, its message kept in its folder's kFailedFile, and the
// sweep goes on with the other runs. `start` sets the execution keys of the runs it starts. A folder whose config
// differs from the row's only in keys that say how a run runs (train::kExecutionKeys: train.threads, ...) holds the
// row's run.
SweepOutcome run(const Table& table, const std::string& runs_root, const std::vector<std::string>& only = {},
                 const std::vector<int64_t>& seeds = {}, bool rerun_broken = false, const StartSettings& start = {});

// The metrics a table gathers from each run's summary.json: top-1, many / medium / few and, for
// background-biased sets, the conflict split's top-1 and the background-flip rate.
inline const std::vector<std::string> kMetricKeys = {"top1", "many", "medium", "few", "conflict_top1", "bg_flip_rate"};

struct MetricStat {
  std::vector<int64_t> seeds;  // the finished seeds that have the metric
  std::vector<double> values;  // their values, in the same order
  double mean = 0, std = 0;    // sample standard deviation; 0 for fewer than two values
};

// The metrics compared with the baseline row: top-1 and, where present, conflict top-1 and the flip rate.
inline const std::vector<std::string> kPairedKeys = {"top1", "conflict_top1", "bg_flip_rate"};

// A row against the baseline over the seeds both finished (same train.seed, so the same data): the per-seed
// differences row - baseline, their mean and its 95% confidence interval, mean +- t(0.975, n - 1) s / sqrt(n)
// with s their sample standard deviation (Student t; no interval for fewer than two seeds).
struct PairedDifference {
  std::vector<int64_t> seeds;
  std::vector<double> values, baseline_values, differences;
  double mean = 0;
  std::optional<double> low, high;
  bool excludes_zero() const { return low && high && (*low > 0 || *high < 0); }
};

// Pairs the two metrics' values by seed; empty when they share no seed.
PairedDifference paired_difference(const MetricStat& row, const MetricStat& baseline);

// The p-quantile (0 < p < 1) of Student's t distribution with df >= 1 degrees of freedom.
double student_t_quantile(double p, int64_t df);

struct RowResult {
  std::string name;
  std::optional<double> paper;
  int64_t seeds = 0;                                    // finished runs
  std::vector<std::pair<int64_t, std::string>> failed;  // unfinished runs that ended with an error: seed, message
  std::map<std::string, MetricStat> metrics;            // every key of kMetricKeys
  // Against the table's baseline (not for the baseline row itself): the keys of kPairedKeys that both rows have.
  std::map<std::string, PairedDifference> differences;
};

// The table's metrics over the finished runs of every row's seeds (the table's epoch: last or best).
std::vector<RowResult> results(const Table& table, const std::string& runs_root);

// The markdown table: top-1, many, medium, few (and conflict top-1 and flip rate when some run has them) as
// mean +- sample std (the value alone for one seed), the number of finished seeds, and the paper's number; with a
// baseline, the paired differences with their 95% intervals, marked * where the interval excludes zero.
std::string markdown(const Table& table, const std::vector<RowResult>& rows);

// The same as JSON (table.json beside table.md; smcl report --sweep draws it): name, title, epoch, seeds, baseline
// (or null) and per row name, seeds, paper, metrics {key: {mean, std, seeds, values} or null} and, for the rows
// compared with the baseline, differences {key: {seeds, values, baseline_values, differences, mean, low, high,
// excludes_zero}} (low and high null for one seed).
nlohmann::json to_json(const Table& table, const std::vector<RowResult>& rows);

}  // namespace smcl::sweep
