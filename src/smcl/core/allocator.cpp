#include "smcl/core/allocator.h"

#if defined(__GLIBC__)
#include <dlfcn.h>
#include <malloc.h>
#endif

namespace smcl {

void keep_freed_memory() {
#if defined(__GLIBC__)
  // An executable that links jemalloc (smcl's) configures it itself; glibc's settings would only touch an
  // allocator nobody uses.
  if (dlsym(RTLD_DEFAULT, "mallctl") != nullptr) return;
  mallopt(M_MMAP_MAX, 0);         // every block from the heap, also those above glibc's 32 MiB mapping limit
  mallopt(M_TRIM_THRESHOLD, -1);  // never hand freed heap back: the next step reuses it without page faults
  mallopt(M_TOP_PAD, 256 << 20);  // grow the heap in large steps
#endif
}

}  // namespace smcl
