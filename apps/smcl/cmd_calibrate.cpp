// smcl calibrate: post-hoc temperature scaling of a run (Guo et al., ICML 2017). One temperature T is fitted on
// the validation list (data.val_list), or where there is none on a held-out share of the training images, and
// stored in the run folder's calibration.json, which `smcl eval` and `smcl predict` then apply.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "smcl/core/error.h"
#include "smcl/core/io.h"
#include "smcl/core/rng.h"
#include "smcl/data/datasets.h"
#include "smcl/eval/evaluate.h"
#include "smcl/train/fit.h"
#include "smcl/train/run_folder.h"

namespace smcl::app {

void add_calibrate(CLI::App& app) {
  auto* command = app.add_subcommand("calibrate", "fit a temperature that calibrates a run's probabilities");
  auto run_dir = std::make_shared<std::string>();
  auto which = std::make_shared<std::string>("last");
  auto share = std::make_shared<double>(0.1);
  command->add_option("--run", *run_dir, "run folder (made by smcl train or smcl retrain)")->required();
  command->add_option("--checkpoint", *which, "last or best (default: last)")->check(CLI::IsMember({"last", "best"}));
  command
      ->add_option("--holdout", *share,
                   "without a validation list: the share of training images to fit on "
                   "(default 0.1)")
      ->check(CLI::Range(0.01, 1.0));
  command->callback([=] {
    // CLI's range check lets NaN through (every comparison with it is false).
    SMCL_CHECK(std::isfinite(*share) && *share >= 0.01 && *share <= 1.0,
               "--holdout " << *share << ": expected a share in [0.01, 1]");
    train::require_one_process("smcl calibrate");
    train::OpenRun run = train::open_run(*run_dir, *which);
    const config::Config& config = run.config;
    const torch::Device device = run.device;
    models::Network& model = run.model;
    const int64_t epoch = run.epoch;
    auto data = data::load_long_tailed(config.data);
    data::Dataset fit_set;
    std::string fitted_on;
    if (data.has_val()) {
      fit_set = data.val;
      fitted_on = "the validation list (" + std::to_string(fit_set.size()) + " images)";
    } else {
      // Seeded, so that calibrating again gives the same temperature.
      Rng rng(uint64_t(config.train.seed) * 0x9E3779B97F4A7C15ULL + 3);
      auto order = rng.permutation(data.train.size());
      order.resize(size_t(std::max<double>(1.0, *share * double(data.train.size()))));
      fit_set = data::select(data.train, torch::tensor(order, torch::kInt64));
      fitted_on = "a held-out share of the training set (" + std::to_string(fit_set.size()) +
                  " images; the run trained on them, so the temperature is likely too close to 1: a validation "
                  "list, data.val_list, is better)";
    }
    std::printf("calibrating %s (checkpoint %s, epoch %lld) on %s\n", run_dir->c_str(), which->c_str(),
                static_cast<long long>(epoch), fitted_on.c_str());
    auto logits = eval::predict(model, fit_set, config, device);
    const double t = eval::fit_temperature(logits, fit_set.labels);
    auto before = eval::compute_calibration(logits, fit_set.labels);
    auto after = eval::compute_calibration(logits / t, fit_set.labels);
    auto test_logits = eval::predict(model, data.test, config, device);
    auto test_before = eval::compute_calibration(test_logits, data.test.labels),
         test_after = eval::compute_calibration(test_logits / t, data.test.labels);
    auto json_of = [](const eval::Calibration& c) {
      return nlohmann::json{{"ece", c.ece}, {"nll", c.nll}, {"brier", c.brier}};
    };
    nlohmann::json out = {{"temperature", t},
                          {"checkpoint", *which},
                          {"epoch", epoch},
                          {"checkpoint_crc32", run.checkpoint_crc32},
                          {"fitted_on", fitted_on},
                          {"fit", {{"before", json_of(before)}, {"after", json_of(after)}}},
                          {"test", {{"before", json_of(test_before)}, {"after", json_of(test_after)}}}};
    const std::string file = (std::filesystem::path(*run_dir) / "calibration.json").string();
    write_file_atomic(file, out.dump(2) + "\n");
    std::printf("temperature %.4f\n", t);
    std::printf("                      ECE (%%)     NLL   Brier\n");
    std::printf("fitting set, before  %8.2f  %6.4f  %6.4f\n", before.ece, before.nll, before.brier);
    std::printf("fitting set, after   %8.2f  %6.4f  %6.4f\n", after.ece, after.nll, after.brier);
    std::printf("test set, before     %8.2f  %6.4f  %6.4f\n", test_before.ece, test_before.nll, test_before.brier);
    std::printf("test set, after      %8.2f  %6.4f  %6.4f\n", test_after.ece, test_after.nll, test_after.brier);
    std::printf("written to %s; smcl eval and smcl predict apply it to checkpoint %s\n", file.c_str(), which->c_str());
  });
}

}  // namespace smcl::app
