// smcl train: a new run from a config, or --resume of an existing run folder.
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "smcl/core/distributed.h"
#include "smcl/core/error.h"
#include "smcl/core/stop.h"
#include "smcl/data/datasets.h"
#include "smcl/eval/evaluate.h"
#include "smcl/train/fit.h"

namespace smcl::app {

void ConfigOptions::add_to(CLI::App& command) {
  command.add_option("--config,-c", file, "YAML config file (configs/ has one per recipe)");
  command.add_option("--set,-s", overrides, "override a key, e.g. --set optim.lr=0.05 (repeatable; YAML value)")
      ->allow_extra_args(false);
}

config::Config ConfigOptions::load() const {
  config::Config config = config::load(file, overrides);
  data::resolve_defaults(config);
  return config;
}

namespace {

std::string default_out_dir(const std::string& config_file) {
  std::string stem = config_file.empty() ? "run" : std::filesystem::path(config_file).stem().string();
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", std::localtime(&now));
  return "runs/" + stem + "-" + stamp;
}

void print_summary(const train::RunSummary& summary) {
  auto label = [](const char* name, const eval::EpochRecord& record) {
    return std::string(name) + " (ep " + std::to_string(record.epoch) + ")";
  };
  std::printf("\n%s, %s, %s + %s (reweight %s): test accuracy in %%\n", summary.dataset.c_str(), summary.model.c_str(),
              summary.method.c_str(), summary.loss.c_str(), summary.reweight.c_str());
  std::printf("%s", eval::format_table({{label("last", summary.last), summary.last.test},
                                        {label("best", summary.best), summary.best.test}})
                        .c_str());
  if (summary.best_is_selected_on_test) {
    std::printf(
        "(best = highest test top-1 over epochs: selected on the test set, as the Python codebases report)\n\n");
  } else {
    std::printf("(best = the epoch of the highest validation top-1 (data.val_list); its test accuracy)\n\n");
  }
  std::printf("%s", eval::format_per_class(summary.last.test, summary.counts).c_str());
  std::printf("\ntraining: %.0f images/s, %.1f s wall\n", summary.train_images_per_second, summary.wall_seconds);
}

}  // namespace

void add_train(CLI::App& app) {
  auto* command = app.add_subcommand("train", "train a model; writes a run folder");
  auto options = std::make_shared<ConfigOptions>();
  auto out = std::make_shared<std::string>();
  auto resume = std::make_shared<std::string>();
  auto from = std::make_shared<std::string>("last");
  options->add_to(*command);
  command->add_option("--out,-o", *out, "run folder to create (default: runs/<config name>-<date-time>)");
  command->add_option("--resume", *resume, "continue the run in this folder from its last checkpoint");
  command
      ->add_option("--from", *from,
                   "with --resume: the checkpoint to continue from, last (default) or best "
                   "(when last.pt is corrupt; the epochs after the best are trained again)")
      ->check(CLI::IsMember({"last", "best"}));
  command->footer("Config keys:\n" + config::describe_keys());
  command->callback([=] {
    // Of several processes (smcl launch, torchrun), rank 0 alone prints.
    const auto launch = dist::launch_info_from_environment();
    const bool main = launch.rank == 0;
    install_stop_handlers();
    train::RunSummary summary;
    SMCL_CHECK(*from == "last" || !resume->empty(), "--from goes with --resume");
    if (!resume->empty()) {
      SMCL_CHECK(options->file.empty() && options->overrides.empty() && out->empty(),
                 "--resume takes no --config, --set or --out: the run folder's config.yaml is used as it is");
      summary = train::resume(*resume, *from);
    } else {
      SMCL_CHECK(!options->file.empty(), "train needs --config FILE (or --resume DIR)");
      config::Config config = options->load();
      SMCL_CHECK(launch.world_size == 1 || !out->empty(),
                 "train with several processes needs --out DIR (the default name holds the time, which differs "
                 "between processes)");
      std::string dir = out->empty() ? default_out_dir(options->file) : *out;
      if (main) std::printf("run folder: %s\nresolved config:\n%s\n", dir.c_str(), config::to_yaml(config).c_str());
      std::fflush(stdout);
      summary = train::fit(config, dir);
    }
    if (main) print_summary(summary);
  });
}

void add_config(CLI::App& app) {
  auto* command = app.add_subcommand("config", "print the resolved config (validates it; trains nothing)");
  auto options = std::make_shared<ConfigOptions>();
  options->add_to(*command);
  command->footer("Config keys:\n" + config::describe_keys());
  command->callback([=] { std::printf("%s", config::to_yaml(options->load()).c_str()); });
}

}  // namespace smcl::app
