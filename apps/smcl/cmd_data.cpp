// smcl data: shows the long-tailed training set a config selects (counts, groups, histogram) and can write
// the kept original indices.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "commands.h"
#include "smcl/core/error.h"
#include "smcl/core/io.h"
#include "smcl/data/background.h"
#include "smcl/data/datasets.h"
#include "smcl/data/long_tail.h"
#include "smcl/report/gnuplot.h"

namespace smcl::app {

namespace {

// The first `per_class` training images of every class, a row each, then a row of conflict images.
void draw_samples(const data::LongTailedData& lt, const std::string& title, int64_t per_class,
                  const std::string& path) {
  SMCL_CHECK(lt.train.images.defined(), "--samples-out draws in-memory sets (not image files)");
  std::vector<report::Tile> tiles;
  for (int64_t k = 0; k < lt.train.num_classes; ++k) {
    auto rows = torch::nonzero(lt.train.labels.eq(k)).flatten();
    for (int64_t j = 0; j < per_class; ++j) {
      std::string caption =
          j == 0 ? std::to_string(k) + " " + lt.class_name(k) + "\n" + std::to_string(lt.counts[size_t(k)]) + " images"
                 : "";
      tiles.push_back({j < rows.size(0)
                           ? report::as_rgb(lt.train.images[rows[j].item<int64_t>()])
                           : torch::full({3, lt.train.images.size(2), lt.train.images.size(3)}, 255, torch::kUInt8),
                       caption});
    }
  }
  if (lt.has_conflict()) {
    for (int64_t j = 0; j < std::min(per_class, lt.conflict.size()); ++j) {
      const int64_t label = lt.conflict.labels[j].item<int64_t>();
      const int64_t owner = lt.conflict_background_class[j].item<int64_t>();
      tiles.push_back({lt.conflict.images[j], lt.class_name(label) + " on\n" + lt.class_name(owner) + "'s bg"});
    }
  }
  const std::string conflict_note =
      lt.has_conflict() ? "\nlast row: conflict images (a minor class on a major class's own background)" : "";
  report::tile_grid(tiles, per_class, 3, title + ": training images, one class per row" + conflict_note, path);
}

}  // namespace

void add_data(CLI::App& app) {
  auto* command = app.add_subcommand("data", "print the long-tailed training set of a config");
  auto options = std::make_shared<ConfigOptions>();
  auto indices_out = std::make_shared<std::string>();
  options->add_to(*command);
  command->add_option("--indices-out", *indices_out,
                      "write the kept original training indices here, one per line, in training-set order");
  auto samples_out = std::make_shared<std::string>();
  auto samples_per_class = std::make_shared<int64_t>(8);
  command->add_option("--samples-out", *samples_out,
                      "draw training images of every class (and, for background-biased sets, conflict images) "
                      "into this PNG (needs gnuplot)");
  command->add_option("--samples-per-class", *samples_per_class, "images per class in --samples-out (default 8)")
      ->check(CLI::Range(1, 32));
  command->callback([=] {
    config::Config config = options->load();
    auto lt = data::load_long_tailed(config.data);
    auto groups = data::shot_groups(lt.counts, config.eval.many_threshold, config.eval.few_threshold);
    const char* group_names[3] = {"many", "medium", "few"};
    int64_t group_sizes[3] = {0, 0, 0};
    for (int g : groups) ++group_sizes[g];
    int64_t largest = *std::max_element(lt.counts.begin(), lt.counts.end());
    const std::string title = data::dataset_title(config.data);
    if (config.data.subset == config::Subset::kLongTail) {
      std::printf(
          "%s, long-tailed subset: %s profile, imbalance ratio %g, n_max %lld, "
          "subset seed %lld: %lld training images, %lld test images\n",
          title.c_str(), config::name_of(config.data.profile).c_str(), config.data.imbalance_ratio,
          static_cast<long long>(largest), static_cast<long long>(config.data.subset_seed),
          static_cast<long long>(lt.train.size()), static_cast<long long>(lt.test.size()));
    } else {
      std::printf("%s, whole training set: %lld training images, %lld test images\n", title.c_str(),
                  static_cast<long long>(lt.train.size()), static_cast<long long>(lt.test.size()));
    }
    std::printf("class  count  group   histogram\n");
    for (size_t k = 0; k < lt.counts.size(); ++k) {
      int width = largest > 0 ? int(40 * lt.counts[k] / largest) : 0;
      std::printf("%5zu  %5lld  %-6s  %s%s\n", k, static_cast<long long>(lt.counts[k]), group_names[groups[k]],
                  std::string(size_t(std::max(width, lt.counts[k] > 0 ? 1 : 0)), '#').c_str(),
                  lt.class_names.empty() ? "" : ("  " + lt.class_names[k]).c_str());
    }
    std::printf("groups: many (> %lld) %lld classes, medium %lld, few (< %lld) %lld\n",
                static_cast<long long>(config.eval.many_threshold), static_cast<long long>(group_sizes[0]),
                static_cast<long long>(group_sizes[1]), static_cast<long long>(config.eval.few_threshold),
                static_cast<long long>(group_sizes[2]));
    if (lt.has_conflict()) {
      const auto& kinds = data::background_kind_names();
      std::printf("backgrounds (data.bg_bias %g): major classes with their own kind:", config.data.bg_bias);
      for (size_t r = 0; r < lt.major_classes.size(); ++r) {
        std::printf("%s %lld: %s", r ? "," : "", static_cast<long long>(lt.major_classes[r]), kinds[r].c_str());
      }
      std::printf("; conflict split: %lld images\n", static_cast<long long>(lt.conflict.size()));
    }
    if (lt.train.images.defined()) {  // in-memory sets: the statistics augment.mean / augment.std could take
      auto pixels = lt.train.images.to(torch::kFloat64).div(255).transpose(0, 1).flatten(1);
      auto mean = pixels.mean(1), std = pixels.std(1);
      std::printf("training images per channel: mean");
      for (int64_t c = 0; c < mean.size(0); ++c) std::printf(" %.4f", mean[c].item<double>());
      std::printf(", std");
      for (int64_t c = 0; c < std.size(0); ++c) std::printf(" %.4f", std[c].item<double>());
      std::printf("\n");
    }
    if (!samples_out->empty()) {
      draw_samples(lt, title, *samples_per_class, *samples_out);
      std::printf("wrote %s\n", samples_out->c_str());
    }
    if (!indices_out->empty()) {
      std::ostringstream text;
      for (int64_t i : lt.train_indices) text << i << "\n";
      write_file_atomic(*indices_out, text.str());
      std::printf("wrote %zu indices to %s\n", lt.train_indices.size(), indices_out->c_str());
    }
  });
}

}  // namespace smcl::app
