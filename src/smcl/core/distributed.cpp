#include "smcl/core/distributed.h"

#include <torch/torch.h>

#include "smcl/core/features.h"
// Without c10d's headers (SMCL_HAVE_C10D 0) this builds as one process only: init refuses several.
// USE_C10D_GLOO / USE_C10D_NCCL are c10d's own switches for its headers' backend parts (some libtorch builds'
// CMake targets define them already).
#if SMCL_HAVE_GLOO && !defined(USE_C10D_GLOO)
#define USE_C10D_GLOO
#endif
#if SMCL_HAVE_NCCL && !defined(USE_C10D_NCCL)
#define USE_C10D_NCCL
#endif
#if SMCL_HAVE_C10D
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#if SMCL_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if SMCL_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <cstdlib>
#include <functional>

#include "smcl/core/error.h"
#include "smcl/core/torch_compat.h"

namespace smcl::dist {
namespace {

struct State {
#if SMCL_HAVE_C10D
  c10::intrusive_ptr<SMCL_C10D_BACKEND> group;
#endif
  bool joined = false;
  int64_t rank = 0;
  int64_t world_size = 1;
};

State& state() {
  static State s;
  return s;
}

[[maybe_unused]] std::string message_of(const std::exception& e) {
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) return c10->what_without_backtrace();
  return e.what();
}

// Runs one collective (or the joining), turning c10d's and Gloo's exceptions into one clear smcl::Error.
[[maybe_unused]] void collective(const char* what, const std::function<void()>& run) {
  try {
    run();
  } catch (const std::exception& e) {
    const auto& s = state();
    throw Error("distributed: rank " + std::to_string(s.rank) + " of " + std::to_string(s.world_size) + ": " + what +
                " failed: " + message_of(e) +
                "\n  (another process of this job has probably stopped or hangs: see its output)");
  }
}

int64_t environment_integer(const char* name, int64_t fallback, int64_t low, int64_t high) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  char* end = nullptr;
  long long value = std::strtoll(text, &end, 10);
  SMCL_CHECK(*end == '\0' && value >= low && value <= high, "environment variable " << name << "='" << text
                                                                                    << "': expected an integer in ["
                                                                                    << low << ", " << high << "]");
  return value;
}

[[maybe_unused]] bool is_loopback(const std::string& address) {
  return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

}  // namespace

LaunchInfo launch_info_from_environment() {
  LaunchInfo info;
  info.world_size = environment_integer("WORLD_SIZE", 1, 1, 1 << 20);
  if (info.world_size == 1) return info;
  SMCL_CHECK(std::getenv("RANK"), "WORLD_SIZE is " << info.world_size << " but RANK is not set (launch with "
                                                   << "`smcl launch --nproc N -- smcl train ...` or torchrun)");
  info.rank = environment_integer("RANK", 0, 0, info.world_size - 1);
  info.local_rank = environment_integer("LOCAL_RANK", 0, 0, info.world_size - 1);
  info.local_world_size = environment_integer("LOCAL_WORLD_SIZE", 1, 1, info.world_size);
  SMCL_CHECK(std::getenv("MASTER_PORT"),
             "WORLD_SIZE is " << info.world_size << " but MASTER_PORT (rank 0's TCPStore port) is not set");
  info.master_port = environment_integer("MASTER_PORT", 0, 1, 65535);
  if (const char* addr = std::getenv("MASTER_ADDR"); addr && *addr) info.master_addr = addr;
  return info;
}

void init(const LaunchInfo& info, const std::string& backend, std::chrono::seconds timeout) {
  auto& s = state();
  SMCL_ASSERT(!s.joined, "dist::init called twice");
  if (info.world_size == 1) return;
#if !SMCL_HAVE_C10D
  (void)backend;
  (void)timeout;
  throw Error("WORLD_SIZE is " + std::to_string(info.world_size) +
              ", but this build has no distributed engine (the libtorch it was built with lacks c10d's headers)");
#else
  s.rank = info.rank;
  s.world_size = info.world_size;
  c10::intrusive_ptr<c10d::Store> store;
  collective("joining rank 0's TCPStore", [&] {
    c10d::TCPStoreOptions options;
    options.port = uint16_t(info.master_port);
    options.isServer = info.rank == 0;
    options.numWorkers = size_t(info.world_size);
    options.waitWorkers = true;
    options.timeout = timeout;
    store = c10::make_intrusive<c10d::TCPStore>(info.master_addr, options);
  });
  if (backend == "gloo") {
#if SMCL_HAVE_GLOO
    collective("connecting the Gloo process group", [&] {
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      // The interface to talk on: GLOO_SOCKET_IFNAME as in PyTorch; loopback for a job on one machine; else the
      // address this machine's hostname resolves to.
      if (const char* name = std::getenv("GLOO_SOCKET_IFNAME"); name && *name) {
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
      } else if (is_loopback(info.master_addr)) {
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      } else {
        options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      s.group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, int(info.rank), int(info.world_size), options);
    });
    s.joined = true;
    return;
#else
    throw Error("train.distributed.backend gloo: this build has no Gloo (install libgloo-dev and reconfigure)");
#endif
  }
  SMCL_CHECK(backend == "nccl", "train.distributed.backend '" << backend << "': expected gloo or nccl");
#if SMCL_HAVE_NCCL
  collective("connecting the NCCL process group", [&] {
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    s.group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, int(info.rank), int(info.world_size), options);
  });
  s.joined = true;
