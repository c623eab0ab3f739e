#include "smcl/data/idx.h"

#include <algorithm>
#include <cstring>

#include "smcl/core/error.h"
#include "smcl/core/io.h"

namespace smcl::data {

torch::Tensor read_idx(const std::string& path) {
  // The header first (at most 4 + 4 * 255 bytes), so that a gzip'd file is inflated no further than the size
  // its header declares.
  const std::string head = read_file_head(path, 4 + 4 * 255);
  auto u8 = [&](size_t i) { return static_cast<uint8_t>(head[i]); };
  SMCL_CHECK(head.size() >= 4 && u8(0) == 0 && u8(1) == 0,
             "'" << path << "' is not an IDX file (it must start with two zero bytes)");
  SMCL_CHECK(u8(2) == 0x08, "'" << path << "' holds IDX type 0x" << std::hex << int(u8(2))
                                << "; only unsigned bytes (0x08) are supported");
  int rank = u8(3);
  SMCL_CHECK(rank >= 1 && head.size() >= 4 + 4 * size_t(rank),
             "'" << path << "' is truncated: its header declares " << rank << " dimensions");
  std::vector<int64_t> shape;
  uint64_t count = 1;
  constexpr uint64_t kMaxCount = uint64_t(1) << 40;  // no IDX data set comes near a terabyte
  for (int d = 0; d < rank; ++d) {
    size_t at = 4 + 4 * size_t(d);
    uint64_t size = (uint64_t(u8(at)) << 24) | (uint64_t(u8(at + 1)) << 16) | (uint64_t(u8(at + 2)) << 8) | u8(at + 3);
    SMCL_CHECK(size == 0 || count <= kMaxCount / size,
               "'" << path << "' is corrupt: its header declares more than 2^40 values");
    shape.push_back(int64_t(size));
    count *= size;
  }
  const size_t header = 4 + 4 * size_t(rank);
  const uint64_t expected = header + count;
  std::string bytes = read_file_bounded(path, expected);
  SMCL_CHECK(bytes.size() == expected, "'" << path << "' has " << bytes.size() - std::min<size_t>(bytes.size(), header)
                                           << " data bytes but its header declares " << count
                                           << (bytes.size() < expected ? " (the file is truncated)" : ""));
  torch::Tensor out = torch::empty(shape, torch::kUInt8);
  if (count > 0) std::memcpy(out.data_ptr<uint8_t>(), bytes.data() + header, size_t(count));
  return out;
}

}  // namespace smcl::data
