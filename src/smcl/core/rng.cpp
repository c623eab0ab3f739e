#include "smcl/core/rng.h"

#include <numeric>
#include <sstream>
#include <utility>

#include "smcl/core/error.h"

namespace smcl {

int64_t Rng::uniform_int(int64_t n) {
  SMCL_ASSERT(n > 0, "uniform_int(" << n << ")");
  return std::uniform_int_distribution<int64_t>(0, n - 1)(engine_);
}

double Rng::uniform() {
  // 53 random bits, exactly representable: the result is in [0, 1) on every standard library.
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

double Rng::beta(double a, double b) {
  SMCL_ASSERT(a > 0 && b > 0, "beta(" << a << ", " << b << ")");
  double x = std::gamma_distribution<double>(a, 1.0)(engine_);
  double y = std::gamma_distribution<double>(b, 1.0)(engine_);
  return x + y > 0 ? x / (x + y) : 0.5;  // both gammas underflow to 0 only for tiny a and b
}

std::vector<int64_t> Rng::permutation(int64_t n) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[uniform_int(i + 1)]);
  return order;
}

std::string Rng::state() const {
  std::ostringstream out;
  out << engine_;
  return out.str();
}

void Rng::set_state(const std::string& text) {
  std::istringstream in(text);
  std::mt19937_64 engine;
  in >> engine;
  SMCL_CHECK(!in.fail(), "random generator state is corrupt (" << text.size() << " characters)");
  engine_ = engine;
}

uint32_t NumpyLegacyRng::bounded(uint32_t max) {
  if (max == 0) return 0;
  uint32_t mask = max;
  mask |= mask >> 1;
  mask |= mask >> 2;
  mask |= mask >> 4;
  mask |= mask >> 8;
  mask |= mask >> 16;
  uint32_t value;
  while ((value = static_cast<uint32_t>(engine_()) & mask) > max) {
  }
  return value;
}

void NumpyLegacyRng::shuffle(std::vector<int64_t>& values) {
  for (size_t i = values.size(); i-- > 1;) {
    std::swap(values[i], values[bounded(static_cast<uint32_t>(i))]);
  }
}

}  // namespace smcl
