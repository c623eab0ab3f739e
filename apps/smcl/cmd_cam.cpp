// smcl cam: pictures of what a trained model looks at, like the paper's Figure 1: class activation maps of the
// predicted and of the true class over test (or conflict) images, and the most confident mistakes of every class.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "smcl/augment/batch_transforms.h"
#include "smcl/core/error.h"
#include "smcl/core/io.h"
#include "smcl/data/datasets.h"
#include "smcl/eval/cam.h"
#include "smcl/eval/evaluate.h"
#include "smcl/report/gnuplot.h"
#include "smcl/train/fit.h"
#include "smcl/train/run_folder.h"

namespace smcl::app {
namespace {

constexpr int64_t kImagesPerRow = 4;      // panels.png: image, CAM of the prediction, CAM of the truth; 4 per row
constexpr int64_t kMistakesPerClass = 4;  // mistakes.png: a row per class

struct CamOptions {
  std::string run_dir, split = "test", checkpoint = "last", out_dir;
  int64_t n = 16;
};

std::string percent(double p) {
  char text[16];
  std::snprintf(text, sizeof(text), "%.0f%%", 100 * p);
  return text;
}

// The largest side a tile may have on screen: small images are enlarged, ImageNet-sized ones kept.
int64_t scale_for(int64_t side) { return std::max<int64_t>(1, 96 / side); }

void run_cam(const CamOptions& o) {
  train::require_one_process("smcl cam");
  train::OpenRun run = train::open_run(o.run_dir, o.checkpoint);
  const config::Config& config = run.config;
  const torch::Device device = run.device;
  models::Network& model = run.model;
  auto data = data::load_long_tailed(config.data);
  SMCL_CHECK(o.split == "test" || data.has_conflict(),
             "--split conflict: the data of '" << o.run_dir << "' (" << data::dataset_title(config.data)
                                               << ") has no conflict split; only the background-biased sets "
                                                  "(fashion_mnist_bg, mnist_bg) have one");
  const data::Dataset& set = o.split == "test" ? data.test : data.conflict;

  auto background_note = [&](int64_t row) {  // whose background a conflict image carries
    if (o.split != "conflict") return std::string();
    return "on " + data.class_name(data.conflict_background_class[row].item<int64_t>()) + "'s bg";
  };
  auto activations_of = [&](const std::vector<int64_t>& rows) {
    auto index = torch::tensor(rows, torch::kInt64);
    auto images = augment::test_view(data::gather(set, index), config.augment).to(torch::kCPU);
    return std::make_pair(
        images, eval::class_activations(model, images, set.labels.index_select(0, index), config.augment, device));
  };
  std::filesystem::create_directories(o.out_dir);
  const std::string title = o.run_dir + " (method " + config::name_of(config.method.name) + ", reweight " +
                            config::name_of(config.loss.reweight) + ", epoch " + std::to_string(run.epoch) + "), " +
                            o.split + " split\n";
  nlohmann::json listing = {{"run", o.run_dir}, {"checkpoint", o.checkpoint}, {"split", o.split}};

  // panels.png: n images spread evenly over the split (the same images for every run of the same data).
  const int64_t n = std::min(o.n, set.size());
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < n; ++i) rows.push_back(i * set.size() / n);
  auto [images, cams] = activations_of(rows);
  std::vector<report::Tile> tiles;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = set.labels[rows[size_t(i)]].item<int64_t>(), predicted = cams.predicted[i].item<int64_t>();
    tiles.push_back(
        {report::as_rgb(images[i]), "true: " + data.class_name(label) + "\n" + background_note(rows[size_t(i)])});
    tiles.push_back({eval::overlay(images[i], cams.predicted_map[i]),
                     std::string(predicted == label ? "right: " : "WRONG: ") + data.class_name(predicted) + "\n" +
                         percent(cams.confidence[i].item<double>()) + ", its CAM"});
    tiles.push_back({eval::overlay(images[i], cams.true_map[i]), "CAM of the truth\n" + data.class_name(label)});
    listing["panels"].push_back({{"row", rows[size_t(i)]},
                                 {"label", label},
                                 {"predicted", predicted},
                                 {"confidence", cams.confidence[i].item<double>()}});
  }
  const int64_t side = images.size(2);
  report::tile_grid(tiles, 3 * std::min(kImagesPerRow, n), scale_for(side),
                    title + "image | CAM of the prediction | CAM of the true class",
                    (std::filesystem::path(o.out_dir) / "panels.png").string());

