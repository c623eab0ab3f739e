// smcl retrain: decoupled classifier re-training (crt, lws, tau_norm) or post-hoc logit adjustment of a finished
// run into a new run folder.
#include <algorithm>
#include <cstdio>

#include "commands.h"
#include "smcl/core/error.h"
#include "smcl/core/stop.h"
#include "smcl/eval/evaluate.h"
#include "smcl/train/retrain.h"

namespace smcl::app {

void add_retrain(CLI::App& app) {
  auto* command = app.add_subcommand(
      "retrain",
      "re-train (crt), rescale (lws), normalise (tau_norm) or logit-adjust (logit_adjust) a finished run's "
      "classifier");
  auto run_dir = std::make_shared<std::string>();
  auto mode = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  command->add_option("--run", *run_dir, "finished run folder (its checkpoints/last.pt)")->required();
  // retrain.mode's names but none, which is a training run.
  auto modes = config::choice_names<config::RetrainMode>();
  modes.erase(std::remove(modes.begin(), modes.end(), config::name_of(config::RetrainMode::kNone)), modes.end());
  std::string mode_list;
  for (const auto& m : modes) mode_list += (mode_list.empty() ? "" : " | ") + m;
  command->add_option("--mode", *mode, mode_list)->required()->check(CLI::IsMember(modes));
  command->add_option("--out,-o", *out, "new run folder (default: RUN-MODE); an unfinished one is continued");
  command->add_option("--set,-s", *overrides,
                      "retrain.epochs=N, retrain.lr=X (crt, lws; default 10, 0.1), "
                      "retrain.tau=X (tau_norm, logit_adjust; default 1)");
  command->callback([=] {
    install_stop_handlers();
    std::vector<std::string> all{"retrain.mode=" + *mode};
    for (const auto& o : *overrides) {
      SMCL_CHECK(o.rfind("retrain.", 0) == 0,
                 "retrain --set " << o << ": only retrain.* keys can be set; the rest is the run's own config");
      SMCL_CHECK(o.rfind("retrain.mode=", 0) != 0, "retrain: give the mode with --mode, not --set");
      all.push_back(o);
    }
    auto options = config::load("", all).retrain;
    std::string trimmed = *run_dir;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    std::string dir = out->empty() ? trimmed + "-" + *mode : *out;
    auto summary = train::retrain(*run_dir, options, dir);
    std::printf(
        "\n%s of %s -> %s\n%s", mode->c_str(), run_dir->c_str(), dir.c_str(),
        eval::format_table({{"last (ep " + std::to_string(summary.last.epoch) + ")", summary.last.test}}).c_str());
  });
}

}  // namespace smcl::app
