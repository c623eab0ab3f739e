// smcl sweep: train every missing run of a results table and print / write the table. With --jobs N, N runs at
// once, each in a process of its own (this program's `sweep` for one row and seed) with its share of the cores.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <torch/cuda.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "commands.h"
#include "smcl/core/error.h"
#include "smcl/core/io.h"
#include "smcl/core/stop.h"
#include "smcl/sweep/sweep.h"
#include "smcl/train/fit.h"

namespace smcl::app {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct SweepOptions {
  std::string table_file;
  std::string runs = "runs";
  std::vector<std::string> overrides;  // --set, on every training row
  std::vector<std::string> only;
  std::vector<int64_t> seeds;
  bool report = false;
  bool no_table = false;
  bool rerun_broken = false;
  int64_t jobs = 1;
  int64_t threads = 0;
  bool no_prefetch = false;
  std::string baseline;
  std::string out;
};

// The last epoch line ("epoch  9/20 ... top-1 ...") among a job's log lines after byte `offset`, or ""; moves
// `offset` past the last complete line read, so that every second reads only what the job wrote since.
std::string new_epoch_line(const std::string& log, std::streamoff& offset) {
  std::ifstream in(log, std::ios::binary);
  in.seekg(offset);
  std::string line, last;
  while (std::getline(in, line) && !in.eof()) {  // a last line without its newline is read again next time
    offset += std::streamoff(line.size()) + 1;
    const auto start = line.rfind('\r');  // a progress bar's redrawn line keeps its last drawing
    if (start != std::string::npos) line = line.substr(start + 1);
    if (line.rfind("epoch ", 0) == 0 && line.find("top-1") != std::string::npos) last = line;
  }
  return last;
}

std::string minutes(Clock::duration elapsed) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
  return std::to_string(s / 60) + "m" + (s % 60 < 10 ? "0" : "") + std::to_string(s % 60) + "s";
}

