// Stop signals: the first SIGTERM only asks to stop (the process lives on and stop_if_requested throws at the next
// step boundary); the second ends the process by the signal itself. Run in a forked child, which the signals
// may end.
#include "smcl/core/stop.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

namespace smcl {

TEST(Stop, FirstSignalAsksToStopSecondEndsTheProcess) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    install_stop_handlers();
    char report = 'n';
    if (stop_signal() == 0) {
      std::raise(SIGTERM);
      try {
        stop_if_requested("at step 3");
      } catch (const Stopped& e) {
        if (e.signal() == SIGTERM && std::string(e.what()) == "stopped by SIGTERM at step 3") report = 'y';
      }
    }
    if (::write(pipe_fds[1], &report, 1) != 1) std::_Exit(4);
    std::raise(SIGTERM);  // the second: the process ends here
    std::_Exit(5);
  }
  ::close(pipe_fds[1]);
  char report = 0;
  ASSERT_EQ(::read(pipe_fds[0], &report, 1), 1);
  EXPECT_EQ(report, 'y');
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_EQ(stop_signal(), 0);  // this process was never asked
}

}  // namespace smcl
