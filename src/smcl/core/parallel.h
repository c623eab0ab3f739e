// A plain fork-join loop over worker threads for per-item work that is not a tensor kernel (decoding image
// files, resizing images of different sizes). Not a thread pool: threads live for one call, which costs tens of
// microseconds against milliseconds of work per item.
#pragma once

#include <cstdint>
#include <functional>

namespace smcl {

// Calls fn(i) for every i in [0, n) on up to `threads` threads (0: all cores), each thread taking the next
// unclaimed i. Each worker runs libtorch single-threaded so that it does not start an OpenMP team of its own.
// The first exception thrown by fn is re-thrown on the calling thread after all workers have stopped.
void parallel_for(int64_t n, int64_t threads, const std::function<void(int64_t)>& fn);

}  // namespace smcl