  // mistakes.png: of every class, the wrong predictions the model was surest of.
  auto logits = eval::predict(model, set, config, device);
  auto probabilities = logits.softmax(1);
  auto [confidence, predicted] = probabilities.max(1);
  std::vector<int64_t> mistake_rows;
  for (int64_t k = 0; k < set.num_classes; ++k) {
    auto wrong = torch::nonzero(set.labels.eq(k) & predicted.ne(k)).flatten();
    auto order = confidence.index_select(0, wrong).argsort(0, /*descending=*/true);
    for (int64_t j = 0; j < std::min(kMistakesPerClass, order.size(0)); ++j) {
      mistake_rows.push_back(wrong[order[j].item<int64_t>()].item<int64_t>());
    }
  }
  tiles.clear();
  if (!mistake_rows.empty()) {
    auto [mistaken, mistake_cams] = activations_of(mistake_rows);
    for (size_t i = 0; i < mistake_rows.size(); ++i) {
      const int64_t r = mistake_rows[i], label = set.labels[r].item<int64_t>();
      const int64_t guess = mistake_cams.predicted[int64_t(i)].item<int64_t>();
      tiles.push_back({report::as_rgb(mistaken[int64_t(i)]), data.class_name(label) + "\n" + background_note(r)});
      tiles.push_back(
          {eval::overlay(mistaken[int64_t(i)], mistake_cams.predicted_map[int64_t(i)]),
           "as " + data.class_name(guess) + "\n" + percent(mistake_cams.confidence[int64_t(i)].item<double>())});
      listing["mistakes"].push_back({{"row", r},
                                     {"label", label},
                                     {"predicted", guess},
                                     {"confidence", mistake_cams.confidence[int64_t(i)].item<double>()}});
    }
    report::tile_grid(tiles, 2 * kMistakesPerClass, scale_for(side),
                      title + "the surest mistakes of each class: image | CAM of the wrong class",
                      (std::filesystem::path(o.out_dir) / "mistakes.png").string());
  }
  write_file_atomic((std::filesystem::path(o.out_dir) / "cam.json").string(), listing.dump(2) + "\n");
  const std::string mistakes =
      mistake_rows.empty() ? "" : ", mistakes.png (" + std::to_string(mistake_rows.size()) + " mistakes)";
  std::printf("wrote %s/panels.png (%lld images)%s and cam.json\n", o.out_dir.c_str(), static_cast<long long>(n),
              mistakes.c_str());
}

}  // namespace

void add_cam(CLI::App& app) {
  auto* command = app.add_subcommand("cam", "draw class activation maps of a trained run (PNG, needs gnuplot)");
  auto o = std::make_shared<CamOptions>();
  command->add_option("--run", o->run_dir, "run folder (made by smcl train)")->required();
  command->add_option("--split", o->split, "test (default) or conflict (background-biased sets)")
      ->check(CLI::IsMember({"test", "conflict"}));
  command->add_option("--n", o->n, "images in panels.png, spread evenly over the split (default 16)")
      ->check(CLI::Range(1, 256));
  command->add_option("--checkpoint", o->checkpoint, "last (default) or best")->check(CLI::IsMember({"last", "best"}));
  command->add_option("-o,--out", o->out_dir, "folder for panels.png, mistakes.png and cam.json")->required();
  command->callback([o] { run_cam(*o); });
}

}  // namespace smcl::app
