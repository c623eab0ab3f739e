#include "smcl/sweep/sweep.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "smcl/core/error.h"
#include "smcl/core/io.h"
#include "smcl/core/stop.h"
#include "smcl/data/datasets.h"
#include "smcl/train/checkpoint.h"
#include "smcl/train/fit.h"
#include "smcl/train/retrain.h"
#include "smcl/train/run_folder.h"

namespace fs = std::filesystem;

namespace smcl::sweep {
namespace {

std::string slug(const std::string& name) {
  std::string out;
  for (char ch : name) {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      out += char(std::tolower(static_cast<unsigned char>(ch)));
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

bool finished(const std::string& dir) { return train::RunFolder(dir).finished(); }

// The value of a table metric (kMetricKeys) in an epoch's record; none where the run has no such metric.
std::optional<double> metric_of(const eval::EpochRecord& record, const std::string& key) {
  if (key == "top1") return record.test.top1;
  if (key == "many") return record.test.many;
  if (key == "medium") return record.test.medium;
  if (key == "few") return record.test.few;
  if (key == "conflict_top1" && record.bias) return record.bias->conflict_top1;
  if (key == "bg_flip_rate" && record.bias) return record.bias->bg_flip_rate;
  return std::nullopt;
}

// What is wrong with a run folder that exists (a config.yaml that does not load, a summary.json that is not a
// run's summary, a checkpoint that fails its checksum), or "" when it can be continued or read.
std::string folder_problem(const std::string& dir) {
  try {
    const train::RunFolder folder(dir);
    folder.config();
    if (folder.finished()) {
      folder.summary();
    } else {
      for (const char* name : {"last.pt", "best.pt"}) {
        if (fs::exists(folder.checkpoint(name))) train::verify_checkpoint(folder.checkpoint(name));
      }
    }
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The retrain options of a retrain row: its overrides applied to the retrain section.
config::RetrainConfig retrain_options(const Row& row) {
  std::vector<std::string> overrides{"retrain.mode=" + row.retrain};
  overrides.insert(overrides.end(), row.overrides.begin(), row.overrides.end());
  return config::load("", overrides).retrain;
}

// "mean +- sample std", the value alone for one seed (no spread to show), "-" for none.
std::string stat_text(const MetricStat& stat) {
  if (stat.values.empty()) return "-";
  char text[48];
  if (stat.values.size() == 1) {
    std::snprintf(text, sizeof(text), "%.2f", stat.mean);
  } else {
    std::snprintf(text, sizeof(text), "%.2f +- %.2f", stat.mean, stat.std);
  }
  return text;
}

// "+1.23 [-0.40, +2.86]", marked * where the interval excludes zero; "+1.23 (1 seed)" without an interval.
std::string difference_text(const PairedDifference& d) {
  if (d.seeds.empty()) return "-";
  char text[64];
  if (!d.low) {
    std::snprintf(text, sizeof(text), "%+.2f (1 seed)", d.mean);
  } else {
    std::snprintf(text, sizeof(text), "%+.2f [%+.2f, %+.2f]%s", d.mean, *d.low, *d.high, d.excludes_zero() ? "*" : "");
  }
  return text;
}

// The regularised incomplete beta function I_x(a, b) by its continued fraction (DLMF 8.17.22), evaluated with
// the modified Lentz method; the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) keeps x where the fraction converges fast.
double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - incomplete_beta(b, a, 1 - x);
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x)) / a;
  // f = 1 + 1 / (1 + d_1 / (1 + d_2 / (1 + ...))), so the fraction is f - 1.
  const double tiny = 1e-300;
  double f = 1, c = 1, d = 0;
  for (int i = 0; i < 1000; ++i) {
    const double m = double(i / 2);
    const double numerator = i == 0       ? 1.0
                             : i % 2 == 0 ? m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
                                          : -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + numerator * d;
    d = 1 / (std::abs(d) < tiny ? tiny : d);
    c = 1 + numerator / c;
    if (std::abs(c) < tiny) c = tiny;
    f *= c * d;
    if (std::abs(c * d - 1) < 1e-15) break;
  }
  return front * (f - 1);
}

// P(T <= t) for Student's t with df degrees of freedom: 1 - I_{df / (df + t^2)}(df / 2, 1 / 2) / 2 for t >= 0.
double student_t_cdf(double t, double df) {
  const double tail = 0.5 * incomplete_beta(df / 2, 0.5, df / (df + t * t));
  return t >= 0 ? 1 - tail : tail;
}

}  // namespace

double student_t_quantile(double p, int64_t df) {
  SMCL_CHECK(p > 0 && p < 1 && df >= 1, "student_t_quantile: p " << p << " must be in (0, 1) and df " << df << " >= 1");
  if (p < 0.5) return -student_t_quantile(1 - p, df);
  // Bisection on the increasing CDF, from a bracket [0, high] doubled until it holds the quantile.
  double low = 0, high = 1;
  while (student_t_cdf(high, double(df)) < p) high *= 2;
  for (int i = 0; i < 200 && high - low > 1e-13 * high; ++i) {
    const double middle = (low + high) / 2;
    (student_t_cdf(middle, double(df)) < p ? low : high) = middle;
  }
  return (low + high) / 2;
}

PairedDifference paired_difference(const MetricStat& row, const MetricStat& baseline) {
  PairedDifference out;
  for (size_t i = 0; i < row.seeds.size(); ++i) {
    auto at = std::find(baseline.seeds.begin(), baseline.seeds.end(), row.seeds[i]);
    if (at == baseline.seeds.end()) continue;
    out.seeds.push_back(row.seeds[i]);
    out.values.push_back(row.values[i]);
    out.baseline_values.push_back(baseline.values[size_t(at - baseline.seeds.begin())]);
    out.differences.push_back(out.values.back() - out.baseline_values.back());
  }
  const size_t n = out.differences.size();
  if (n == 0) return out;
  for (double d : out.differences) out.mean += d / double(n);
  if (n < 2) return out;
  double squares = 0;
  for (double d : out.differences) squares += (d - out.mean) * (d - out.mean);
  const double std_error = std::sqrt(squares / double(n - 1)) / std::sqrt(double(n));
  const double half = student_t_quantile(0.975, int64_t(n) - 1) * std_error;
  out.low = out.mean - half;
  out.high = out.mean + half;
  return out;
}

namespace {

// A seeds key: a non-empty list of distinct train.seed values >= 0.
std::vector<int64_t> seeds_of(const YAML::Node& node, const std::string& where) {
  SMCL_CHECK(node.IsSequence() && node.size() > 0, where << " must be a non-empty list of train.seed values");
  std::vector<int64_t> seeds;
  for (const auto& s : node) {
    int64_t seed = s.as<int64_t>();
    SMCL_CHECK(seed >= 0, where << ": " << seed << " is not >= 0");
    SMCL_CHECK(std::find(seeds.begin(), seeds.end(), seed) == seeds.end(),
               where << ": " << seed << " is listed twice (each seed is one run of the row)");
    seeds.push_back(seed);
  }
  return seeds;
}

}  // namespace

Table load_table(const std::string& path, const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw Error("cannot read table file '" + path + "'");
  } catch (const YAML::Exception& e) {
    throw Error("table file '" + path + "' is not valid YAML: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  config::check_yaml_tree(root, "table file '" + path + "'");
  auto where = [&](const std::string& key) { return "table file '" + path + "': " + key; };
  SMCL_CHECK(root.IsMap(), where("the top level") << " must be a mapping with name, seeds and rows");
  Table table;
  table.file = path;
  try {
    for (const auto& item : root) {
      static const std::set<std::string> keys{"name", "title", "seeds", "epoch", "paper", "baseline", "rows"};
      auto key = item.first.as<std::string>();
      SMCL_CHECK(keys.count(key), where("unknown key '" + key + "'")
                                      << " (allowed: name, title, seeds, epoch, paper, baseline, rows)");
    }
    SMCL_CHECK(root["name"] && root["name"].IsScalar(), where("name") << " is missing (the runs' folder name)");
    table.name = root["name"].as<std::string>();
    SMCL_CHECK(slug(table.name) == table.name,
               where("name") << " '" << table.name << "' must be lower case letters, digits and _");
    if (root["title"]) table.title = root["title"].as<std::string>();
    if (root["paper"]) table.paper_label = root["paper"].as<std::string>();
    if (root["epoch"]) table.epoch = root["epoch"].as<std::string>();
    if (root["baseline"]) table.baseline = root["baseline"].as<std::string>();
    SMCL_CHECK(table.epoch == "last" || table.epoch == "best", where("epoch")
                                                                   << " '" << table.epoch << "' is not last or best");
    SMCL_CHECK(root["seeds"], where("seeds") << " is missing (the train.seed of each row's runs)");
    table.seeds = seeds_of(root["seeds"], where("seeds"));
    SMCL_CHECK(root["rows"] && root["rows"].IsSequence() && root["rows"].size() > 0,
               where("rows") << " must be a non-empty list");
  } catch (const YAML::Exception& e) {
    throw Error(where("") + "wrong type at line " + std::to_string(e.mark.line + 1));
  }
  const fs::path base = fs::path(path).parent_path();
  std::set<std::string> ids;
  for (size_t i = 0; i < root["rows"].size(); ++i) {
    const auto& node = root["rows"][i];
    std::string at = "rows[" + std::to_string(i) + "]";
    SMCL_CHECK(node.IsMap(), where(at) << " must be a mapping with name and config");
    Row row;
    try {
      for (const auto& item : node) {
        static const std::set<std::string> keys{"name", "config", "set", "paper", "from", "retrain", "seeds"};
        auto key = item.first.as<std::string>();
        SMCL_CHECK(keys.count(key), where(at + ": unknown key '" + key + "'")
                                        << " (allowed: name, config, set, paper, from, retrain, seeds)");
      }
      SMCL_CHECK(node["name"] && node["name"].IsScalar(), where(at) << " has no name");
      row.name = node["name"].as<std::string>();
      at += " (" + row.name + ")";
      row.id = slug(row.name);
      SMCL_CHECK(!row.id.empty(), where(at) << ": the name needs a letter or digit");
      SMCL_CHECK(ids.insert(row.id).second, where(at) << ": another row has the folder name '" << row.id << "'");
      if (node["set"]) {
        SMCL_CHECK(node["set"].IsSequence(), where(at + ".set") << " must be a list of key=value");
        for (const auto& s : node["set"]) row.overrides.push_back(s.as<std::string>());
      }
      if (node["paper"]) row.paper = node["paper"].as<double>();
      row.seeds = node["seeds"] ? seeds_of(node["seeds"], where(at + ".seeds")) : table.seeds;
      if (node["retrain"] || node["from"]) {
        SMCL_CHECK(node["retrain"] && node["from"] && !node["config"],
                   where(at) << ": a retrain row has from and retrain and no config");
        row.retrain = node["retrain"].as<std::string>();
        row.from = slug(node["from"].as<std::string>());
        auto source =
            std::find_if(table.rows.begin(), table.rows.end(), [&](const Row& r) { return r.id == row.from; });
        SMCL_CHECK(
            source != table.rows.end() && source->retrain.empty(),
            where(at + ".from") << " '" << node["from"].as<std::string>() << "' is not a training row above this one");
        for (int64_t seed : row.seeds) {
          SMCL_CHECK(std::find(source->seeds.begin(), source->seeds.end(), seed) != source->seeds.end(),
                     where(at + ".seeds")
                         << ": " << seed << " is not a seed of row '" << source->name << "', whose runs it re-trains");
        }
        for (const auto& o : row.overrides) {
          SMCL_CHECK(o.rfind("retrain.", 0) == 0, where(at + ".set")
                                                      << " '" << o << "': a retrain row sets retrain.* only");
        }
        try {
          retrain_options(row);  // reports a bad mode or value now rather than after hours of training
        } catch (const Error& e) {
          throw Error(where(at) + ": " + e.what());
        }
      } else {
        SMCL_CHECK(node["config"], where(at) << " has no config");
        row.config = (base / node["config"].as<std::string>()).lexically_normal().string();
        row.overrides.insert(row.overrides.end(), overrides.begin(), overrides.end());
        try {
          row_config(row, row.seeds.front());
        } catch (const Error& e) {
          throw Error(where(at) + ": " + e.what());
        }
      }
    } catch (const YAML::Exception& e) {
      throw Error(where(at) + ": wrong type at line " + std::to_string(e.mark.line + 1));
    }
    // Two rows that train the same thing would report one result twice under two names.
    auto same = std::find_if(table.rows.begin(), table.rows.end(), [&](const Row& r) {
      return r.config == row.config && r.from == row.from && r.retrain == row.retrain && r.overrides == row.overrides;
    });
    SMCL_CHECK(same == table.rows.end(),
               where(at) << " trains the same as row '" << same->name << "' (same config and set); remove one of them");
    table.rows.push_back(row);
  }
  SMCL_CHECK(table.baseline.empty() || std::any_of(table.rows.begin(), table.rows.end(),
                                                   [&](const Row& r) { return r.name == table.baseline; }),
             where("baseline") << " '" << table.baseline << "' is not the name of a row");
  return table;
}

std::string run_folder(const std::string& runs_root, const Table& table, const Row& row, int64_t seed) {
  return (fs::path(runs_root) / table.name / row.id / ("seed" + std::to_string(seed))).string();
}

config::Config row_config(const Row& row, int64_t seed) {
  auto overrides = row.overrides;
  overrides.push_back("train.seed=" + std::to_string(seed));
  auto config = config::load(row.config, overrides);
  data::resolve_defaults(config);
  return config;
}

std::vector<std::string> visible_gpus(const char* visible, int64_t count) {
  std::vector<std::string> ids;
  if (visible && *visible) {
    std::stringstream list(visible);
    for (std::string id; std::getline(list, id, ',') && int64_t(ids.size()) < count;) {
      id.erase(0, id.find_first_not_of(" \t"));
      id.erase(id.find_last_not_of(" \t") + 1);
      ids.push_back(id);
    }
  } else {
    for (int64_t i = 0; i < count; ++i) ids.push_back(std::to_string(i));
  }
  return ids;
}

std::vector<Job> jobs(const Table& table, const std::vector<std::string>& only, const std::vector<int64_t>& seeds) {
  for (int64_t seed : seeds) {
    SMCL_CHECK(std::any_of(table.rows.begin(), table.rows.end(),
                           [&](const Row& r) { return std::count(r.seeds.begin(), r.seeds.end(), seed) > 0; }),
               "sweep --seeds: " << seed << " is not a seed of any row of " << table.file);
  }
  std::set<std::string> wanted(only.begin(), only.end());
  for (const auto& id : only) {
    auto it = std::find_if(table.rows.begin(), table.rows.end(), [&](const Row& r) { return r.id == id; });
    SMCL_CHECK(it != table.rows.end(), "sweep --only: no row with the folder name '" << id << "' in " << table.file);
    if (!it->from.empty()) wanted.insert(it->from);
  }
  std::vector<Job> result;
  for (const auto& row : table.rows) {
    if (!wanted.empty() && !wanted.count(row.id)) continue;
    for (int64_t seed : row.seeds) {
      if (seeds.empty() || std::find(seeds.begin(), seeds.end(), seed) != seeds.end()) result.push_back({&row, seed});
    }
  }
  return result;
}

namespace {

// One run of run(), `dir` its folder: 1 when the folder is broken and skipped, else 0 once the run is trained or
// found finished or in use.
int64_t run_one(const Table& table, const std::string& runs_root, const Row& row, int64_t seed, const std::string& dir,
                bool rerun_broken, const StartSettings& start) {
  const auto start_over = [&] { fs::remove(fs::path(dir) / kFailedFile); };  // an earlier failure is history now
  if (!row.retrain.empty()) {
    const Row& source =
        *std::find_if(table.rows.begin(), table.rows.end(), [&](const Row& r) { return r.id == row.from; });
    std::printf("%s of %s\n", row.retrain.c_str(), run_folder(runs_root, table, source, seed).c_str());
    std::fflush(stdout);
    start_over();
    train::retrain(run_folder(runs_root, table, source, seed), retrain_options(row), dir);
    return 0;
  }
  config::Config config = row_config(row, seed);
  if (start.threads > 0) config.train.threads = start.threads;
  if (start.no_prefetch) config.train.prefetch = false;
  const std::string saved = (fs::path(dir) / "config.yaml").string();
  if (fs::exists(saved)) {
    const std::string problem = folder_problem(dir);
    if (!problem.empty() && !rerun_broken) {
      std::printf("broken, skipped: %s (rerun it with --rerun-broken)\n", problem.c_str());
      return 1;
    }
    if (!problem.empty()) {
      const std::string aside = dir + ".broken";
      fs::remove_all(aside);
      fs::rename(dir, aside);
      std::printf("broken (%s): moved to %s, ", problem.c_str(), aside.c_str());
    }
  }
  if (fs::exists(saved)) {
    // Compared after loading, so a folder written before a new key existed still matches its defaults; the
    // keys that say how a run runs (train.threads, ...) may differ.
    SMCL_CHECK(train::differing_keys_except(config::load(saved), config, train::kExecutionKeys).empty(),
               "'" << dir << "' holds a run of another config than row '" << row.name
                   << "'; move it away or rename the row (compare with `smcl config -c " << saved << "`)");
    if (finished(dir)) {
      std::printf("finished, skipped\n");
      return 0;
    }
    if (train::RunFolder(dir).in_use()) {  // another sweep of the same table is training it
      std::printf("in use by another process, skipped\n");
      return 0;
    }
    std::printf("resuming %s\n", dir.c_str());
    std::fflush(stdout);
    start_over();
    train::resume(dir);
  } else {
    std::printf("training into %s\n", dir.c_str());
    std::fflush(stdout);
    train::fit(config, dir);
  }
  return 0;
}

}  // namespace

SweepOutcome run(const Table& table, const std::string& runs_root, const std::vector<std::string>& only,
                 const std::vector<int64_t>& seeds, bool rerun_broken, const StartSettings& start) {
  const auto all = jobs(table, only, seeds);
  int64_t done = 0;
  SweepOutcome outcome;
  for (const auto& [row, seed] : all) {
    ++done;
    const std::string dir = run_folder(runs_root, table, *row, seed);
    std::printf("[%lld/%zu] %s, seed %lld: ", static_cast<long long>(done), all.size(), row->name.c_str(),
                static_cast<long long>(seed));
    try {
      outcome.broken += run_one(table, runs_root, *row, seed, dir, rerun_broken, start);
    } catch (const Stopped&) {
      throw;
    } catch (const Error& e) {
      // One failed run (a full disk, a non-finite loss, a row whose config no longer matches its folder) must not
      // cost the runs after it: it is named, its message kept in its folder, and the sweep ends with an error.
      std::fflush(stdout);
      std::fprintf(stderr, "error: %s, seed %lld failed: %s\n", row->name.c_str(), static_cast<long long>(seed),
                   e.what());
      if (fs::is_directory(dir))
        write_file_atomic((fs::path(dir) / kFailedFile).string(), std::string(e.what()) + "\n");
      outcome.failures.push_back(row->name + ", seed " + std::to_string(seed) + ": " + e.what());
    }
  }
  return outcome;
}

std::vector<RowResult> results(const Table& table, const std::string& runs_root) {
  std::vector<RowResult> out;
  for (const auto& row : table.rows) {
    RowResult result{row.name, row.paper, 0, {}, {}, {}};
    for (const auto& key : kMetricKeys) result.metrics[key] = {};
    for (int64_t seed : row.seeds) {
      std::string dir = run_folder(runs_root, table, row, seed);
      if (!finished(dir)) {
        const fs::path failed = fs::path(dir) / kFailedFile;
        if (fs::is_regular_file(failed)) {
          std::string message = read_file_bounded(failed.string(), 1 << 16);
          while (!message.empty() && message.back() == '\n') message.pop_back();
          result.failed.push_back({seed, message});
        }
        continue;
      }
      if (const std::string problem = folder_problem(dir); !problem.empty()) {
        std::fprintf(stderr, "warning: %s, seed %lld left out of the table: %s\n", row.name.c_str(),
                     static_cast<long long>(seed), problem.c_str());
        continue;
      }
      const auto summary = train::RunFolder(dir).summary();
      const auto& record = table.epoch == "best" ? summary.best : summary.last;
      ++result.seeds;
      for (const auto& key : kMetricKeys) {
        if (const auto value = metric_of(record, key)) {
          result.metrics[key].seeds.push_back(seed);
          result.metrics[key].values.push_back(*value);
        }
      }
    }
    for (auto& [key, stat] : result.metrics) {
      const auto n = double(stat.values.size());
      for (double v : stat.values) stat.mean += v / n;
      double var = 0;
      for (double v : stat.values) var += (v - stat.mean) * (v - stat.mean);
      stat.std = stat.values.size() > 1 ? std::sqrt(var / (n - 1)) : 0.0;
    }
    out.push_back(std::move(result));
  }
  auto baseline = std::find_if(out.begin(), out.end(), [&](const RowResult& r) { return r.name == table.baseline; });
  if (baseline == out.end()) return out;
  for (auto& row : out) {
    if (&row == &*baseline) continue;
    for (const auto& key : kPairedKeys) {
      auto difference = paired_difference(row.metrics.at(key), baseline->metrics.at(key));
      if (!difference.seeds.empty()) row.differences[key] = std::move(difference);
    }
  }
  return out;
}

std::string markdown(const Table& table, const std::vector<RowResult>& rows) {
  // The background-bias columns appear when some run has them (background-biased sets).
  const bool bias = std::any_of(rows.begin(), rows.end(),
                                [](const RowResult& r) { return !r.metrics.at("bg_flip_rate").values.empty(); });
  std::ostringstream out;
  if (!table.title.empty()) out << "**" << table.title << "**\n\n";
  const bool own_seeds =
      std::any_of(table.rows.begin(), table.rows.end(), [&](const Row& r) { return r.seeds != table.seeds; });
  out << "Test top-1 (%) of the " << table.epoch
      << " epoch, mean +- sample standard deviation over the finished seeds of " << table.seeds.size()
      << (own_seeds ? " (of its own list where a row has one)" : "") << ".";
  if (bias) {
    out << " Conflict: top-1 on the conflict split (minor-class objects on a major class's own background); flip: "
           "the share of it predicted as that major class (lower is better).";
  }
  const bool paired = !table.baseline.empty();
  if (paired) {
    out << " Δ: the mean paired difference from " << table.baseline
        << " over the seeds both finished (same train.seed, same data), with its 95% confidence interval (Student t "
           "over the per-seed differences); * where the interval excludes zero.";
  }
  out << "\n\n| Method | top-1 | many | medium | few |" << (bias ? " conflict | flip |" : "")
      << (paired ? (bias ? " Δ top-1 | Δ conflict | Δ flip |" : " Δ top-1 |") : "") << " seeds | paper"
      << (table.paper_label.empty() ? "" : " (" + table.paper_label + ")") << " |\n|---|---|---|---|---|"
      << (bias ? "---|---|" : "") << (paired ? (bias ? "---|---|---|" : "---|") : "") << "---|---|\n";
  for (const auto& row : rows) {
    char paper[32] = "-";
    if (row.paper) std::snprintf(paper, sizeof(paper), "%.1f", *row.paper);
    const auto& m = row.metrics;
    out << "| " << row.name << " | " << stat_text(m.at("top1")) << " | " << stat_text(m.at("many")) << " | "
        << stat_text(m.at("medium")) << " | " << stat_text(m.at("few")) << " | ";
    if (bias) out << stat_text(m.at("conflict_top1")) << " | " << stat_text(m.at("bg_flip_rate")) << " | ";
    if (paired) {
      for (const auto& key : kPairedKeys) {
        if (!bias && key != "top1") continue;
        auto d = row.differences.find(key);
        out << (row.name == table.baseline   ? "baseline"
                : d == row.differences.end() ? "-"
                                             : difference_text(d->second))
            << " | ";
      }
    }
    out << row.seeds << " | " << paper << " |\n";
  }
  bool any_failed = false;
  for (const auto& row : rows) {
    for (const auto& [seed, message] : row.failed) {
      if (!any_failed) out << "\nFailed runs (not in the table; the sweep runs them again):\n";
      any_failed = true;
      out << "- " << row.name << ", seed " << seed << ": " << message << "\n";
    }
  }
  return out.str();
}

nlohmann::json to_json(const Table& table, const std::vector<RowResult>& rows) {
  nlohmann::json out = {{"name", table.name},
                        {"title", table.title},
                        {"epoch", table.epoch},
                        {"seeds", table.seeds},
                        {"baseline", table.baseline.empty() ? nlohmann::json(nullptr) : nlohmann::json(table.baseline)},
                        {"rows", nlohmann::json::array()}};
  auto optional = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  for (const auto& row : rows) {
    nlohmann::json metrics;
    for (const auto& [key, stat] : row.metrics) {
      metrics[key] =
          stat.values.empty()
              ? nlohmann::json(nullptr)
              : nlohmann::json{{"mean", stat.mean}, {"std", stat.std}, {"seeds", stat.seeds}, {"values", stat.values}};
    }
    nlohmann::json differences = nlohmann::json::object();
    for (const auto& [key, d] : row.differences) {
      differences[key] = {{"seeds", d.seeds},
                          {"values", d.values},
                          {"baseline_values", d.baseline_values},
                          {"differences", d.differences},
                          {"mean", d.mean},
                          {"low", optional(d.low)},
                          {"high", optional(d.high)},
                          {"excludes_zero", d.excludes_zero()}};
    }
    out["rows"].push_back({{"name", row.name},
                           {"seeds", row.seeds},
                           {"paper", optional(row.paper)},
                           {"metrics", metrics},
                           {"differences", differences},
                           {"failed", nlohmann::json::array()}});
    for (const auto& [seed, message] : row.failed) {
      out["rows"].back()["failed"].push_back({{"seed", seed}, {"error", message}});
    }
  }
  return out;
}

}  // namespace smcl::sweep
