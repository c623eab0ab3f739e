// File helpers: whole-file reads (gzip'd or plain, detected from the content) and atomic writes.
// Atomic means write to a temporary file beside the target (`<target>.tmp.<pid>`), fsync, then rename: a killed
// process leaves either the old file or the new one, never a half-written one. Every write failure (a full
// disk, an I/O error) is an smcl::Error naming the file, and the temporary is removed.
#pragma once

#include <cstdint>
#include <string>

namespace smcl {

// Reads a whole file; a gzip stream is decompressed. Throws smcl::Error naming the file on any failure.
std::string read_file(const std::string& path);

// Reads a file's first `count` bytes (fewer when it is shorter), decompressing a gzip stream only that far.
std::string read_file_head(const std::string& path, size_t count);

// Reads a whole file, decompressing a gzip stream to at most `max_bytes`: a file that would inflate to more is
// an error (a tiny file cannot claim gigabytes). Plain files are read as they are.
std::string read_file_bounded(const std::string& path, uint64_t max_bytes);

// Writes `content` to `path` atomically.
void write_file_atomic(const std::string& path, const std::string& content);

// Appends one line (a newline is added) and flushes it to disk; a failed append leaves the file as it was.
void append_line(const std::string& path, const std::string& line);

// Removes the `<name>.tmp.<pid>` files in `dir` that a killed process left behind: those whose process no longer
// lives. Returns how many were removed.
int remove_stale_temporaries(const std::string& dir);

// Tests: environment SMCL_DEBUG_FAIL_WRITE=<text> makes every write to a path containing <text> fail as a full
// disk would (ENOSPC) after its first byte, so the failure paths are exercised where no small disk can be
// mounted. Empty or unset: no effect.
bool debug_write_fails(const std::string& path);

}  // namespace smcl
