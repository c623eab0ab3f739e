// Readers for the two official CIFAR distributions: the binary version (cifar-10-batches-bin,
// cifar-100-binary) and the Python version (cifar-10-batches-py, cifar-100-python, pickled by Python 2's
// cPickle; Python 3 pickles of the same dicts are read too). CIFAR-100 uses the fine labels. Also the image-folder
// layout of public copies (train/<class>/0000.jpg, ...; read_cifar_folder), for measuring where the official
// files cannot be had.
#pragma once

#include <string>
#include <vector>

#include "smcl/data/dataset.h"

namespace smcl::data {

// Reads the train or test split of CIFAR-10 (num_classes 10) or CIFAR-100 (100) from `root`, the folder that
// holds the extracted distribution folder (as torchvision's root). Whichever distribution is present is used,
// the binary one first, then the image-folder layout (`root/train`, `root/test`). Throws smcl::Error naming the
// missing, truncated or corrupt file.
Dataset read_cifar(const std::string& root, int num_classes, bool train);

// One file of the binary distribution: records of `label_bytes` label bytes (1 for CIFAR-10; 2 for
// CIFAR-100: coarse then fine, the fine one is kept) followed by 3072 pixel bytes.
Dataset read_cifar_binary_file(const std::string& path, int label_bytes, int num_classes);

// One file of the Python distribution: a pickled dict with 'data' ([N, 3072] uint8) and 'labels' (CIFAR-10)
// or 'fine_labels' (CIFAR-100).
Dataset read_cifar_pickle_file(const std::string& path, int num_classes);

// The class folder names of CIFAR-10 or CIFAR-100 in label order (CIFAR-100: its fine labels, which are in
// alphabetical order), as the official batches.meta / meta files list them.
const std::vector<std::string>& cifar_class_names(int num_classes);

// One split of the image-folder layout: `split_dir`/<class>/<image>, one folder per class named as
// cifar_class_names, each image a 32x32 JPEG or PNG (decoded to RGB). The images of a class are taken in the
// natural order of their file names (0000.jpg, 0001.jpg, ... ; 2.png before 10.png), which is the order of
// that class's images in the official files when a copy was written class by class: the long-tailed subset picks
// images by their position within their class, so it then picks the same images. The set is grouped by class.
// Decodes on `threads` threads (0: all cores). Throws smcl::Error naming a missing or unknown class folder, a
// file that is not an image, or an image that is not 32x32.
Dataset read_cifar_folder(const std::string& split_dir, int num_classes, int64_t threads = 0);

}  // namespace smcl::data
