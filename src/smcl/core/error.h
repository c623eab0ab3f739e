// smcl::Error and the two checking macros every module uses.
// SMCL_CHECK is for user and data errors (bad config, bad file): it throws smcl::Error, which main turns into
// one message and exit status 2. SMCL_ASSERT is for internal invariants and is always on; its optional message
// is streamed like SMCL_CHECK's and must start with a string literal.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace smcl {

// A user-facing error: the message names the file, key or value and says what was expected.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// An internal invariant broke: a bug in smcl, not in the user's input.
[[noreturn]] void assertion_failed(const char* expr, const char* file, int line, const std::string& message);

}  // namespace smcl

#define SMCL_CHECK(cond, ...)                        \
  do {                                               \
    if (!(cond)) {                                   \
      std::ostringstream smcl_check_stream_;         \
      smcl_check_stream_ << __VA_ARGS__;             \
      throw ::smcl::Error(smcl_check_stream_.str()); \
    }                                                \
  } while (false)

#define SMCL_ASSERT(cond, ...)                                                        \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::ostringstream smcl_assert_stream_;                                         \
      smcl_assert_stream_ << "" __VA_ARGS__;                                          \
      ::smcl::assertion_failed(#cond, __FILE__, __LINE__, smcl_assert_stream_.str()); \
    }                                                                                 \
  } while (false)
