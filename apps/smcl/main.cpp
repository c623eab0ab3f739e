// smcl: train and evaluate image classifiers on long-tailed data. This file only builds the command line
// and is the one place that catches errors: a user error prints one message and exits with status 2; a stop
// signal honoured at a step boundary exits with 128 + the signal; anything else is a bug (status 3).
#include <c10/util/Exception.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "commands.h"
#include "smcl/core/allocator.h"
#include "smcl/core/error.h"
#include "smcl/core/stop.h"
#include "smcl/core/version.h"

// jemalloc's settings when the build links it (SMCL_WITH_JEMALLOC; glibc ignores the symbol): never hand freed
// pages back, so that every training step reuses the previous one's memory without page faults
// (docs/performance.md, "Allocators"). MALLOC_CONF in the environment still adds to or overrides them.
extern "C" {
const char* malloc_conf = "dirty_decay_ms:-1,muzzy_decay_ms:-1,retain:true";
}

int main(int argc, char** argv) {
  smcl::keep_freed_memory();
  CLI::App app{"smcl: long-tailed image classification (SMCL and its baselines)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(smcl::kVersion));
  smcl::app::add_train(app);
  smcl::app::add_eval(app);
  smcl::app::add_retrain(app);
  smcl::app::add_sweep(app);
  smcl::app::add_export(app);
  smcl::app::add_predict(app);
  smcl::app::add_calibrate(app);
  smcl::app::add_launch(app);
  smcl::app::add_cam(app);
  smcl::app::add_report(app);
  smcl::app::add_data(app);
  smcl::app::add_config(app);
  auto fail = [](const char* message, int status) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", message);
    return status;
  };
  try {
    app.parse(argc, argv);  // runs the chosen subcommand's callback
  } catch (const CLI::ParseError& e) {
    int status = app.exit(e);
    return status == 0 ? 0 : 2;
  } catch (const smcl::Stopped& e) {
    // A stop signal, honoured at a step boundary: the shell's convention for a process ended by a signal.
    std::fflush(stdout);
    std::fprintf(stderr, "%s\n", e.what());
    return 128 + e.signal();
  } catch (const smcl::Error& e) {
    return fail(e.what(), 2);
  } catch (const c10::Error& e) {
    // libtorch errors here come from data or checkpoints libtorch rejected; drop its C++ backtrace.
    return fail(e.what_without_backtrace(), 2);
  } catch (const std::filesystem::filesystem_error& e) {
    // A folder that cannot be created or a file that cannot be moved: the machine's answer, naming the path.
    return fail(e.what(), 2);
  } catch (const std::bad_alloc&) {
    return fail("out of memory (the data or the batch does not fit this machine's memory)", 2);
  } catch (const std::exception& e) {
    // Every bad input is an smcl::Error; anything else is a bug in smcl.
    std::string message = std::string("internal error: ") + e.what() +
                          "\nthis is a bug in smcl; please report it with the command and its input";
    return fail(message.c_str(), 3);
  }
  // Output that could not be written (a full disk, standard output closed) is a failed command, not a success.
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    const std::string message = std::string("cannot write this command's output to standard output: ") +
                                (errno != 0 ? std::strerror(errno) : "write error");
    return fail(message.c_str(), 2);
  }
  return 0;
}