#else
  throw Error("train.distributed.backend nccl needs a CUDA libtorch with NCCL (this build has none; use gloo)");
#endif
#endif  // SMCL_HAVE_C10D
}

bool active() { return state().joined; }
int64_t rank() { return state().rank; }
int64_t world_size() { return state().world_size; }

void all_reduce_sum_(std::vector<torch::Tensor>& tensors) {
  if (!active() || tensors.empty()) return;
#if SMCL_HAVE_C10D
  collective("all-reduce", [&] {
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& t : tensors) {
      SMCL_ASSERT(t.is_contiguous(), "all_reduce_sum_ needs contiguous tensors");
      std::vector<torch::Tensor> one{t};
      works.push_back(state().group->allreduce(one, c10d::AllreduceOptions{}));
    }
    for (auto& work : works) work->wait();
  });
#endif
}

void barrier() {
  if (!active()) return;
#if SMCL_HAVE_C10D
  collective("barrier", [] { state().group->barrier(c10d::BarrierOptions{})->wait(); });
#endif
}

namespace {

struct AllReduceSum : torch::autograd::Function<AllReduceSum> {
  static torch::Tensor forward(torch::autograd::AutogradContext*, const torch::Tensor& x) {
    std::vector<torch::Tensor> sum{x.contiguous().clone()};
    all_reduce_sum_(sum);
    return sum[0];
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext*,
                                                 torch::autograd::variable_list grad) {
    std::vector<torch::Tensor> sum{grad[0].contiguous().clone()};
    all_reduce_sum_(sum);
    return {sum[0]};
  }
};

}  // namespace

torch::Tensor all_reduce_sum(const torch::Tensor& x) {
  if (!active()) return x;
  return AllReduceSum::apply(x);
}

std::pair<int64_t, int64_t> shard_of(int64_t n, int64_t index, int64_t world) {
  const int64_t base = n / world, extra = n % world;
  return {index * base + std::min(index, extra), base + (index < extra ? 1 : 0)};
}

torch::Tensor gather_rows(const torch::Tensor& local, const torch::Tensor& rows, int64_t n) {
  if (!active()) return local;
  auto shape = local.sizes().vec();
  shape[0] = n;
  const auto at = rows.to(local.device());
  std::vector<torch::Tensor> placed{torch::zeros(shape, local.options())};
  {
    torch::NoGradGuard no_grad;
    placed[0].index_copy_(0, at, local.detach());
  }
  all_reduce_sum_(placed);
  // The others' rows as constants, this process's own rows as the live tensor.
  return placed[0].index_copy(0, at, local);
}

namespace {

// Rank `root`'s values into each of `tensors`, one message each.
void broadcast_each_(std::vector<torch::Tensor>& tensors, int64_t root) {
#if SMCL_HAVE_C10D
  collective("broadcast", [&] {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& t : tensors) {
      std::vector<torch::Tensor> one{t};
      works.push_back(state().group->broadcast(one, options));
    }
    for (auto& work : works) work->wait();
  });
#else
  (void)tensors;
  (void)root;
#endif
}

// Runs `op` (an in-place collective over a list of tensors) on flat buckets of `tensors` (one dtype each, about
// kBucketBytes, DistributedDataParallel's default) and copies the results back: a few large messages instead of
// one per tensor.
constexpr int64_t kBucketBytes = 25 << 20;

void coalesced(const std::vector<torch::Tensor>& tensors, const std::function<void(std::vector<torch::Tensor>&)>& op) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> by_type = tensors;  // a bucket holds one dtype (float statistics, int64 counters)
  std::stable_sort(by_type.begin(), by_type.end(),
                   [](const torch::Tensor& x, const torch::Tensor& y) { return x.scalar_type() < y.scalar_type(); });
  std::vector<std::vector<torch::Tensor>> buckets;
  int64_t bytes = kBucketBytes;
  for (const auto& t : by_type) {
    const int64_t size = t.numel() * int64_t(t.element_size());
    const bool fits =
        !buckets.empty() && bytes + size <= kBucketBytes && buckets.back().front().scalar_type() == t.scalar_type();
    if (!fits) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(t);
    bytes += size;
  }
  std::vector<torch::Tensor> flat;
  for (const auto& bucket : buckets) {
    std::vector<torch::Tensor> pieces;
    for (const auto& t : bucket) pieces.push_back(t.reshape(-1));
    flat.push_back(torch::cat(pieces));
  }
  op(flat);
  for (size_t b = 0; b < buckets.size(); ++b) {
    int64_t at = 0;
    for (auto& t : buckets[b]) {
      t.copy_(flat[b].narrow(0, at, t.numel()).view_as(t));
      at += t.numel();
    }
  }
}

}  // namespace

void sum_gradients(const std::vector<torch::Tensor>& parameters) {
  if (!active()) return;
  std::vector<torch::Tensor> grads;
  for (const auto& p : parameters) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  coalesced(grads, [](std::vector<torch::Tensor>& flat) { all_reduce_sum_(flat); });
}

void broadcast_(const std::vector<torch::Tensor>& tensors, int64_t root) {
  if (!active() || tensors.empty()) return;
  coalesced(tensors, [root](std::vector<torch::Tensor>& flat) { broadcast_each_(flat, root); });
}

}  // namespace smcl::dist
