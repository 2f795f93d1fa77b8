#include "logic/greedy.h"

#include <algorithm>

namespace prunesim::logic {
namespace {

// The first `words` words of every input row.
BitMatrix head(const BitMatrix& in, size_t words) {
  BitMatrix m;
  m.rows = in.rows;
  m.words = std::min(words, in.words);
  m.data.resize(static_cast<size_t>(m.rows) * m.words);
  for (uint32_t r = 0; r < in.rows; ++r) std::copy(in.row(r), in.row(r) + m.words, m.row(r));
  return m;
}

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

// Output bits that change when signal t takes the row `rep`: the change propagated through the
// later gates, stopping where a gate's row comes out unchanged.
size_t output_flips(const Netlist& n, const BitMatrix& s, uint32_t t,
                    const std::vector<uint64_t>& rep, const std::vector<uint32_t>& out_count,
                    size_t samples, std::vector<int64_t>& slot) {
  const size_t W = s.words;
  std::vector<uint64_t> pool(rep);
  std::vector<uint32_t> touched{t};
  slot[t] = 0;
  std::vector<uint64_t> row(W);
  auto val = [&](uint32_t x) { return slot[x] >= 0 ? pool.data() + slot[x] : s.row(x); };
  for (uint32_t u = t + 1; u < n.signals(); ++u) {
    const Gate& g = n.gates[u - n.inputs];
    if (slot[g.a] < 0 && slot[g.b] < 0) continue;
    const uint64_t *a = val(g.a), *b = val(g.b);
    bool diff = false;
    for (size_t w = 0; w < W; ++w) {
      row[w] = gate_word(g.tt, a[w], b[w]);
      diff |= row[w] != s.row(u)[w];
    }
    if (!diff) continue;
    slot[u] = static_cast<int64_t>(pool.size());
    pool.insert(pool.end(), row.begin(), row.end());
    touched.push_back(u);
  }
  size_t flips = 0;
  for (uint32_t v : touched) {
    if (out_count[v]) flips += out_count[v] * hamming(val(v), s.row(v), W, samples);
    slot[v] = -1;
  }
  return flips;
}

}  // namespace

std::vector<Merge> greedy_ranking(const Netlist& n, const BitMatrix& inputs, size_t samples,
                                  const GreedyOptions& opt) {
  const BitMatrix in = head(inputs, opt.max_words);
  samples = std::min(samples, in.words * 64);
  const BitMatrix s = simulate_all(n, in);
  std::vector<uint32_t> out_count(n.signals(), 0);
  for (uint32_t o : n.outputs) ++out_count[o];
  std::vector<int64_t> slot(n.signals(), -1);
  std::vector<Merge> out;
  std::vector<uint64_t> rep(s.words);
  for (size_t g = 0; g < n.gates.size(); ++g) {
    const uint32_t t = n.inputs + static_cast<uint32_t>(g);
    size_t local = 0;
    const Lit l = local_replacement(n, s, t, samples, &local);
    for (size_t w = 0; w < s.words; ++w)
      rep[w] = l.is_const() ? (l.neg ? ~0ull : 0ull)
                            : s.row(static_cast<uint32_t>(l.sig))[w] ^ (l.neg ? ~0ull : 0ull);
    const size_t flips = output_flips(n, s, t, rep, out_count, samples, slot);
    out.push_back(Merge{t, l, double(flips) + double(local) / double(samples + 1)});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Merge& a, const Merge& b) { return a.score < b.score; });
  return out;
}

}  // namespace prunesim::logic
