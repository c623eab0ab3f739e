// The subcommands of the smcl CLI: each registers itself and its callback on the parser.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "smcl/config/config.h"

namespace smcl::app {

void add_train(CLI::App& app);
void add_eval(CLI::App& app);
void add_data(CLI::App& app);
void add_config(CLI::App& app);
void add_retrain(CLI::App& app);
void add_sweep(CLI::App& app);
void add_export(CLI::App& app);
void add_launch(CLI::App& app);
void add_cam(CLI::App& app);
void add_report(CLI::App& app);
void add_predict(CLI::App& app);
void add_calibrate(CLI::App& app);

// How a child process ended, from waitpid's status: "exited with status 1", "was killed by signal 9".
std::string describe_exit(int status);

// --config FILE and repeatable --set key=value, shared by the commands that take a config.
struct ConfigOptions {
  std::string file;
  std::vector<std::string> overrides;
  void add_to(CLI::App& command);
  // Loads, validates and fills the dataset defaults. Throws smcl::Error.
  config::Config load() const;
};

}  // namespace smcl::app
