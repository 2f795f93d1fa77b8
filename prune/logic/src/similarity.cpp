#include "logic/similarity.h"

#include <algorithm>

#include "output_flips.h"

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
  const bool by_outputs = opt.score == SimilarityScore::outputs;
  // The output change is counted on the first output_words words, as greedy's is.
  BitMatrix sh;
  size_t hs = 0;
  if (by_outputs) {
    sh = simulate_all(n, detail::head(inputs, opt.output_words));
    hs = std::min(samples, sh.words * 64);
  }
  detail::OutputFlips flips(n, by_outputs ? sh : s, hs);
  std::vector<Merge> out;
  out.reserve(n.gates.size());
  std::vector<Cand> cands;
  for (size_t g = 0; g < n.gates.size(); ++g) {
    const uint32_t t = n.inputs + static_cast<uint32_t>(g);
    const size_t ones = popcount_row(s.row(t), s.words, samples);
    cands = {Cand{ones, lit_const(false)}, Cand{samples - ones, lit_const(true)}};
    for (const Cand& c : screen(s, t, sw, ss, opt.keep)) {
      const size_t d =
          hamming(s.row(t), s.row(static_cast<uint32_t>(c.target.sig)), s.words, samples);
      cands.push_back(Cand{c.target.neg ? samples - d : d, c.target});
    }
    double best_score = 0;
    Lit best;
    for (size_t k = 0; k < cands.size(); ++k) {
      const double dist = samples ? double(cands[k].dist) / double(samples) : 0.0;
      const double sc = by_outputs ? double(flips(t, cands[k].target)) +
                                         double(cands[k].dist) / double(samples + 1)
                                   : dist;
      if (k == 0 || sc < best_score) best_score = sc, best = cands[k].target;
    }
    out.push_back(Merge{t, best, best_score});
  }
  // Best first; among equals the later gate (nearer the outputs, smaller cone) first.
  std::stable_sort(out.begin(), out.end(), [](const Merge& a, const Merge& b) {
    return a.score < b.score || (a.score == b.score && a.sig > b.sig);
  });
  return out;
}

}  // namespace prunesim::logic