// Trains the jobs o.jobs at a time, each in a child process: this program's `sweep` of the same table for
// that row and seed alone (--only, --seeds, --threads, --no-table), its output in <run folder>.log. A retrain
// row's run starts once its source run has ended well. Each child is a sweep of its own, so it resumes, skips
// and refuses folders exactly as a sweep one by one would. On the CPU, when the jobs' threads take every core,
// the runs they start have no prefetch thread: it would compete with the convolutions of the job beside it for a
// core (docs/performance.md, "Whole tables at once"). On SIGINT / SIGTERM the children are told to stop (they
// keep their checkpoints). Returns the runs that failed, each named with its log.
std::vector<std::string> run_in_processes(const SweepOptions& o, const sweep::Table& table, int64_t threads,
                                          int64_t cores) {
  const auto all = sweep::jobs(table, o.only, o.seeds);
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  auto index_of = [&](const std::string& id, int64_t seed) {
    for (size_t j = 0; j < all.size(); ++j) {
      if (all[j].row->id == id && all[j].seed == seed) return j;
    }
    return all.size();
  };
  enum class State { kWaiting, kRunning, kDone, kFailed };
  std::vector<State> state(all.size(), State::kWaiting);
  struct Child {
    size_t job;
    std::string log;
    Clock::time_point start;
    std::streamoff read = 0;  // bytes of the log read so far
    int64_t gpu = -1;         // index into gpus; -1: none
  };
  std::map<pid_t, Child> children;
  // Each run on the GPU with the fewest runs of this sweep (CUDA_VISIBLE_DEVICES set to it in the child).
  const auto gpus = sweep::visible_gpus(std::getenv("CUDA_VISIBLE_DEVICES"), torch::cuda::device_count());
  std::vector<int64_t> runs_on(gpus.size(), 0);
  const bool no_prefetch = o.no_prefetch || (gpus.empty() && o.jobs * threads >= cores);
  std::vector<std::string> failures;
  size_t ended = 0;
  bool told_to_stop = false;
  // However many signals come, this process stays until its children have stopped (issue 38): ended at once,
  // it would leave them training on.
  repeated_stop_signals_only_ask();
  const pid_t parent = ::getpid();
  std::printf("%zu runs, %lld at a time with %lld thread(s) each%s; each run's output goes to <run folder>.log\n",
              all.size(), static_cast<long long>(o.jobs), static_cast<long long>(threads),
              no_prefetch ? " and no prefetch thread" : "");
  while (ended < all.size()) {
    const bool stopping = stop_signal() != 0;
    // Start what may start: free slots, in table order, retrain rows after their source run.
    for (size_t j = 0; j < all.size() && !stopping && int64_t(children.size()) < o.jobs; ++j) {
      if (state[j] != State::kWaiting) continue;
      const auto& job = all[j];
      if (!job.row->from.empty()) {
        const size_t source = index_of(job.row->from, job.seed);
        if (source < all.size() && state[source] == State::kFailed) {
          state[j] = State::kFailed;
          ++ended;
          failures.push_back(job.row->name + ", seed " + std::to_string(job.seed) + " (its source run failed)");
          continue;
        }
        if (source < all.size() && state[source] != State::kDone) continue;
      }
      const std::string dir = sweep::run_folder(o.runs, table, *job.row, job.seed);
      fs::create_directories(fs::path(dir).parent_path());
      const std::string log = dir + ".log";
      std::vector<std::string> argv = {self,        "sweep",
                                       "--table",   table.file,
                                       "--runs",    o.runs,
                                       "--only",    job.row->id,
                                       "--seeds",   std::to_string(job.seed),
                                       "--threads", std::to_string(threads),
                                       "--no-table"};
      for (const auto& set : o.overrides) argv.insert(argv.end(), {"--set", set});
      if (o.rerun_broken) argv.push_back("--rerun-broken");
      if (no_prefetch) argv.push_back("--no-prefetch");
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      int64_t gpu = -1;
      if (!gpus.empty()) {
        gpu = std::min_element(runs_on.begin(), runs_on.end()) - runs_on.begin();
        ++runs_on[size_t(gpu)];
      }
      std::fflush(stdout);
      const pid_t pid = ::fork();
      SMCL_CHECK(pid >= 0, "smcl sweep --jobs: cannot start a process for " << dir);
      if (pid == 0) {
        // A process group of its own: a Ctrl-C at the terminal reaches the parent alone, which passes one stop on.
        ::setpgid(0, 0);
        // A parent that dies (SIGKILL, say) stops its children too, at a step boundary; one that died before this
        // line cannot be asked for that any more.
        if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || ::getppid() != parent) std::_Exit(128 + SIGTERM);
        if (gpu >= 0) ::setenv("CUDA_VISIBLE_DEVICES", gpus[size_t(gpu)].c_str(), 1);
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd < 0 || ::dup2(fd, 1) < 0 || ::dup2(fd, 2) < 0) {
          std::fprintf(stderr, "error: smcl sweep --jobs: cannot write '%s'\n", log.c_str());
          std::_Exit(127);
        }
        ::execv(args[0], args.data());
        std::fprintf(stderr, "error: smcl sweep --jobs: cannot run '%s'\n", args[0]);
        std::_Exit(127);
      }
      children[pid] = {j, log, Clock::now(), 0, gpu};
      state[j] = State::kRunning;
      const std::string on_gpu = gpu >= 0 ? " on GPU " + gpus[size_t(gpu)] : "";
      std::printf("[%zu/%zu] %s, seed %lld: started%s (%s)\n", j + 1, all.size(), job.row->name.c_str(),
                  static_cast<long long>(job.seed), on_gpu.c_str(), log.c_str());
    }
    if (children.empty()) break;  // stopping, or nothing left that may start
    // One line per job whenever it finishes an epoch.
    for (auto& [pid, child] : children) {
      const std::string line = new_epoch_line(child.log, child.read);
      if (line.empty()) continue;
      const auto& job = all[child.job];
      std::printf("  %s, seed %lld: %s\n", job.row->name.c_str(), static_cast<long long>(job.seed), line.c_str());
    }
    std::fflush(stdout);
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0 && children.count(pid)) {
      const Child child = children[pid];
      children.erase(pid);
      if (child.gpu >= 0) --runs_on[size_t(child.gpu)];
      const auto& job = all[child.job];
      const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      state[child.job] = ok ? State::kDone : State::kFailed;
      ++ended;
      std::printf("[%zu/%zu] %s, seed %lld: %s after %s\n", child.job + 1, all.size(), job.row->name.c_str(),
                  static_cast<long long>(job.seed), ok ? "ended" : describe_exit(status).c_str(),
                  minutes(Clock::now() - child.start).c_str());
      if (!ok) failures.push_back(job.row->name + ", seed " + std::to_string(job.seed) + ": see " + child.log);
      continue;
    }
    if (stopping && !told_to_stop) {  // once, however many signals came: a second would end a child mid-epoch
      for (const auto& [child_pid, child] : children) ::kill(child_pid, SIGTERM);
      told_to_stop = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(stopping ? 200 : 1000));
  }
  if (stop_signal() != 0) {
    throw Stopped(stop_signal(),
                  "smcl sweep stopped; the runs keep their checkpoints: run the same command to "
                  "continue");
  }
  return failures;
}

