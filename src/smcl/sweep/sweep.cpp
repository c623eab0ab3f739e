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
#include "smcl/data/datasets.h"
#include "smcl/train/fit.h"
#include "smcl/train/retrain.h"

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

bool finished(const std::string& dir) { return fs::is_regular_file(fs::path(dir) / "summary.json"); }

// The retrain options of a retrain row: its overrides applied to the retrain section.
config::RetrainConfig retrain_options(const Row& row) {
  std::vector<std::string> overrides{"retrain.mode=" + row.retrain};
  overrides.insert(overrides.end(), row.overrides.begin(), row.overrides.end());
  return config::load("", overrides).retrain;
}

struct Stat {
  std::vector<double> values;
  std::string text() const {
    if (values.empty()) return "-";
    double mean = 0;
    for (double v : values) mean += v;
    mean /= double(values.size());
    double var = 0;
    for (double v : values) var += (v - mean) * (v - mean);
    char text[48];
    if (values.size() == 1) {
      std::snprintf(text, sizeof(text), "%.2f", mean);  // one seed has no spread to show
    } else {
      std::snprintf(text, sizeof(text), "%.2f +- %.2f", mean, std::sqrt(var / double(values.size() - 1)));
    }
    return text;
  }
};

}  // namespace

Table load_table(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw Error("cannot read table file '" + path + "'");
  } catch (const YAML::Exception& e) {
    throw Error("table file '" + path + "' is not valid YAML: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  auto where = [&](const std::string& key) { return "table file '" + path + "': " + key; };
  SMCL_CHECK(root.IsMap(), where("the top level") << " must be a mapping with name, seeds and rows");
  for (const auto& item : root) {
    static const std::set<std::string> keys{"name", "title", "seeds", "epoch", "paper", "rows"};
    auto key = item.first.as<std::string>();
    SMCL_CHECK(keys.count(key), where("unknown key '" + key + "'") << " (allowed: name, title, seeds, epoch, paper, rows)");
  }
  Table table;
  table.file = path;
  try {
    SMCL_CHECK(root["name"] && root["name"].IsScalar(), where("name") << " is missing (the runs' folder name)");
    table.name = root["name"].as<std::string>();
    SMCL_CHECK(slug(table.name) == table.name, where("name") << " '" << table.name
                                                            << "' must be lower case letters, digits and _");
    if (root["title"]) table.title = root["title"].as<std::string>();
    if (root["paper"]) table.paper_label = root["paper"].as<std::string>();
    if (root["epoch"]) table.epoch = root["epoch"].as<std::string>();
    SMCL_CHECK(table.epoch == "last" || table.epoch == "best", where("epoch") << " '" << table.epoch
                                                                             << "' is not last or best");
    SMCL_CHECK(root["seeds"] && root["seeds"].IsSequence() && root["seeds"].size() > 0,
               where("seeds") << " must be a non-empty list of train.seed values");
    for (const auto& s : root["seeds"]) {
      int64_t seed = s.as<int64_t>();
      SMCL_CHECK(seed >= 0, where("seeds") << ": " << seed << " is not >= 0");
      table.seeds.push_back(seed);
    }
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
        static const std::set<std::string> keys{"name", "config", "set", "paper", "from", "retrain"};
        auto key = item.first.as<std::string>();
        SMCL_CHECK(keys.count(key), where(at + ": unknown key '" + key + "'")
                                        << " (allowed: name, config, set, paper, from, retrain)");
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
      if (node["retrain"] || node["from"]) {
        SMCL_CHECK(node["retrain"] && node["from"] && !node["config"],
                   where(at) << ": a retrain row has from and retrain and no config");
        row.retrain = node["retrain"].as<std::string>();
        row.from = slug(node["from"].as<std::string>());
        SMCL_CHECK(row.retrain == "crt" || row.retrain == "lws" || row.retrain == "tau_norm",
                   where(at + ".retrain") << " '" << row.retrain << "' is not crt, lws or tau_norm");
        auto source = std::find_if(table.rows.begin(), table.rows.end(), [&](const Row& r) { return r.id == row.from; });
        SMCL_CHECK(source != table.rows.end() && source->retrain.empty(),
                   where(at + ".from") << " '" << node["from"].as<std::string>()
                                       << "' is not a training row above this one");
        for (const auto& o : row.overrides) {
          SMCL_CHECK(o.rfind("retrain.", 0) == 0, where(at + ".set") << " '" << o << "': a retrain row sets retrain.* only");
        }
        retrain_options(row);  // reports a bad value now rather than after hours of training
      } else {
        SMCL_CHECK(node["config"], where(at) << " has no config");
        row.config = (base / node["config"].as<std::string>()).lexically_normal().string();
        try {
          row_config(row, table.seeds.front());
        } catch (const Error& e) {
          throw Error(where(at) + ": " + e.what());
        }
      }
    } catch (const YAML::Exception& e) {
      throw Error(where(at) + ": wrong type at line " + std::to_string(e.mark.line + 1));
    }
    table.rows.push_back(row);
  }
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

void run(const Table& table, const std::string& runs_root, const std::vector<std::string>& only,
         const std::vector<int64_t>& seeds) {
  for (int64_t seed : seeds) {
    SMCL_CHECK(std::find(table.seeds.begin(), table.seeds.end(), seed) != table.seeds.end(),
               "sweep --seeds: " << seed << " is not one of the seeds of " << table.file);
  }
  std::set<std::string> wanted(only.begin(), only.end());
  for (const auto& id : only) {
    auto it = std::find_if(table.rows.begin(), table.rows.end(), [&](const Row& r) { return r.id == id; });
    SMCL_CHECK(it != table.rows.end(), "sweep --only: no row with the folder name '" << id << "' in " << table.file);
    if (!it->from.empty()) wanted.insert(it->from);
  }
  std::vector<std::pair<const Row*, int64_t>> jobs;
  for (const auto& row : table.rows) {
    if (!wanted.empty() && !wanted.count(row.id)) continue;
    for (int64_t seed : table.seeds) {
      if (seeds.empty() || std::find(seeds.begin(), seeds.end(), seed) != seeds.end()) jobs.emplace_back(&row, seed);
    }
  }
  int64_t done = 0;
  for (const auto& [row, seed] : jobs) {
    ++done;
    const std::string dir = run_folder(runs_root, table, *row, seed);
    std::printf("[%lld/%zu] %s, seed %lld: ", static_cast<long long>(done), jobs.size(), row->name.c_str(),
                static_cast<long long>(seed));
    if (!row->retrain.empty()) {
      const Row& source = *std::find_if(table.rows.begin(), table.rows.end(), [&](const Row& r) { return r.id == row->from; });
      std::printf("%s of %s\n", row->retrain.c_str(), run_folder(runs_root, table, source, seed).c_str());
      std::fflush(stdout);
      train::retrain(run_folder(runs_root, table, source, seed), retrain_options(*row), dir);
      continue;
    }
    const config::Config config = row_config(*row, seed);
    const std::string expected = config::to_yaml(config);
    const std::string saved = (fs::path(dir) / "config.yaml").string();
    if (fs::exists(saved)) {
      // Compared after loading, so a folder written before a new key existed still matches its defaults.
      SMCL_CHECK(config::to_yaml(config::load(saved)) == expected,
                 "'" << dir << "' holds a run of another config than row '" << row->name
                     << "'; move it away or rename the row (compare with `smcl config -c " << saved << "`)");
      if (finished(dir)) {
        std::printf("finished, skipped\n");
        continue;
      }
      std::printf("resuming %s\n", dir.c_str());
      std::fflush(stdout);
      train::resume(dir);
    } else {
      std::printf("training into %s\n", dir.c_str());
      std::fflush(stdout);
      train::fit(config, dir);
    }
  }
}

std::string markdown(const Table& table, const std::string& runs_root) {
  std::ostringstream out;
  if (!table.title.empty()) out << "**" << table.title << "**\n\n";
  out << "Test top-1 (%) of the " << table.epoch
      << " epoch, mean +- sample standard deviation over the finished seeds of " << table.seeds.size() << ".\n\n";
  out << "| Method | top-1 | many | medium | few | seeds | paper" << (table.paper_label.empty() ? "" : " (" + table.paper_label + ")")
      << " |\n|---|---|---|---|---|---|---|\n";
  for (const auto& row : table.rows) {
    Stat top1, many, medium, few;
    int64_t n = 0;
    for (int64_t seed : table.seeds) {
      std::string dir = run_folder(runs_root, table, row, seed);
      if (!finished(dir)) continue;
      auto summary = nlohmann::json::parse(read_file((fs::path(dir) / "summary.json").string()));
      const auto& m = summary[table.epoch];
      ++n;
      top1.values.push_back(m["top1"].get<double>());
      if (!m["many"].is_null()) many.values.push_back(m["many"].get<double>());
      if (!m["medium"].is_null()) medium.values.push_back(m["medium"].get<double>());
      if (!m["few"].is_null()) few.values.push_back(m["few"].get<double>());
    }
    char paper[32] = "-";
    if (row.paper) std::snprintf(paper, sizeof(paper), "%.1f", *row.paper);
    out << "| " << row.name << " | " << top1.text() << " | " << many.text() << " | " << medium.text() << " | "
        << few.text() << " | " << n << " | " << paper << " |\n";
  }
  return out.str();
}

}  // namespace smcl::sweep
