// Process-wide memory allocator tuning for training loops (glibc only; elsewhere a no-op).
#pragma once

namespace smcl {

// Keeps freed memory in the process (glibc: no mapped blocks, no trimming; nothing when the process's allocator
// is jemalloc, which the smcl executable links and configures itself), so that a training step reuses the
// previous step's activation memory instead of faulting fresh pages in. Faster steps for a larger resident heap;
// the measurements are in docs/performance.md ("Allocator settings at start-up").
// Call once at program start, before any allocation of tensors.
void keep_freed_memory();

}  // namespace smcl
