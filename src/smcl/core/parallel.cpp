#include "smcl/core/parallel.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace smcl {

void parallel_for(int64_t n, int64_t threads, const std::function<void(int64_t)>& fn) {
  if (threads <= 0) threads = std::max<int64_t>(1, std::thread::hardware_concurrency());
  threads = std::min(threads, n);
  if (threads <= 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  // libtorch settles a thread's intra-op count at its first use, from the latest set_num_threads of any thread:
  // settle the caller's now, before the workers set theirs to one.
  (void)torch::get_num_threads();
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    torch::set_num_threads(1);
    for (int64_t i = next++; i < n; i = next++) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        next = n;  // the others stop at their next item
      }
    }
  };
  std::vector<std::thread> workers;
  for (int64_t t = 0; t < threads; ++t) workers.emplace_back(work);
  for (auto& w : workers) w.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace smcl
