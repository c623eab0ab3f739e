#include "smcl/core/io.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "smcl/core/error.h"

namespace smcl {
namespace {

std::string read_raw(const std::string& path) {
  std::error_code ec;
  SMCL_CHECK(std::filesystem::is_regular_file(path, ec), "cannot read '" << path << "': no such file");
  std::ifstream in(path, std::ios::binary);
  SMCL_CHECK(in, "cannot open '" << path << "': " << std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  SMCL_CHECK(!in.bad(), "error while reading '" << path << "'");
  return buffer.str();
}

std::string gunzip(const std::string& path, const std::string& compressed) {
  z_stream stream{};
  SMCL_ASSERT(inflateInit2(&stream, 15 + 16) == Z_OK);  // 15 + 16: gzip wrapper only
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  char chunk[1 << 16];
  int status = Z_OK;
  while (status != Z_STREAM_END) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk);
    stream.avail_out = sizeof(chunk);
    status = inflate(&stream, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END) {
      std::string why = status == Z_BUF_ERROR ? "the file is truncated"
                                              : (stream.msg ? stream.msg : "inflate error " + std::to_string(status));
      inflateEnd(&stream);
      throw Error("cannot decompress '" + path + "': " + why);
    }
    out.append(chunk, sizeof(chunk) - stream.avail_out);
  }
  inflateEnd(&stream);
  return out;
}

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  SMCL_CHECK(fd >= 0, "cannot open '" << path << "' to sync it: " << std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  SMCL_CHECK(rc == 0, "cannot sync '" << path << "': " << std::strerror(errno));
}

}  // namespace

std::string read_file(const std::string& path) {
  std::string content = read_raw(path);
  bool gzipped = content.size() >= 2 && static_cast<unsigned char>(content[0]) == 0x1f &&
                 static_cast<unsigned char>(content[1]) == 0x8b;
  return gzipped ? gunzip(path, content) : content;
}

void write_atomic_with(const std::string& path, const std::function<void(const std::string&)>& write) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    write(tmp);
    fsync_path(tmp);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  SMCL_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0,
             "cannot rename '" << tmp << "' to '" << path << "': " << std::strerror(errno));
}

void write_file_atomic(const std::string& path, const std::string& content) {
  write_atomic_with(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    SMCL_CHECK(out, "cannot create '" << tmp << "': " << std::strerror(errno));
    out << content;
    out.close();
    SMCL_CHECK(out, "cannot write '" << tmp << "': " << std::strerror(errno));
  });
}

void append_line(const std::string& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  SMCL_CHECK(out, "cannot open '" << path << "' for appending: " << std::strerror(errno));
  out << line << '\n';
  out.close();
  SMCL_CHECK(out, "cannot write '" << path << "': " << std::strerror(errno));
}

}  // namespace smcl
