#include "smcl/core/stop.h"

#include <atomic>
#include <csignal>

namespace smcl {
namespace {

std::atomic<int> requested{0};
std::atomic<bool> only_ask{false};

extern "C" void on_stop_signal(int signal) {
  int expected = 0;
  if (!requested.compare_exchange_strong(expected, signal) && !only_ask.load()) {
    // The second signal: end now, by the signal's own default action.
    std::signal(signal, SIG_DFL);
    std::raise(signal);
  }
}

}  // namespace

void install_stop_handlers() {
  static const bool installed = [] {
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    return true;
  }();
  (void)installed;
}

StopHandlerScope::StopHandlerScope() {
  requested = 0;
  previous_interrupt_ = std::signal(SIGINT, on_stop_signal);
  previous_terminate_ = std::signal(SIGTERM, on_stop_signal);
}

StopHandlerScope::~StopHandlerScope() {
  std::signal(SIGINT, previous_interrupt_);
  std::signal(SIGTERM, previous_terminate_);
  requested = 0;
}

void repeated_stop_signals_only_ask() { only_ask = true; }

int stop_signal() { return requested.load(); }

std::string signal_name(int signal) {
  return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal " + std::to_string(signal);
}

void stop_if_requested(const std::string& where) {
  const int signal = requested.load();
  if (signal) throw Stopped(signal, "stopped by " + signal_name(signal) + " " + where);
}

}  // namespace smcl
