// Thermometer encoding of real-valued features into the evaluator's bit-packed inputs: the one
// definition of the binarisation, used by `lgn eval` and by the trainer (which unpacks it to
// 0/1 floats), so that training and the discrete network see the same bits.
#include "base/errors.h"
#include "logic/eval.h"

namespace prunesim::logic {

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
  for (size_t s = 0; s < samples; ++s) {
    const uint64_t bit = uint64_t{1} << (s % 64);
    const size_t w = s / 64;
    for (size_t f = 0; f < features; ++f) {
      const float v = x[s * features + f];
      const auto& t = e.thresholds[f];
      for (size_t k = 0; k < t.size(); ++k)
        if (v > t[k]) m.row(first[f] + static_cast<uint32_t>(k))[w] |= bit;
    }
  }
  return m;
}

}  // namespace prunesim::logic
