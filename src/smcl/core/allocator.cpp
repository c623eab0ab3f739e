#include "smcl/core/allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace smcl {

void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // blocks below 32 MiB come from the heap, not fresh mappings
  mallopt(M_TRIM_THRESHOLD, 1 << 30);   // keep up to 1 GiB of freed heap instead of returning it
  mallopt(M_TOP_PAD, 256 << 20);        // grow the heap in large steps
#endif
}

}  // namespace smcl
