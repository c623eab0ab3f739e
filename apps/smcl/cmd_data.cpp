// smcl data: shows the long-tailed training set a config selects (counts, groups, histogram) and can write
// the kept original indices.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "commands.h"
#include "smcl/core/io.h"
#include "smcl/data/datasets.h"
#include "smcl/data/long_tail.h"

namespace smcl::app {

void add_data(CLI::App& app) {
  auto* command = app.add_subcommand("data", "print the long-tailed training set of a config");
  auto options = std::make_shared<ConfigOptions>();
  auto indices_out = std::make_shared<std::string>();
  options->add_to(*command);
  command->add_option("--indices-out", *indices_out,
                      "write the kept original training indices here, one per line, in training-set order");
  command->callback([=] {
    config::Config config = options->load();
    auto lt = data::load_long_tailed(config.data);
    auto groups = data::shot_groups(lt.counts, config.eval.many_threshold, config.eval.few_threshold);
    const char* group_names[3] = {"many", "medium", "few"};
    int64_t group_sizes[3] = {0, 0, 0};
    for (int g : groups) ++group_sizes[g];
    int64_t largest = *std::max_element(lt.counts.begin(), lt.counts.end());
    const std::string title = data::dataset_title(config.data);
    if (config.data.subset == "long_tail") {
      std::printf("%s, long-tailed subset: %s profile, imbalance ratio %g, n_max %lld, "
                  "subset seed %lld: %lld training images, %lld test images\n",
                  title.c_str(), config.data.profile.c_str(), config.data.imbalance_ratio,
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
    if (!indices_out->empty()) {
      std::ostringstream text;
      for (int64_t i : lt.train_indices) text << i << "\n";
      write_file_atomic(*indices_out, text.str());
      std::printf("wrote %zu indices to %s\n", lt.train_indices.size(), indices_out->c_str());
    }
  });
}

}  // namespace smcl::app
