// smcl eval: re-evaluates the checkpoints of a saved run on the test set and prints the table.
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "smcl/core/error.h"
#include "smcl/core/io.h"
#include "smcl/data/datasets.h"
#include "smcl/eval/evaluate.h"
#include "smcl/methods/method.h"
#include "smcl/models/network.h"
#include "smcl/train/checkpoint.h"
#include "smcl/train/fit.h"

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
    config::Config config = train::load_run_config(*run_dir);
    // The training set is read too: its class counts define many / medium / few.
    auto data = data::load_long_tailed(config.data);
    const auto& counts = data.counts;
    const auto& test = data.test;
    // Evaluation runs wherever it can: a run trained on a GPU is evaluated on the CPU of a machine without one.
    config::TrainConfig execution = config.train;
    execution.device = config::DeviceName::kAuto;
    execution.amp = config::Amp::kNone;
    torch::Device device = train::setup_execution(execution);
    std::vector<std::pair<std::string, nlohmann::json>> rows;
    nlohmann::json all;
    for (const auto& name : *which) {
      auto model = methods::build_model(config, test.num_classes, test.channels());
      model->to(device);
      std::string path = (std::filesystem::path(*run_dir) / "checkpoints" / (name + ".pt")).string();
      auto state = train::load_checkpoint(path, *model, nullptr, device);
      const auto temperature = train::stored_temperature(*run_dir, name);
      if (temperature) {
        std::printf("%s: temperature %.4f from calibration.json applied to the probabilities (ECE, NLL, Brier)\n",
                    name.c_str(), *temperature);
      }
      auto metrics = eval::evaluate_epoch(model, data, config, device, temperature.value_or(1.0)).record;
      if (temperature) metrics["temperature"] = *temperature;
      metrics["epoch"] = state.next_epoch - 1;
      rows.emplace_back(name + " (ep " + std::to_string(state.next_epoch - 1) + ")", metrics);
      all[name] = metrics;
    }
    std::printf("%s: %s on %s, test accuracy in %%\n", run_dir->c_str(), config::name_of(config.model.name).c_str(),
                data::dataset_title(config.data).c_str());
    std::printf("%s\n%s", eval::format_table(rows).c_str(),
                eval::format_per_class(rows.front().second, counts).c_str());
    for (const auto& [name, metrics] : rows) {
      if (!metrics.contains("bg_flip_rate")) continue;
      std::printf("%s: conflict split top-1 %.2f, background-flip rate %.2f\n", name.c_str(),
                  metrics["conflict_top1"].get<double>(), metrics["bg_flip_rate"].get<double>());
    }
    if (!json_out->empty()) write_file_atomic(*json_out, all.dump(2) + "\n");
  });
}

}  // namespace smcl::app
