#include "smcl/losses/pairwise_dot.h"

#include <torch/autograd.h>

#include <algorithm>
#include <cstring>

#include "smcl/core/error.h"

// This file is compiled with -ffp-contract=off (src/CMakeLists.txt): a fused multiply-add rounds once where the
// reference BLAS rounds twice, and would change the last bits.

namespace smcl::losses {
namespace {

constexpr int64_t kTileRows = 6;  // rows of C per register tile; the tile's columns are two vectors

struct Product {
  const float* a;
  int64_t a_row_stride, a_inner_stride;
  const float* b_panels;  // b packed as [panel][k][tile columns], zero past column n
  float* c;
  int64_t m, n, k;
  int64_t panels, row_tiles;
};

// All of C, tile by tile, panel by panel (a panel's packed b stays in cache over its tiles). W is the vector width
// in floats; always inlined into a function compiled for the instruction set of that width.
template <int W>
inline __attribute__((always_inline)) void compute_tiles(const Product& p) {
  typedef float Vector __attribute__((vector_size(W * sizeof(float))));
  constexpr int64_t columns = 2 * W;
  for (int64_t t = 0; t < p.panels * p.row_tiles; ++t) {
    const int64_t panel = t / p.row_tiles, row0 = (t % p.row_tiles) * kTileRows;
    const float* b = p.b_panels + panel * p.k * columns;
    const float* rows[kTileRows];  // past the last row, repeat it and drop its results
    for (int64_t r = 0; r < kTileRows; ++r) rows[r] = p.a + std::min(row0 + r, p.m - 1) * p.a_row_stride;
    Vector sum[kTileRows][2];
    for (int64_t r = 0; r < kTileRows; ++r) sum[r][0] = sum[r][1] = Vector{};
    for (int64_t i = 0; i < p.k; ++i) {
      Vector b0, b1;
      std::memcpy(&b0, b + i * columns, sizeof(Vector));
      std::memcpy(&b1, b + i * columns + W, sizeof(Vector));
      for (int64_t r = 0; r < kTileRows; ++r) {
        const float a = rows[r][i * p.a_inner_stride];
        sum[r][0] = sum[r][0] + a * b0;
        sum[r][1] = sum[r][1] + a * b1;
      }
    }
    const int64_t column0 = panel * columns, width = std::min(columns, p.n - column0);
    for (int64_t r = 0; r < kTileRows && row0 + r < p.m; ++r) {
      float out[columns];
      std::memcpy(out, &sum[r][0], sizeof(Vector));
      std::memcpy(out + W, &sum[r][1], sizeof(Vector));
      std::memcpy(p.c + (row0 + r) * p.n + column0, out, width * sizeof(float));
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) void compute_tiles_avx512(const Product& p) { compute_tiles<16>(p); }
__attribute__((target("avx2"))) void compute_tiles_avx2(const Product& p) { compute_tiles<8>(p); }
#endif

void compute_tiles_any(int width, const Product& p) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (width == 16) return compute_tiles_avx512(p);
  if (width == 8) return compute_tiles_avx2(p);
#endif
  compute_tiles<4>(p);
}

struct PairwiseDot : torch::autograd::Function<PairwiseDot> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& a, const torch::Tensor& b) {
    ctx->save_for_backward({a, b});
    return ordered_matmul(a, b.t());
  }
  // The products of torch::mm's backward for a.mm(b.t()): dL/da = G b and dL/db = G^T a, each element summed over
  // the same index in the same order; when a and b are one tensor, autograd adds the two as it did before.
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto& grad = grad_outputs[0];
    torch::Tensor grad_a, grad_b;
    if (ctx->needs_input_grad(0)) grad_a = ordered_matmul(grad, saved[1]);
    if (ctx->needs_input_grad(1)) grad_b = ordered_matmul(grad.t(), saved[0]);
    return {grad_a, grad_b};
  }
};

}  // namespace

std::vector<int> ordered_matmul_widths() {
  std::vector<int> widths{4};
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx2")) widths.push_back(8);
  if (__builtin_cpu_supports("avx512f")) widths.push_back(16);
#endif
  return widths;
}

torch::Tensor ordered_matmul(const torch::Tensor& a, const torch::Tensor& b, int vector_width) {
  SMCL_ASSERT(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(0) && a.device().is_cpu() && b.device().is_cpu() &&
                  a.scalar_type() == torch::kFloat && b.scalar_type() == torch::kFloat &&
                  a.layout() == torch::kStrided && b.layout() == torch::kStrided,
              "ordered_matmul: float32 CPU matrices [M, K] and [K, N], got "
                  << a.sizes() << " " << a.dtype() << " on " << a.device() << " and " << b.sizes() << " " << b.dtype()
                  << " on " << b.device());
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  auto c = torch::empty({m, n}, a.options());
  if (m == 0 || n == 0) return c;
  if (k == 0) return c.zero_();
  static const auto widths = ordered_matmul_widths();
  const int width = vector_width == 0 ? widths.back() : vector_width;
  SMCL_ASSERT(std::find(widths.begin(), widths.end(), width) != widths.end(),
              "ordered_matmul: vector width " << vector_width << " is not one this CPU runs");
  const int64_t columns = 2 * width, panels = (n + columns - 1) / columns;
  // b's columns packed panel by panel, so that a tile reads each step's b values as two aligned vectors.
  auto packed = torch::zeros({panels, k, columns}, a.options());
  float* packed_data = packed.data_ptr<float>();
  const float* b_data = b.data_ptr<float>();
  const int64_t b_row_stride = b.stride(0), b_column_stride = b.stride(1);
  for (int64_t panel = 0; panel < panels; ++panel) {
    const int64_t width_here = std::min(columns, n - panel * columns);
    for (int64_t i = 0; i < k; ++i) {
      float* to = packed_data + (panel * k + i) * columns;
      const float* from = b_data + i * b_row_stride + panel * columns * b_column_stride;
      for (int64_t j = 0; j < width_here; ++j) to[j] = from[j * b_column_stride];
    }
  }
  const int64_t row_tiles = (m + kTileRows - 1) / kTileRows;
  const Product p{
      a.data_ptr<float>(), a.stride(0), a.stride(1), packed_data, c.data_ptr<float>(), m, n, k, panels, row_tiles};
  // One thread: about 7 ms a product at an SMCL step's size (1,280 x 128 x 1,280), under 1% of the step. Threads
  // of its own gained nothing on 2 cores: libtorch's OpenMP workers spin between operations and take the other
  // core (with OMP_WAIT_POLICY=passive two threads did 1.6x; docs/performance.md).
  compute_tiles_any(width, p);
  return c;
}

torch::Tensor pairwise_dot(const torch::Tensor& a, const torch::Tensor& b) {
  SMCL_ASSERT(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(1),
              "pairwise_dot: [M, D] and [N, D], got " << a.sizes() << " and " << b.sizes());
  const bool cpu_float = a.device().is_cpu() && b.device().is_cpu() && a.scalar_type() == torch::kFloat &&
                         b.scalar_type() == torch::kFloat && a.layout() == torch::kStrided &&
                         b.layout() == torch::kStrided;
  if (!cpu_float) return a.matmul(b.t());
  return PairwiseDot::apply(a, b);
}

}  // namespace smcl::losses
