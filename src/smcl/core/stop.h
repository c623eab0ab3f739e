// Stopping long work cleanly on SIGINT and SIGTERM: the first signal only sets a flag, which the training
// loops check at every step boundary (throwing smcl::Stopped there, so nothing is half-written and the last
// checkpoint stays resumable); a second signal ends the process at once, as the signal's default would.
#pragma once

#include <string>

#include "smcl/core/error.h"

namespace smcl {

// Thrown at a step boundary after a stop signal; main prints its message and exits with 128 + the signal.
class Stopped : public Error {
 public:
  Stopped(int signal, const std::string& message) : Error(message), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

// Installs the handlers for SIGINT and SIGTERM (idempotent). Commands that train call it.
void install_stop_handlers();

// The same handlers for as long as the scope lives, then the previous ones again, with no stop pending either
// way: for a host that has handlers of its own (the Python module, inside the interpreter's SIGINT handler).
class StopHandlerScope {
 public:
  StopHandlerScope();
  ~StopHandlerScope();
  StopHandlerScope(const StopHandlerScope&) = delete;
  StopHandlerScope& operator=(const StopHandlerScope&) = delete;

 private:
  void (*previous_interrupt_)(int);
  void (*previous_terminate_)(int);
};

// From now on a second (third, ...) SIGINT or SIGTERM only asks again, instead of ending the process: for a
// parent that must live on to pass the stop to its child processes and wait for them (smcl sweep --jobs).
void repeated_stop_signals_only_ask();

// The signal that asked to stop (SIGINT or SIGTERM), or 0.
int stop_signal();

// Throws Stopped when a stop was asked for; `where` says what was stopped and how to continue it.
void stop_if_requested(const std::string& where);

// "SIGINT" / "SIGTERM".
std::string signal_name(int signal);

}  // namespace smcl
