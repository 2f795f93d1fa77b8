#include "logic/similarity.h"

#include <algorithm>

namespace prunesim::logic {
namespace {

struct Cand {
  size_t dist;
  Lit target;
};

// The `keep` earlier signals closest to signal t on the screening samples (either polarity).
std::vector<Cand> screen(const BitMatrix& s, uint32_t t, size_t words, size_t samples,
                         size_t keep) {
  std::vector<Cand> best;
  const uint64_t* rt = s.row(t);
  for (uint32_t u = 0; u < t; ++u) {
    const size_t d = hamming(rt, s.row(u), words, samples);
    const Cand c = d <= samples - d ? Cand{d, lit_of(u)} : Cand{samples - d, lit_of(u, true)};
    if (best.size() < keep) {
      best.push_back(c);
      std::push_heap(best.begin(), best.end(),
                     [](const Cand& a, const Cand& b) { return a.dist < b.dist; });
    } else if (c.dist < best.front().dist) {
      std::pop_heap(best.begin(), best.end(),
                    [](const Cand& a, const Cand& b) { return a.dist < b.dist; });
      best.back() = c;
      std::push_heap(best.begin(), best.end(),
                     [](const Cand& a, const Cand& b) { return a.dist < b.dist; });
    }
  }
  return best;
}

}  // namespace

std::vector<Merge> similarity_ranking(const Netlist& n, const BitMatrix& inputs, size_t samples,
                                      const SimilarityOptions& opt) {
  const BitMatrix s = simulate_all(n, inputs);
  const size_t sw = std::min(opt.screen_words, s.words);
  const size_t ss = std::min(samples, sw * 64);
  std::vector<Merge> out;
  out.reserve(n.gates.size());
  for (size_t g = 0; g < n.gates.size(); ++g) {
    const uint32_t t = n.inputs + static_cast<uint32_t>(g);
    const size_t ones = popcount_row(s.row(t), s.words, samples);
    Cand best = ones <= samples - ones ? Cand{ones, lit_const(false)}
                                       : Cand{samples - ones, lit_const(true)};
    for (const Cand& c : screen(s, t, sw, ss, opt.keep)) {
      const size_t d =
          hamming(s.row(t), s.row(static_cast<uint32_t>(c.target.sig)), s.words, samples);
      const size_t dist = c.target.neg ? samples - d : d;
      if (dist < best.dist) best = Cand{dist, c.target};
    }
    out.push_back(Merge{t, best.target, samples ? double(best.dist) / double(samples) : 0.0});
  }
  // Most similar first; among equals the later gate (nearer the outputs, smaller cone) first.
  std::stable_sort(out.begin(), out.end(), [](const Merge& a, const Merge& b) {
    return a.score < b.score || (a.score == b.score && a.sig > b.sig);
  });
  return out;
}

}  // namespace prunesim::logic
