#include "smcl/core/progress.h"

#include <unistd.h>

#include <cstdio>

namespace smcl {

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

std::string format_duration(double seconds) {
  long s = seconds < 0 ? 0 : static_cast<long>(seconds + 0.5);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof(text), "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  } else if (s >= 60) {
    std::snprintf(text, sizeof(text), "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(text, sizeof(text), "%lds", s);
  }
  return text;
}

ProgressBar::ProgressBar(std::string label, int64_t total)
    : label_(std::move(label)),
      total_(total),
      enabled_(total > 0 && stderr_is_terminal()),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(int64_t done, const std::string& suffix) {
  if (!enabled_ || total_ <= 0) return;
  auto now = std::chrono::steady_clock::now();
  // Redraw at most ten times a second: terminals are slow and the step is fast.
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  int filled = static_cast<int>(kWidth * done / total_);
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) / static_cast<double>(done) : 0.0;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r\033[K%s [%s] %lld/%lld %s eta %s", label_.c_str(), bar.c_str(), static_cast<long long>(done),
               static_cast<long long>(total_), suffix.c_str(), format_duration(eta).c_str());
  std::fflush(stderr);
  active_ = true;
}

void ProgressBar::finish() {
  if (active_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    active_ = false;
  }
}

}  // namespace smcl
