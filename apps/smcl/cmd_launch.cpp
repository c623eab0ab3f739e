// smcl launch: starts the processes of a data-parallel job on this machine with torchrun's environment
// (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT) and waits for them; when one fails,
// the others get a grace period to fail on their own (they notice the missing peer), then are stopped.
// Not a cluster scheduler: on several machines, run one `smcl launch --nnodes M --node-rank i` on each.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>

#include "commands.h"
#include "smcl/core/error.h"

namespace smcl::app {
namespace {

std::vector<pid_t> g_children;  // for the signal handler: a launcher told to stop passes it on

void forward_signal(int signal) {
  for (pid_t child : g_children) ::kill(child, signal);
}

// A TCP port that was free a moment ago on the loopback interface, for rank 0's store.
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  SMCL_CHECK(fd >= 0, "smcl launch: cannot open a socket to find a free port (give --master-port)");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  SMCL_CHECK(ok, "smcl launch: cannot find a free port (give --master-port)");
  return ntohs(address.sin_port);
}

struct LaunchOptions {
  int64_t nproc = 1;
  int64_t nnodes = 1;
  int64_t node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 0;
  double grace = 30;
  std::vector<std::string> command;
};

void launch(const LaunchOptions& o) {
  SMCL_CHECK(o.node_rank < o.nnodes, "--node-rank " << o.node_rank << " must be below --nnodes " << o.nnodes);
  SMCL_CHECK(o.master_port != 0 || o.nnodes == 1,
             "--master-port is needed with several machines (every machine must name the same one)");
  const int64_t port = o.master_port != 0 ? o.master_port : free_port();
  const int64_t world = o.nproc * o.nnodes;
  // `smcl` as the command means this very binary, wherever it is installed.
  std::vector<std::string> argv = o.command;
  if (argv[0] == "smcl") argv[0] = std::filesystem::read_symlink("/proc/self/exe").string();
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  std::fflush(stdout);
  std::map<pid_t, int64_t> rank_of;
  for (int64_t local = 0; local < o.nproc; ++local) {
    const int64_t rank = o.node_rank * o.nproc + local;
    pid_t pid = ::fork();
    SMCL_CHECK(pid >= 0, "smcl launch: cannot start process " << rank);
    if (pid == 0) {
      auto set = [](const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); };
      set("RANK", std::to_string(rank));
      set("WORLD_SIZE", std::to_string(world));
      set("LOCAL_RANK", std::to_string(local));
      set("LOCAL_WORLD_SIZE", std::to_string(o.nproc));
      set("MASTER_ADDR", o.master_addr);
      set("MASTER_PORT", std::to_string(port));
      ::execvp(args[0], args.data());
      std::fprintf(stderr, "error: smcl launch: cannot run '%s'\n", args[0]);
      std::_Exit(127);
    }
    rank_of[pid] = rank;
    g_children.push_back(pid);
  }
  ::signal(SIGINT, forward_signal);
  ::signal(SIGTERM, forward_signal);

  using Clock = std::chrono::steady_clock;
  std::string failure;
  Clock::time_point stop_at{}, kill_at{};
  bool terminated = false;
  while (!rank_of.empty()) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, failure.empty() ? 0 : WNOHANG);
    if (pid > 0) {
      const int64_t rank = rank_of[pid];
      rank_of.erase(pid);
      if (status != 0 && failure.empty()) {
        failure = "rank " + std::to_string(rank) + " " + describe_exit(status);
        std::fprintf(stderr, "smcl launch: %s; waiting up to %.0f s for the other processes\n", failure.c_str(),
                     o.grace);
        stop_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.grace));
      }
      continue;
    }
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) break;
    // Someone failed and the others still run: stop them after the grace period, kill them 5 s later.
    if (!terminated && Clock::now() >= stop_at) {
      for (const auto& [child, rank] : rank_of) ::kill(child, SIGTERM);
      terminated = true;
      kill_at = Clock::now() + std::chrono::seconds(5);
    } else if (terminated && Clock::now() >= kill_at) {
      for (const auto& [child, rank] : rank_of) ::kill(child, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  g_children.clear();
  SMCL_CHECK(failure.empty(), "smcl launch: " << failure << " (its output is above)"
                                              << (terminated ? "; the processes left were stopped" : ""));
}

}  // namespace

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

void add_launch(CLI::App& app) {
  auto options = std::make_shared<LaunchOptions>();
  auto* command =
      app.add_subcommand("launch",
                         "run a data-parallel job: N processes of a command with torchrun's environment, e.g.\n"
                         "  smcl launch --nproc 2 -- smcl train -c CONFIG --out DIR");
  command->add_option("--nproc", options->nproc, "processes on this machine (one per GPU)")
      ->required()
      ->check(CLI::Range(int64_t(1), int64_t(1024)));
  command->add_option("--nnodes", options->nnodes, "machines in the job")
      ->capture_default_str()
      ->check(CLI::Range(int64_t(1), int64_t(1 << 16)));
  command->add_option("--node-rank", options->node_rank, "this machine's index, 0 to nnodes - 1")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command->add_option("--master-addr", options->master_addr, "address of machine 0")->capture_default_str();
  command->add_option("--master-port", options->master_port, "port of rank 0's store (0: a free one; one machine)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t(0), int64_t(65535)));
  command
      ->add_option("--grace", options->grace,
                   "seconds the others get to exit on their own after one process failed, before being stopped")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command->add_option("command", options->command, "the command each process runs, after --")->required();
  command->callback([options] { launch(*options); });
}

}  // namespace smcl::app
