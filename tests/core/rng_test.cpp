#include "smcl/core/rng.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "smcl/core/error.h"

namespace smcl {

TEST(Rng, StateRoundTripContinuesTheSameStream) {
  Rng a(42);
  for (int i = 0; i < 100; ++i) a.uniform_int(1000);
  Rng b(7);
  b.set_state(a.state());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.uniform_int(1 << 30), b.uniform_int(1 << 30));
}

TEST(Rng, CorruptStateIsAnError) {
  Rng a(1);
  EXPECT_THROW(a.set_state("not a state"), Error);
}

TEST(Rng, PermutationHoldsEveryIndexOnce) {
  Rng rng(3);
  auto p = rng.permutation(1000);
  auto sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) EXPECT_EQ(sorted[size_t(i)], i);
  EXPECT_NE(p, sorted);
}

TEST(Rng, UniformIsInUnitIntervalWithMeanOneHalf) {
  Rng rng(5);
  double sum = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  // Standard error of the mean is sqrt(1/12/n) = 0.0009; 5 sigma.
  EXPECT_NEAR(sum / n, 0.5, 0.0046);
}

TEST(NumpyLegacyRng, FirstOutputsMatchNumpy) {
  // With max 2^32 - 1 the mask keeps every bit, so bounded() returns the raw MT19937 outputs. numpy:
  // np.random.RandomState(0).randint(0, 2**32, size=2, dtype=np.uint32) == [2357136044, 2546248239].
  NumpyLegacyRng rng(0);
  EXPECT_EQ(rng.bounded(0xffffffffu), 2357136044u);
  EXPECT_EQ(rng.bounded(0), 0u);  // max 0 draws nothing
  EXPECT_EQ(rng.bounded(0xffffffffu), 2546248239u);
}

}  // namespace smcl

namespace smcl {

TEST(Rng, BetaHasTheMeanAndVarianceOfItsClosedForm) {
  // Beta(a, b): mean a / (a + b), variance ab / ((a + b)^2 (a + b + 1)).
  for (auto [a, b] : std::vector<std::pair<double, double>>{{1, 1}, {2, 5}, {0.5, 0.5}}) {
    Rng rng(11);
    const int n = 200000;
    double sum = 0, sum_sq = 0;
    for (int i = 0; i < n; ++i) {
      double x = rng.beta(a, b);
      ASSERT_GE(x, 0.0);
      ASSERT_LE(x, 1.0);
      sum += x;
      sum_sq += x * x;
    }
    double mean = sum / n, variance = sum_sq / n - mean * mean;
    double expected_variance = a * b / ((a + b) * (a + b) * (a + b + 1));
    EXPECT_NEAR(mean, a / (a + b), 5 * std::sqrt(expected_variance / n)) << a << ", " << b;
    EXPECT_NEAR(variance, expected_variance, 0.02 * expected_variance) << a << ", " << b;
  }
}

}  // namespace smcl
