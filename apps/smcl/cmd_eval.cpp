// smcl eval: re-evaluates the checkpoints of a saved run on the test set and prints the table.
#include <cstdio>

#include "commands.h"
#include "smcl/core/error.h"
#include "smcl/core/io.h"
#include "smcl/data/datasets.h"
#include "smcl/eval/evaluate.h"
#include "smcl/train/fit.h"
#include "smcl/train/run_folder.h"

namespace smcl::app {

void add_eval(CLI::App& app) {
  auto* command = app.add_subcommand("eval", "re-evaluate a saved run's checkpoints on the test set");
  auto run_dir = std::make_shared<std::string>();
  auto which = std::make_shared<std::vector<std::string>>(std::vector<std::string>{"last", "best"});
  auto json_out = std::make_shared<std::string>();
  command->add_option("--run", *run_dir, "run folder (made by smcl train)")->required();
  command->add_option("--checkpoint", *which, "which checkpoints: last, best (default: both)")
      ->check(CLI::IsMember({"last", "best"}));
  command->add_option("--json-out", *json_out, "also write the metrics (with confusion matrices) to this file");
  command->callback([=] {
    train::require_one_process("smcl eval");
    const config::Config config = train::load_run_config(*run_dir);
    // The training set is read too: its class counts define many / medium / few.
    auto data = data::load_long_tailed(config.data);
    std::vector<std::pair<std::string, eval::Metrics>> rows;  // the table's: "last (ep 19)", its test metrics
    std::vector<eval::EpochRecord> records;
    nlohmann::json all;
    for (const auto& name : *which) {
      train::OpenRun run = train::open_run(*run_dir, name);
      if (run.temperature) {
        std::printf("%s: temperature %.4f from calibration.json applied to the probabilities (ECE, NLL, Brier)\n",
                    name.c_str(), *run.temperature);
      }
      auto record = eval::evaluate_epoch(run.model, data, config, run.device, run.temperature.value_or(1.0));
      record.epoch = run.epoch;
      record.temperature = run.temperature;
      rows.emplace_back(name + " (ep " + std::to_string(run.epoch) + ")", record.test);
      records.push_back(record);
      all[name] = eval::to_json(record, /*with_details=*/true);
    }
    std::printf("%s: %s on %s, test accuracy in %%\n", run_dir->c_str(), config::name_of(config.model.name).c_str(),
                data::dataset_title(config.data).c_str());
    std::printf("%s\n%s", eval::format_table(rows).c_str(),
                eval::format_per_class(rows.front().second, data.counts).c_str());
    for (size_t i = 0; i < records.size(); ++i) {
      if (!records[i].bias) continue;
      std::printf("%s: conflict split top-1 %.2f, background-flip rate %.2f\n", rows[i].first.c_str(),
                  records[i].bias->conflict_top1, records[i].bias->bg_flip_rate);
    }
    if (!json_out->empty()) write_file_atomic(*json_out, all.dump(2) + "\n");
  });
}

}  // namespace smcl::app
