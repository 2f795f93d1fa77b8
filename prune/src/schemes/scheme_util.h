// Internal helpers shared by the element-wise schemes: a platform-independent PRNG (std::
// distributions differ between standard libraries, and tables must be byte-identical everywhere)
// and exact top-k selection with a fixed tie-break.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace prunesim::detail {

struct SplitMix64 {
  uint64_t s;
  explicit SplitMix64(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1): never 0, so log() is safe.
  double uniform() {
    return (static_cast<double>(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  }
};

// Indices of the `keep` largest scores (ties: lower index first). O(n log n) worst case.
inline std::vector<size_t> top_k(const std::vector<double>& score, size_t keep) {
  std::vector<size_t> idx(score.size());
  std::iota(idx.begin(), idx.end(), size_t{0});
  keep = std::min(keep, idx.size());
  auto better = [&](size_t a, size_t b) {
    return score[a] > score[b] || (score[a] == score[b] && a < b);
  };
  std::nth_element(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(keep), idx.end(), better);
  idx.resize(keep);
  std::sort(idx.begin(), idx.end());
  return idx;
}

// Number of elements kept out of n at sparsity s (removed = round(s * n)).
inline int64_t kept_count(int64_t n, double s) {
  return n - static_cast<int64_t>(std::llround(s * static_cast<double>(n)));
}

}  // namespace prunesim::detail
