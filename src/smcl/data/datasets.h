// The datasets smcl knows by name: where their files are, their shape and statistics, and the long-tailed
// train/test pair a run trains on. Not here: file formats (idx.h, cifar.h) and subset selection (long_tail.h).
#pragma once

#include <string>
#include <vector>

#include "smcl/config/config.h"
#include "smcl/data/dataset.h"

namespace smcl::data {

struct DatasetInfo {
  config::DatasetName name;
  std::string title;  // for people, e.g. "CIFAR-100"
  int64_t num_classes;
  int64_t channels;
  int64_t per_class_train;   // images per class in the balanced official training set
  std::vector<double> mean;  // normalisation defaults, per channel
  std::vector<double> std;
  std::string default_root;
  bool file_backed = false;  // image files decoded per batch (image_files.h); else read whole into memory
  int64_t side = 0;          // in-memory sets: the images' height and width; file sets: 0 (data.image_size)
};

// Every data.name has one (tests/config/choices_test.cpp checks).
const DatasetInfo& dataset_info(config::DatasetName name);

// Fills the dataset-dependent defaults (data.root, data.subset, data.max_per_class, data.image_size, the
// ImageNet-LT list names, augment.mean/std) so the saved config says exactly what ran. Throws smcl::Error when
// mean/std do not match the channel count or a file set lacks its root or list files.
void resolve_defaults(config::Config& config);

// For people: "CIFAR-100", "image folder 'photos'".
std::string dataset_title(const config::DataConfig& data);

// The balanced official train or test split of an in-memory set. Throws smcl::Error naming missing or bad files.
Dataset load_split(const config::DataConfig& data, bool train);

struct LongTailedData {
  Dataset train;                         // the long-tailed subset (or the whole training set), in training-set order
  Dataset test;                          // the untouched test set
  Dataset val;                           // data.val_list's validation set; no labels (has_val() false) without one
  std::vector<int64_t> train_indices;    // original index of each training image (row of the list or folder scan)
  std::vector<int64_t> counts;           // n_k
  std::vector<std::string> class_names;  // class k's name: image_folder's folder, the official names of
                                         // fashion_mnist, mnist, cifar10; else empty
  // Background-biased sets (background.h): the conflict split, the major class whose own background each of its
  // images carries ([N] int64), and the major classes (largest first); else undefined and empty.
  Dataset conflict;
  torch::Tensor conflict_background_class;
  std::vector<int64_t> major_classes;

  bool has_val() const { return val.labels.defined(); }
  bool has_conflict() const { return conflict.labels.defined(); }
  // Class k's name, or "class k" where the set has none.
  std::string class_name(int64_t k) const;
};

// Loads both splits and, with data.subset long_tail, cuts the long-tailed training subset (SPEC section 1).
// File sets: the lists or folders are read and checked (decoding happens per batch); image_folder without
// test_root holds out data.holdout_fraction of each class (at least one image, seeded by data.subset_seed);
// data.val_list adds the validation set.
// `data` must be resolved.
LongTailedData load_long_tailed(const config::DataConfig& data);

}  // namespace smcl::data
