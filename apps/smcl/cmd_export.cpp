// smcl export: a run's weights as a PyTorch state dict file, for torch.load + load_state_dict in Python.
#include <cstdio>

#include "commands.h"
#include "smcl/core/error.h"
#include "smcl/train/exchange.h"
#include "smcl/train/run_folder.h"

namespace smcl::app {

void add_export(CLI::App& app) {
  auto* command = app.add_subcommand("export", "write a run's weights as a PyTorch state dict (torch.load reads it)");
  auto run_dir = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto which = std::make_shared<std::string>("last");
  auto with_head = std::make_shared<bool>(false);
  command->add_option("--run", *run_dir, "run folder (made by smcl train or smcl retrain)")->required();
  command->add_option("--out", *out, "the .pt file to write")->required();
  command->add_option("--checkpoint", *which, "last or best (default: last)")->check(CLI::IsMember({"last", "best"}));
  command->add_flag("--with-head", *with_head, "also write the contrastive projection head (head.*)");
  command->callback([=] {
    // The data need not be on this machine: open_run reads classes and channels from the checkpoint.
    train::OpenRun run = train::open_run(*run_dir, *which);
    auto tensors = train::model_state_dict(*run.model, *with_head);
    train::write_state_dict(tensors, *out);
    std::printf("wrote %zu tensors of %s, checkpoint %s (%s, %lld classes) to %s\n", tensors.size(), run_dir->c_str(),
                which->c_str(), config::name_of(run.config.model.name).c_str(), static_cast<long long>(run.num_classes),
                out->c_str());
    if (run.model->cosine_classifier()) {
      std::printf(
          "note: the classifier is a cosine one (no bias; logits %g cos(h, W_k), from normalised features and "
          "weights): a plain Linear classifier would compute other logits from these weights\n",
          run.model->cosine_scale());
    }
  });
}

}  // namespace smcl::app
