#include "smcl/core/io.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

#include "smcl/core/error.h"

namespace smcl {
namespace {

namespace fs = std::filesystem;

std::string read_raw(const std::string& path) {
  std::error_code ec;
  SMCL_CHECK(fs::is_regular_file(path, ec), "cannot read '" << path << "': no such file");
  std::ifstream in(path, std::ios::binary);
  SMCL_CHECK(in, "cannot open '" << path << "': " << std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  SMCL_CHECK(!in.bad(), "error while reading '" << path << "'");
  return buffer.str();
}

bool is_gzip(const std::string& content) {
  return content.size() >= 2 && static_cast<unsigned char>(content[0]) == 0x1f &&
         static_cast<unsigned char>(content[1]) == 0x8b;
}

// Inflates a gzip stream. With `limit` set, stops after that many bytes: `over_limit` then tells whether the
// stream had more (which is an error for read_file_bounded and the expected case for a head).
std::string gunzip(const std::string& path, const std::string& compressed, uint64_t limit, bool* over_limit) {
  z_stream stream{};
  SMCL_ASSERT(inflateInit2(&stream, 15 + 16) == Z_OK);  // 15 + 16: gzip wrapper only
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  char chunk[1 << 16];
  int status = Z_OK;
  if (over_limit) *over_limit = false;
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
    const size_t produced = sizeof(chunk) - stream.avail_out;
    if (out.size() + produced > limit) {
      out.append(chunk, size_t(limit - out.size()));
      if (over_limit) *over_limit = true;
      break;
    }
    out.append(chunk, produced);
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

// Writes all of `content` to `fd`, which was opened for `path`; throws naming `path` on any failure.
void write_all(int fd, const std::string& content, const std::string& path) {
  const bool fail = debug_write_fails(path);
  size_t done = 0;
  while (done < content.size()) {
    if (fail && done > 0) {
      errno = ENOSPC;
      throw Error("cannot write '" + path + "': " + std::strerror(errno));
    }
    const size_t piece = fail ? 1 : content.size() - done;
    ssize_t n = ::write(fd, content.data() + done, piece);
    if (n < 0 && errno == EINTR) continue;
    SMCL_CHECK(n > 0, "cannot write '" << path << "': " << std::strerror(errno));
    done += size_t(n);
  }
}

// Calls write(tmp_path) to produce the file, then fsyncs it and renames it over `path`; the temporary is removed
// whatever write throws.
void write_atomic_with(const std::string& path, const std::function<void(const std::string&)>& write) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    write(tmp);
    fsync_path(tmp);
    SMCL_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0,
               "cannot rename '" << tmp << "' to '" << path << "': " << std::strerror(errno));
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

}  // namespace

bool debug_write_fails(const std::string& path) {
  const char* text = std::getenv("SMCL_DEBUG_FAIL_WRITE");
  return text && *text && path.find(text) != std::string::npos;
}

std::string read_file(const std::string& path) {
  std::string content = read_raw(path);
  return is_gzip(content) ? gunzip(path, content, UINT64_MAX, nullptr) : content;
}

std::string read_file_head(const std::string& path, size_t count) {
  std::string raw = read_raw(path);
  if (!is_gzip(raw)) return raw.substr(0, count);
  bool more = false;
  return gunzip(path, raw, count, &more);
}

std::string read_file_bounded(const std::string& path, uint64_t max_bytes) {
  std::string content = read_raw(path);
  if (!is_gzip(content)) return content;
  bool more = false;
  std::string out = gunzip(path, content, max_bytes, &more);
  SMCL_CHECK(!more, "'" << path << "' decompresses to more than the " << max_bytes
                        << " bytes its header implies (corrupt, or not the file it claims to be)");
  return out;
}

void write_file_atomic(const std::string& path, const std::string& content) {
  write_atomic_with(path, [&](const std::string& tmp) {
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    SMCL_CHECK(fd >= 0, "cannot create '" << tmp << "': " << std::strerror(errno));
    try {
      write_all(fd, content, path);
    } catch (...) {
      ::close(fd);
      throw;
    }
    SMCL_CHECK(::close(fd) == 0, "cannot write '" << path << "': " << std::strerror(errno));
  });
}

void append_line(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  SMCL_CHECK(fd >= 0, "cannot open '" << path << "' for appending: " << std::strerror(errno));
  struct stat before {};
  ::fstat(fd, &before);
  try {
    write_all(fd, line + "\n", path);
    SMCL_CHECK(::fsync(fd) == 0, "cannot sync '" << path << "': " << std::strerror(errno));
  } catch (...) {
    // Take back a partial line, so that the file stays one whole JSON value per line.
    if (::ftruncate(fd, before.st_size) != 0) {
      // Nothing more can be done here; resume drops lines it cannot parse.
    }
    ::close(fd);
    throw;
  }
  ::close(fd);
}

int remove_stale_temporaries(const std::string& dir) {
  static const std::regex temporary(R"(.+\.tmp\.([0-9]+))");
  int removed = 0;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    std::smatch match;
    if (!entry.is_regular_file(ec) || !std::regex_match(name, match, temporary)) continue;
    // A temporary of a process that still lives may be mid-write (another command reading the same run).
    const pid_t pid = pid_t(std::strtol(match[1].str().c_str(), nullptr, 10));
    if (pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM)) continue;
    if (fs::remove(entry.path(), ec)) ++removed;
  }
  return removed;
}

}  // namespace smcl
