// Data-parallel training across processes on libtorch's own distributed engine (c10d process groups: Gloo on
// the CPU, NCCL on CUDA), joined the way torchrun launches PyTorch jobs. One process group per process, as
// torch.distributed's default group; with one process every collective here is a no-op.
// Not here: what is sharded and reduced when (train/fit.cpp, models/network.cpp, eval/evaluate.cpp).
#pragma once

#include <torch/types.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace smcl::dist {

// torchrun's contract: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT.
struct LaunchInfo {
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t local_rank = 0;
  int64_t local_world_size = 1;  // processes on this machine (they share its cores)
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 29500;
};

// The launch variables of this process's environment; WORLD_SIZE unset means one process. Throws smcl::Error
// naming the variable for a value that is not a number in range, or a WORLD_SIZE > 1 without RANK or
// MASTER_PORT.
LaunchInfo launch_info_from_environment();

// Joins the process group of info.world_size processes: rank 0 serves the TCPStore at MASTER_ADDR:MASTER_PORT,
// every rank connects to it, then to each other with `backend` (gloo | nccl). `timeout` bounds joining and every
// collective: a process that hangs makes the others fail instead of waiting for ever (one that exits makes them
// fail at once). Throws smcl::Error when the backend is not built in or joining fails.
void init(const LaunchInfo& info, const std::string& backend, std::chrono::seconds timeout);

// Whether init has joined a group of more than one process.
bool active();
int64_t rank();        // 0 without a group
int64_t world_size();  // 1 without a group
// Rank 0, the one process that prints progress and writes files.
inline bool is_main() { return rank() == 0; }

// Sums each tensor over all processes, in place (contiguous tensors of the process group's device), launching
// every reduction before waiting for the first. Throws smcl::Error naming this rank when a peer is gone.
void all_reduce_sum_(std::vector<torch::Tensor>& tensors);
// Rank `root`'s values into every process's tensors, in place, sent as a few flat buckets (many small tensors,
// such as batch-norm buffers, would otherwise cost one message each).
void broadcast_(const std::vector<torch::Tensor>& tensors, int64_t root = 0);
// Waits until every process has reached it.
void barrier();

// The sum over processes as an autograd operation: its backward sums the incoming gradients over processes too.
// That is the exact gradient when each process back-propagates its own copy of a loss that every process
// computes alike (how synchronised batch norm's statistics are reduced).
torch::Tensor all_reduce_sum(const torch::Tensor& x);

// Rows [first, first + count) of a shard of n rows: this process's share of n, in rank order, the first
// n % world_size processes getting one more.
std::pair<int64_t, int64_t> shard_of(int64_t n, int64_t rank, int64_t world_size);

// The rows of a tensor that every process holds in part: local [R, ...] are rows `rows` ([R] int64) of the
// result [n, ...]; the others' rows arrive by a reduction. Only `local` carries gradient: a loss that every
// process computes alike from the result back-propagates into each process's own rows.
torch::Tensor gather_rows(const torch::Tensor& local, const torch::Tensor& rows, int64_t n);

// Sums parameter gradients over processes in flat buckets of about 25 MiB (gradients that are undefined stay
// so: every process has the same graph, so the same ones are undefined everywhere).
void sum_gradients(const std::vector<torch::Tensor>& parameters);

}  // namespace smcl::dist