void sweep_command(const SweepOptions& o) {
  install_stop_handlers();
  train::require_one_process("smcl sweep");
  auto table = sweep::load_table(o.table_file, o.overrides);
  if (!o.baseline.empty()) {
    SMCL_CHECK(std::any_of(table.rows.begin(), table.rows.end(), [&](const auto& r) { return r.name == o.baseline; }),
               "sweep --baseline: '" << o.baseline << "' is not the name of a row of " << table.file);
    table.baseline = o.baseline;
  }
  sweep::SweepOutcome outcome;
  if (!o.report && o.jobs > 1) {
    const int64_t cores = std::max<int64_t>(1, int64_t(std::thread::hardware_concurrency()));
    outcome.failures =
        run_in_processes(o, table, o.threads > 0 ? o.threads : std::max<int64_t>(1, cores / o.jobs), cores);
  } else if (!o.report) {
    outcome = sweep::run(table, o.runs, o.only, o.seeds, o.rerun_broken, {o.threads, o.no_prefetch});
  }
  if (!o.no_table) {
    auto rows = sweep::results(table, o.runs);
    std::string text = sweep::markdown(table, rows);
    fs::path path = o.out.empty() ? fs::path(o.runs) / table.name / "table.md" : fs::path(o.out);
    fs::create_directories(path.parent_path().empty() ? fs::path(".") : path.parent_path());
    write_file_atomic(path.string(), text);
    fs::path json_path = path;
    json_path.replace_extension(".json");
    write_file_atomic(json_path.string(), sweep::to_json(table, rows).dump(2) + "\n");
    std::printf("\n%s\n(written to %s and %s)\n", text.c_str(), path.c_str(), json_path.c_str());
  }
  std::string list;
  for (const auto& f : outcome.failures) list += "\n  " + f;
  SMCL_CHECK(outcome.failures.empty(), outcome.failures.size() << " run(s) of the sweep failed (the others were "
                                                                  "trained; the same command runs them again):"
                                                               << list);
  SMCL_CHECK(outcome.broken == 0, outcome.broken << " run folder(s) of the table are broken and were skipped (named "
                                                    "above); rerun them with --rerun-broken");
}

}  // namespace

void add_sweep(CLI::App& app) {
  auto* command = app.add_subcommand("sweep", "run the rows of a results table (tables/*.yaml) and write the table");
  auto o = std::make_shared<SweepOptions>();
  command->add_option("--table,-t", o->table_file, "table file: name, seeds and rows (see tables/)")->required();
  command->add_option("--runs", o->runs, "runs root; each run goes to RUNS/<table name>/<row>/seed<k>")
      ->capture_default_str();
  command->add_option("--set,-s", o->overrides,
                      "override a key of every training row after its own set, e.g. --set data.root=DIR "
                      "(repeatable; the runs' config.yaml records it)");
  command->add_option("--only", o->only, "train only these rows (folder names, repeatable); the table lists all");
  command->add_option("--seeds", o->seeds, "train only these seeds of the table (e.g. one seed of every row first)");
  command->add_flag("--report", o->report, "train nothing: print and write the table of the runs finished so far");
  command->add_flag("--no-table", o->no_table, "train only: print and write no table (each process of --jobs)");
  command->add_option("--baseline", o->baseline,
                      "compare every row with this row (its name) instead of the table's baseline; with --report "
                      "and --out, the table against another row without training anything");
  command->add_flag("--rerun-broken", o->rerun_broken,
                    "train broken run folders anew (each is moved to <folder>.broken first) instead of skipping them");
  command
      ->add_option("--jobs,-j", o->jobs,
                   "runs trained at once, each in its own process with its output in <run folder>.log (a retrain "
                   "row's run waits for its source run; with GPUs, each on the visible one with the fewest runs); "
                   "every run is the same as trained alone with the same train.threads")
      ->capture_default_str()
      ->check(CLI::Range(int64_t(1), int64_t(256)));
  command
      ->add_option("--threads", o->threads,
                   "train.threads of the runs this sweep starts (0: the configs' own; with --jobs N: cores / N); a "
                   "resumed run keeps its folder's")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command->add_flag("--no-prefetch", o->no_prefetch,
                    "train.prefetch: false in the runs this sweep starts (with --jobs on the CPU, the default when "
                    "the jobs' threads take every core); a resumed run keeps its folder's");
  command->add_option("--out,-o", o->out,
                      "markdown file to write, and beside it the same as .json (default: RUNS/<table name>/table.md)");
  command->callback([o] { sweep_command(*o); });
}

}  // namespace smcl::app
