// File helpers: whole-file reads (gzip'd or plain, detected from the content) and atomic writes.
// Atomic means write to a temporary file beside the target, fsync, then rename: a killed process leaves
// either the old file or the new one, never a half-written one.
#pragma once

#include <functional>
#include <string>

namespace smcl {

// Reads a whole file; a gzip stream is decompressed. Throws smcl::Error naming the file on any failure.
std::string read_file(const std::string& path);

// Writes `content` to `path` atomically.
void write_file_atomic(const std::string& path, const std::string& content);

// Calls write(tmp_path) to produce the file, then fsyncs it and renames it over `path`.
void write_atomic_with(const std::string& path, const std::function<void(const std::string& tmp_path)>& write);

// Appends one line (a newline is added) and flushes it to disk.
void append_line(const std::string& path, const std::string& line);

}  // namespace smcl
