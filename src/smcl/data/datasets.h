// The datasets smcl knows by name: where their files are, their shape and statistics, and the long-tailed
// train/test pair a run trains on. Not here: file formats (idx.h, cifar.h) and subset selection (long_tail.h).
#pragma once

#include <string>
#include <vector>

#include "smcl/config/config.h"
#include "smcl/data/dataset.h"

namespace smcl::data {

struct DatasetInfo {
  std::string name;            // config name, e.g. "cifar100"
  std::string title;           // for people, e.g. "CIFAR-100"
  int64_t num_classes;
  int64_t channels;
  int64_t per_class_train;     // images per class in the balanced official training set
  std::vector<double> mean;    // normalisation defaults, per channel
  std::vector<double> std;
  std::string default_root;
};

// Throws smcl::Error listing the known names.
const DatasetInfo& dataset_info(const std::string& name);

// Fills the dataset-dependent defaults (data.root, data.max_per_class, augment.mean/std) so the saved config
// says exactly what ran. Throws smcl::Error when mean/std do not match the channel count.
void resolve_defaults(config::Config& config);

// The balanced official train or test split. Throws smcl::Error naming missing or bad files.
Dataset load_split(const config::DataConfig& data, bool train);

struct LongTailedData {
  Dataset train;                       // the long-tailed subset, in training-set order
  Dataset test;                        // the untouched balanced test set
  std::vector<int64_t> train_indices;  // original index of each training image
  std::vector<int64_t> counts;         // n_k
};

// Loads both splits and cuts the long-tailed training subset (SPEC section 1). `data` must be resolved.
LongTailedData load_long_tailed(const config::DataConfig& data);

}  // namespace smcl::data
