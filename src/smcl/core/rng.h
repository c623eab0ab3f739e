// Random number generators with explicit, serialisable state.
// Rng drives every random choice of a run (sampling order, crop offsets, flips, holes); its state is saved in
// checkpoints so that a resumed run continues the same stream. NumpyLegacyRng reproduces numpy's legacy
// RandomState(seed).shuffle bit for bit; it exists only to select long-tailed subsets as the Python codebases do.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace smcl {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : engine_(seed) {}

  // Uniform integer in [0, n); n > 0.
  int64_t uniform_int(int64_t n);
  // Uniform double in [0, 1).
  double uniform();
  bool bernoulli(double p) { return uniform() < p; }
  // Beta(a, b) for a, b > 0, as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b); Beta(1, 1) is uniform.
  double beta(double a, double b);
  // A uniformly random permutation of 0..n-1.
  std::vector<int64_t> permutation(int64_t n);

  std::string state() const;
  // Throws smcl::Error when the text is not a state written by state().
  void set_state(const std::string& text);

 private:
  std::mt19937_64 engine_;
};

// numpy.random.RandomState seeded with a non-negative int (legacy seeding = MT19937 init_genrand).
class NumpyLegacyRng {
 public:
  explicit NumpyLegacyRng(uint32_t seed) : engine_(seed) {}
  // numpy's legacy random_interval(max): masked rejection sampling of 32-bit outputs, value in [0, max].
  uint32_t bounded(uint32_t max);
  // numpy's legacy RandomState.shuffle of a 1-D array: Fisher-Yates from the last element down.
  void shuffle(std::vector<int64_t>& values);

 private:
  std::mt19937 engine_;
};

}  // namespace smcl
