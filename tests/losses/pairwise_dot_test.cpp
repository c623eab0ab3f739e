#include "smcl/losses/pairwise_dot.h"

#include <gtest/gtest.h>

#include <cstring>
#include <iostream>

namespace smcl::losses {
namespace {

// The reference BLAS's sum, written out: products added in increasing order of the inner index, each product
// rounded to float first (volatile keeps the compiler from fusing the multiply into the add).
torch::Tensor sequential_product(const torch::Tensor& a_in, const torch::Tensor& b_in) {
  const auto a = a_in.contiguous(), b = b_in.contiguous();
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  auto c = torch::empty({m, n});
  const float *pa = a.data_ptr<float>(), *pb = b.data_ptr<float>();
  float* pc = c.data_ptr<float>();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (int64_t l = 0; l < k; ++l) {
        volatile float product = pa[i * k + l] * pb[l * n + j];
        sum = sum + product;
      }
      pc[i * n + j] = sum;
    }
  return c;
}

bool same_bits(const torch::Tensor& x, const torch::Tensor& y) {
  if (x.sizes() != y.sizes() || x.scalar_type() != y.scalar_type()) return false;
  const auto cx = x.contiguous(), cy = y.contiguous();
  return std::memcmp(cx.data_ptr(), cy.data_ptr(), cx.nbytes()) == 0;
}

// Whether this libtorch's torch::mm sums in the reference BLAS's order (true with the libblas3 that
// scripts/setup installs; not with OpenBLAS or MKL, whose blocked sums round differently).
bool mm_is_sequential() {
  torch::manual_seed(7);
  const auto a = torch::randn({70, 300}), b = torch::randn({300, 50});
  return same_bits(a.mm(b), sequential_product(a, b));
}

}  // namespace

TEST(OrderedMatmul, IsTheSequentialSumBitForBitAtEveryWidthShapeAndLayout) {
  torch::manual_seed(0);
  struct Shape {
    int64_t m, k, n;
  };
  // Tile edges (6 rows, 8 to 32 columns), one inner index, and SupCon's 1,280 x 128 x 1,280.
  for (const auto [m, k, n] : {Shape{1, 1, 1}, Shape{5, 3, 7}, Shape{6, 17, 8}, Shape{13, 64, 33}, Shape{97, 1, 65},
                               Shape{1280, 128, 1280}, Shape{64, 1280, 128}}) {
    const auto a = torch::randn({m, k}), b = torch::randn({k, n});
    const auto expected = sequential_product(a, b);
    // The same matrices as transposed views and through a stride-0 broadcast: only the values count.
    const auto a_transposed_view = a.t().contiguous().t(), b_transposed_view = b.t().contiguous().t();
    for (int width : ordered_matmul_widths()) {
      SCOPED_TRACE(::testing::Message() << m << "x" << k << "x" << n << ", width " << width);
      EXPECT_TRUE(same_bits(ordered_matmul(a, b, width), expected));
      EXPECT_TRUE(same_bits(ordered_matmul(a_transposed_view, b_transposed_view, width), expected));
    }
    const auto row = torch::randn({1, k}).expand({m, k});
    EXPECT_TRUE(same_bits(ordered_matmul(row, b), sequential_product(row, b)));
  }
  EXPECT_EQ(ordered_matmul(torch::ones({3, 0}), torch::ones({0, 4})).abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(ordered_matmul(torch::ones({0, 5}), torch::ones({5, 4})).sizes(), (std::vector<int64_t>{0, 4}));
}

TEST(OrderedMatmul, RejectsWhatItDoesNotCompute) {
  EXPECT_THROW(ordered_matmul(torch::ones({2, 3}, torch::kFloat64), torch::ones({3, 2}, torch::kFloat64)),
               std::exception);
  EXPECT_THROW(ordered_matmul(torch::ones({2, 3}), torch::ones({2, 3})), std::exception);
  EXPECT_THROW(ordered_matmul(torch::ones({2, 3}), torch::ones({3, 2}), 5), std::exception);
}

TEST(PairwiseDot, ValuesAndGradientsAreTorchMmsBitForBitWithTheReferenceBlas) {
  torch::manual_seed(1);
  const bool sequential_blas = mm_is_sequential();
  if (!sequential_blas) {
    std::cout << "torch::mm does not sum in order here (not the reference BLAS): compared within 1e-5\n";
  }
  const auto close = [&](const torch::Tensor& x, const torch::Tensor& y) {
    return sequential_blas ? same_bits(x, y) : torch::allclose(x, y, 1e-5, 1e-5);
  };
  // A Gram matrix (SupCon, PaCo: the same tensor twice) and anchors against a longer contrast set (BCL).
  for (const bool gram : {true, false}) {
    SCOPED_TRACE(gram ? "gram" : "two tensors");
    const auto a0 = torch::nn::functional::normalize(torch::randn({300, 128}));
    const auto b0 = gram ? a0 : torch::nn::functional::normalize(torch::randn({341, 128}));
    const auto weights = torch::randn({300, gram ? 300 : 341});  // a loss that weighs every entry differently

    auto a = a0.clone().requires_grad_(true), b = gram ? a : b0.clone().requires_grad_(true);
    const auto ours = pairwise_dot(a, b);
    (ours * weights).sum().backward();
    auto ra = a0.clone().requires_grad_(true), rb = gram ? ra : b0.clone().requires_grad_(true);
    const auto reference = ra.matmul(rb.t());
    (reference * weights).sum().backward();

    EXPECT_TRUE(close(ours, reference));
    EXPECT_TRUE(close(a.grad(), ra.grad()));
    if (!gram) {
      EXPECT_TRUE(close(b.grad(), rb.grad()));
    }
  }
}

TEST(PairwiseDot, OtherDtypesAreTorchsMatmul) {
  const auto a = torch::randn({9, 4}, torch::kFloat64), b = torch::randn({5, 4}, torch::kFloat64);
  EXPECT_TRUE(torch::equal(pairwise_dot(a, b), a.matmul(b.t())));
  EXPECT_THROW(pairwise_dot(a, torch::randn({5, 3}, torch::kFloat64)), std::exception);
}

}  // namespace smcl::losses
