#include "smcl/data/idx.h"

#include <cstring>

#include "smcl/core/error.h"
#include "smcl/core/io.h"

namespace smcl::data {

torch::Tensor read_idx(const std::string& path) {
  std::string bytes = read_file(path);
  auto u8 = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  SMCL_CHECK(bytes.size() >= 4 && u8(0) == 0 && u8(1) == 0,
             "'" << path << "' is not an IDX file (it must start with two zero bytes)");
  SMCL_CHECK(u8(2) == 0x08, "'" << path << "' holds IDX type 0x" << std::hex << int(u8(2))
                                << "; only unsigned bytes (0x08) are supported");
  int rank = u8(3);
  SMCL_CHECK(rank >= 1 && bytes.size() >= 4 + 4 * size_t(rank),
             "'" << path << "' is truncated: its header declares " << rank << " dimensions");
  std::vector<int64_t> shape;
  int64_t count = 1;
  for (int d = 0; d < rank; ++d) {
    size_t at = 4 + 4 * size_t(d);
    int64_t size = (int64_t(u8(at)) << 24) | (u8(at + 1) << 16) | (u8(at + 2) << 8) | u8(at + 3);
    shape.push_back(size);
    count *= size;
  }
  size_t header = 4 + 4 * size_t(rank);
  size_t expected = header + size_t(count);
  SMCL_CHECK(bytes.size() == expected, "'" << path << "' has " << bytes.size() - header
                                           << " data bytes but its header declares " << count
                                           << (bytes.size() < expected ? " (the file is truncated)" : ""));
  torch::Tensor out = torch::empty(shape, torch::kUInt8);
  std::memcpy(out.data_ptr<uint8_t>(), bytes.data() + header, size_t(count));
  return out;
}

}  // namespace smcl::data
