// Readers for the two official CIFAR distributions: the binary version (cifar-10-batches-bin,
// cifar-100-binary) and the Python version (cifar-10-batches-py, cifar-100-python, pickled by Python 2's
// cPickle; Python 3 pickles of the same dicts are read too). CIFAR-100 uses the fine labels.
#pragma once

#include <string>

#include "smcl/data/dataset.h"

namespace smcl::data {

// Reads the train or test split of CIFAR-10 (num_classes 10) or CIFAR-100 (100) from `root`, the folder that
// holds the extracted distribution folder (as torchvision's root). Whichever distribution is present is used,
// the binary one first. Throws smcl::Error naming the missing, truncated or corrupt file.
Dataset read_cifar(const std::string& root, int num_classes, bool train);

// One file of the binary distribution: records of `label_bytes` label bytes (1 for CIFAR-10; 2 for
// CIFAR-100: coarse then fine, the fine one is kept) followed by 3072 pixel bytes.
Dataset read_cifar_binary_file(const std::string& path, int label_bytes, int num_classes);

// One file of the Python distribution: a pickled dict with 'data' ([N, 3072] uint8) and 'labels' (CIFAR-10)
// or 'fine_labels' (CIFAR-100).
Dataset read_cifar_pickle_file(const std::string& path, int num_classes);

}  // namespace smcl::data
