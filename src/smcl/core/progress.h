// Console output for long work: a live progress bar inside an epoch when stderr is a terminal, nothing
// otherwise (logs stay clean), plus time formatting for ETA columns.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace smcl {

bool stderr_is_terminal();

// "1h02m", "3m05s", "42s".
std::string format_duration(double seconds);

class ProgressBar {
 public:
  // `label` prefixes the bar; `total` is the number of steps. Draws only on a terminal, and never for total 0.
  ProgressBar(std::string label, int64_t total);
  ~ProgressBar();
  // Whether the bar draws at all (total > 0, stderr a terminal): callers skip building suffixes otherwise.
  bool enabled() const { return enabled_; }
  // Reports that `done` steps are complete; `suffix` is shown after the bar (e.g. the running loss).
  void update(int64_t done, const std::string& suffix = "");
  // Erases the bar so the next line starts clean.
  void finish();

 private:
  std::string label_;
  int64_t total_;
  bool enabled_;
  bool active_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace smcl
