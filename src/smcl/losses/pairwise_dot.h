// The similarity matrices of the contrastive losses (SupCon, BCL, PaCo): every pair's dot product, with the
// arithmetic of the reference BLAS at a fraction of its time.
//
// Debian's libtorch does float32 matrix products through the system's libblas.so.3, which `scripts/setup` leaves
// as netlib's reference BLAS: one thread, plain loops, where 95% of a SupCon term's time went (docs/performance.md).
// Each element it produces is the sum of its products in increasing order of the inner index, every product rounded to
// float before it is added. ordered_matmul computes exactly that sum, in register tiles vectorised across output
// columns, so its results are bit for bit those of torch::mm with the reference BLAS and every recorded result stays
// reproducible; with another BLAS installed the losses still get these bits.
#pragma once

#include <torch/types.h>

#include <vector>

namespace smcl::losses {

// a [M, K], b [K, N], both float32 on the CPU, any strides -> contiguous [M, N] with
// c[i][j] = ((0 + a[i][0] * b[0][j]) + a[i][1] * b[1][j]) + ... + a[i][K-1] * b[K-1][j], in float32.
// vector_width: floats per vector instruction, 0 for the widest this CPU runs; every width gives the same bits
// (a vector lane is one output element), and the tests run each of ordered_matmul_widths().
torch::Tensor ordered_matmul(const torch::Tensor& a, const torch::Tensor& b, int vector_width = 0);
std::vector<int> ordered_matmul_widths();  // 4, then 8 (AVX2) and 16 (AVX-512) where this CPU runs them

// a [M, D], b [N, D] -> [M, N], out[i][j] = a_i . b_j, differentiable in both (pass the same tensor twice for a
// Gram matrix). Float32 CPU tensors go through ordered_matmul, forward and backward, with the same products as
// torch::mm's autograd would do; any other device or dtype is a.matmul(b.t()).
torch::Tensor pairwise_dot(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace smcl::losses
