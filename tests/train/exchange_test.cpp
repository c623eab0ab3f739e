// Weight exchange with PyTorch, both ways, against Python itself (tests/reference/exchange.py with Debian's
// python3-torch and python3-torchvision): a torchvision ResNet-50 and a ResNet-32 saved by torch.save give the
// same logits here, and what smcl writes loads into them in Python with the same logits, to 1e-4.
#include "smcl/train/exchange.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace smcl::train {
namespace {

torch::Tensor entry(const StateDict& dict, const std::string& name) {
  for (const auto& [key, tensor] : dict) {
    if (key == name) return tensor;
  }
  ADD_FAILURE() << "no entry " << name;
  return {};
}

void randomise_batch_norm(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.named_parameters()) {
    if (p.key().find("bn") != std::string::npos || p.key().find("downsample.1") != std::string::npos) {
      p.value().uniform_(0.5, 1.5);
    }
  }
  for (auto& b : model.named_buffers()) {
    if (b.key().find("running_mean") != std::string::npos) b.value().uniform_(-0.2, 0.2);
    if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 1.5);
  }
}

struct Arch {
  std::string name;
  int64_t classes, channels, size;
};

const std::vector<Arch> kArchs{{"resnet50", 10, 3, 64}, {"resnet32", 10, 3, 32}, {"resnet8", 7, 1, 16}};

}  // namespace

TEST(Exchange, PyTorchStateDictsGiveTheSameLogits) {
  for (const auto& arch : kArchs) {
    test::TempDir dir;
    auto made = test::run_exchange_py("make " + dir.str() + " " + arch.name + " " + std::to_string(arch.classes) + " " +
                                      std::to_string(arch.channels) + " " + std::to_string(arch.size));
    ASSERT_EQ(made.status, 0) << made.output;
    auto dict = read_state_dict(dir / "model.pt");
    auto model = models::make_model(test::choice<config::ModelName>(arch.name), arch.classes, arch.channels,
                                    {models::kSupConHead});
    auto report = load_state_dict(*model, dict, dir / "model.pt");
    EXPECT_EQ(report.loaded, int64_t(dict.size())) << arch.name;
    EXPECT_TRUE(report.unexpected.empty()) << report.describe();
    EXPECT_TRUE(report.resized.empty()) << report.describe();
    for (const auto& name : report.missing) EXPECT_EQ(name.rfind("head.", 0), 0u) << name;  // only the head
    auto io = read_state_dict(dir / "io.pt");
    model->eval();
    torch::NoGradGuard no_grad;
    auto logits = model->forward(entry(io, "input")).logits;
    EXPECT_LT((logits - entry(io, "logits")).abs().max().item<double>(), 1e-4) << arch.name;
  }
}

TEST(Exchange, WhatSmclWritesLoadsInPyTorchWithTheSameLogits) {
  for (const auto& arch : kArchs) {
    test::TempDir dir;
    torch::manual_seed(3);
    auto model = models::make_model(test::choice<config::ModelName>(arch.name), arch.classes, arch.channels,
                                    {models::kSupConHead});
    randomise_batch_norm(*model);
    model->eval();
    auto x = torch::randn({3, arch.channels, arch.size, arch.size});
    torch::Tensor logits;
    {
      torch::NoGradGuard no_grad;
      logits = model->forward(x).logits;
    }
    auto tensors = model_state_dict(*model, /*with_head=*/false);
    for (const auto& [name, tensor] : tensors) EXPECT_NE(name.rfind("head.", 0), 0u) << name;
    write_state_dict(tensors, dir / "exported.pt");
    write_state_dict({{"input", x}, {"logits", logits}}, dir / "io_smcl.pt");
    auto checked = test::run_exchange_py("check " + dir.str() + " " + arch.name + " " + std::to_string(arch.classes) +
                                         " " + std::to_string(arch.channels));
    EXPECT_EQ(checked.status, 0) << arch.name << ": " << checked.output;
    // And back: the file reads here to the same tensors.
    auto back = read_state_dict(dir / "exported.pt");
    ASSERT_EQ(back.size(), tensors.size());
    for (size_t i = 0; i < back.size(); ++i) {
      EXPECT_EQ(back[i].first, tensors[i].first);
      EXPECT_TRUE(torch::equal(back[i].second, tensors[i].second)) << back[i].first;
    }
  }
}

TEST(Exchange, CheckpointDictsPrefixesAndBadFiles) {
  test::TempDir dir;
  auto made = test::run_exchange_py("variants " + dir.str());
  ASSERT_EQ(made.status, 0) << made.output;
  auto plain = read_state_dict(dir / "model.pt");
  for (const char* file : {"dp.pt", "checkpoint.pt"}) {
    auto dict = read_state_dict(dir / file);
    ASSERT_EQ(dict.size(), plain.size()) << file;
    for (size_t i = 0; i < dict.size(); ++i) {
      EXPECT_EQ(dict[i].first, plain[i].first) << file;  // "module." removed
      EXPECT_TRUE(torch::equal(dict[i].second, plain[i].second)) << file;
    }
  }
  EXPECT_NE(test::error_of([&] { read_state_dict(dir / "legacy.pt"); }).find("not a PyTorch file of the zip format"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { read_state_dict(dir / "not_tensors.pt"); }).find("entry 'note' is not a tensor"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { read_state_dict(dir / "missing.pt"); }).find("does not exist"), std::string::npos);

  // Another class count re-initialises the classifier only; another input depth is an error.
  auto five = models::make_model(config::ModelName::kResNet8, 5, 1);
  auto report = load_state_dict(*five, plain, "model.pt");
  EXPECT_EQ(report.resized.size(), 2u) << report.describe();  // linear.weight and linear.bias
  EXPECT_EQ(report.loaded, int64_t(plain.size()) - 2);
  auto colour = models::make_model(config::ModelName::kResNet8, 3, 3);
  auto message = test::error_of([&] { load_state_dict(*colour, plain, "model.pt"); });
  EXPECT_NE(message.find("conv1.weight"), std::string::npos) << message;
}

}  // namespace smcl::train
