// smcl export: a run's weights as a PyTorch state dict file, for torch.load + load_state_dict in Python.
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "smcl/core/error.h"
#include "smcl/methods/method.h"
#include "smcl/train/checkpoint.h"
#include "smcl/train/exchange.h"
#include "smcl/train/fit.h"

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
    config::Config config = train::load_run_config(*run_dir);
    const std::string path = (std::filesystem::path(*run_dir) / "checkpoints" / (*which + ".pt")).string();
    SMCL_CHECK(std::filesystem::exists(path), "'" << *run_dir << "' has no checkpoints/" << *which << ".pt yet");
    // The network's shape comes from the checkpoint's own config; classes and channels from its classifier
    // and first convolution, so the data need not be on this machine.
    auto state = train::read_checkpoint_shapes(path);
    auto model = methods::build_model(config, state.num_classes, state.in_channels);
    train::load_checkpoint(path, *model, nullptr, torch::kCPU);
    auto tensors = train::model_state_dict(*model, *with_head);
    train::write_state_dict(tensors, *out);
    std::printf("wrote %zu tensors of %s (%s, %lld classes) to %s\n", tensors.size(), path.c_str(),
                config::name_of(config.model.name).c_str(), static_cast<long long>(state.num_classes), out->c_str());
    if (model->cosine_classifier()) {
      std::printf(
          "note: the classifier is LDAM's cosine one (no bias; logits from normalised features and "
          "weights): a plain Linear classifier would compute other logits from these weights\n");
    }
  });
}

}  // namespace smcl::app
