#include "smcl/core/error.h"

namespace smcl {

void assertion_failed(const char* expr, const char* file, int line, const std::string& message) {
  std::ostringstream out;
  out << "internal error (a bug in smcl, please report it): " << expr << " failed at " << file << ":" << line;
  if (!message.empty()) out << ": " << message;
  throw std::logic_error(out.str());
}

}  // namespace smcl
