// Reader for the IDX format of MNIST and Fashion-MNIST (gzip'd or plain; detected from the content).
// Not here: which files make a dataset (datasets.h).
#pragma once

#include <torch/types.h>

#include <string>

namespace smcl::data {

// Reads an IDX file of unsigned bytes (type 0x08) of any rank: returns a uint8 tensor with the file's
// dimensions. Throws smcl::Error naming the file when it is missing, truncated, too long or not IDX uint8.
torch::Tensor read_idx(const std::string& path);

}  // namespace smcl::data
