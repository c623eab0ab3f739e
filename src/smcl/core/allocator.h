// Process-wide memory allocator tuning for training loops (glibc only; elsewhere a no-op).
#pragma once

namespace smcl {

// glibc returns every large freed block to the kernel and maps it again on the next step, so each training
// step pays page faults for its activations (we measured a third of the time in the kernel on 2 cores).
// Keeping freed memory in the process removes that: about 1.4x images/s for ResNet-8 on Fashion-MNIST. glibc
// maps blocks above 32 MiB in any case unless mapping is off, and SMCL's 1,280-image activations are such
// blocks: with mapping off and no trimming, an SMCL step on Fashion-MNIST went from 540,000 page faults to none
// and SMCL trained 1.8x faster; the kept heap costs memory (an SMCL step on CIFAR-shaped data peaks at 4.9
// instead of 3.9 GiB; docs/performance.md).
// Call once at program start, before any allocation of tensors.
void keep_freed_memory();

}  // namespace smcl
