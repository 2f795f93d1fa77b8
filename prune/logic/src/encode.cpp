// Thermometer encoding of real-valued features into the evaluator's bit-packed inputs: the one
// definition of the binarisation, used by `lgn eval` and by the trainer (which unpacks it to
// 0/1 floats), so that training and the discrete network see the same bits.
#include <immintrin.h>

#include <algorithm>
#include <limits>

#include "base/errors.h"
#include "logic/eval.h"

namespace prunesim::logic {
namespace {

// Bit j of the result: v[j] > t, for 64 values (the padding beyond the samples is -inf: 0).
uint64_t above_generic(const float* v, float t) {
  uint64_t word = 0;
  for (int j = 0; j < 64; ++j) word |= static_cast<uint64_t>(v[j] > t) << j;
  return word;
}

__attribute__((target("avx2"))) uint64_t above_avx2(const float* v, float t) {
  const __m256 th = _mm256_set1_ps(t);
  uint64_t word = 0;
  for (int k = 0; k < 8; ++k) {
    const __m256 x = _mm256_loadu_ps(v + 8 * k);
    const int bits = _mm256_movemask_ps(_mm256_cmp_ps(x, th, _CMP_GT_OQ));
    word |= static_cast<uint64_t>(static_cast<uint32_t>(bits)) << (8 * k);
  }
  return word;
}

}  // namespace

BitMatrix encode(const Encoder& e, const float* x, size_t samples, size_t features) {
  if (features != e.thresholds.size())
    throw InputError("logic network: the data has " + std::to_string(features) +
                     " features per sample, the network's encoder " +
                     std::to_string(e.thresholds.size()));
  BitMatrix m;
  m.rows = e.bits();
  m.words = (samples + 63) / 64;
  m.data.assign(static_cast<size_t>(m.rows) * m.words, 0);
  std::vector<uint32_t> first(features);
  uint32_t r = 0;
  for (size_t f = 0; f < features; ++f) {
    first[f] = r;
    r += static_cast<uint32_t>(e.thresholds[f].size());
  }
  // 64 samples at a time, transposed to feature-major, so that each output word is 64
  // compares of one feature's contiguous values against one threshold (no scattered bit sets).
  std::vector<float> buf(features * 64, -std::numeric_limits<float>::infinity());
  const bool avx2 = __builtin_cpu_supports("avx2");
  for (size_t w = 0; w < m.words; ++w) {
    const size_t s0 = w * 64, n = std::min<size_t>(64, samples - s0);
    for (size_t j = 0; j < 64; ++j)
      for (size_t f = 0; f < features; ++f)
        buf[f * 64 + j] =
            j < n ? x[(s0 + j) * features + f] : -std::numeric_limits<float>::infinity();
    for (size_t f = 0; f < features; ++f) {
      const float* v = buf.data() + f * 64;
      const auto& t = e.thresholds[f];
      for (size_t k = 0; k < t.size(); ++k) {
        m.row(first[f] + static_cast<uint32_t>(k))[w] =
            avx2 ? above_avx2(v, t[k]) : above_generic(v, t[k]);
      }
    }
  }
  return m;
}

}  // namespace prunesim::logic
