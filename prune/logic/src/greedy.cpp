#include "logic/greedy.h"

#include <algorithm>

#include "output_flips.h"

namespace prunesim::logic {
namespace {

// Local replacement of gate signal t: the closest of constants, its inputs and their complements.
Lit local_replacement(const Netlist& n, const BitMatrix& s, uint32_t t, size_t samples,
                      size_t* dist) {
  const Gate& g = n.gates[t - n.inputs];
  const size_t ones = popcount_row(s.row(t), s.words, samples);
  Lit best = lit_const(false);
  size_t bd = ones;
  auto consider = [&](Lit l, size_t d) {
    if (d < bd) best = l, bd = d;
  };
  consider(lit_const(true), samples - ones);
  for (uint32_t in : {g.a, g.b}) {
    const size_t d = hamming(s.row(t), s.row(in), s.words, samples);
    consider(lit_of(in), d);
    consider(lit_of(in, true), samples - d);
  }
  *dist = bd;
  return best;
}

}  // namespace

std::vector<Merge> greedy_ranking(const Netlist& n, const BitMatrix& inputs, size_t samples,
                                  const GreedyOptions& opt) {
  const BitMatrix in = detail::head(inputs, opt.max_words);
  samples = std::min(samples, in.words * 64);
  const BitMatrix s = simulate_all(n, in);
  detail::OutputFlips flips(n, s, samples);
  std::vector<Merge> out;
  for (size_t g = 0; g < n.gates.size(); ++g) {
    const uint32_t t = n.inputs + static_cast<uint32_t>(g);
    size_t local = 0;
    const Lit l = local_replacement(n, s, t, samples, &local);
    out.push_back(Merge{t, l, double(flips(t, l)) + double(local) / double(samples + 1)});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Merge& a, const Merge& b) { return a.score < b.score; });
  return out;
}

}  // namespace prunesim::logic
