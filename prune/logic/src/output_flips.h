// What the output-scored passes share (greedy.cpp, similarity.cpp): the output bits (sample x
// output, i.e. the L1 change of the group-sum class scores) that change when one signal takes
// another row, propagated through its fan-out cone on a simulated network. Private to the
// library.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "logic/budget.h"

namespace prunesim::logic::detail {

// The first `words` words of every input row.
inline BitMatrix head(const BitMatrix& in, size_t words) {
  BitMatrix m;
  m.rows = in.rows;
  m.words = std::min(words, in.words);
  m.data.resize(static_cast<size_t>(m.rows) * m.words);
  for (uint32_t r = 0; r < in.rows; ++r) std::copy(in.row(r), in.row(r) + m.words, m.row(r));
  return m;
}

class OutputFlips {
 public:
  // `s` = simulate_all(n, ...) over `samples` valid samples; both must outlive the scorer.
  OutputFlips(const Netlist& n, const BitMatrix& s, size_t samples)
      : n_(n),
        s_(s),
        samples_(samples),
        out_count_(n.signals(), 0),
        slot_(n.signals(), -1),
        rep_(s.words),
        row_(s.words) {
    for (uint32_t o : n.outputs) ++out_count_[o];
  }

  // Output bits that change when signal t is replaced by `l` (a constant or an earlier signal,
  // either polarity); the change stops where a gate's row comes out unchanged.
  size_t operator()(uint32_t t, Lit l) {
    const size_t W = s_.words;
    const uint64_t flip = l.neg ? ~0ull : 0ull;
    for (size_t w = 0; w < W; ++w)
      rep_[w] = l.is_const() ? flip : s_.row(static_cast<uint32_t>(l.sig))[w] ^ flip;
    pool_.assign(rep_.begin(), rep_.end());
    touched_.assign(1, t);
    slot_[t] = 0;
    auto val = [&](uint32_t x) { return slot_[x] >= 0 ? pool_.data() + slot_[x] : s_.row(x); };
    for (uint32_t u = t + 1; u < n_.signals(); ++u) {
      const Gate& g = n_.gates[u - n_.inputs];
      if (slot_[g.a] < 0 && slot_[g.b] < 0) continue;
      const uint64_t *a = val(g.a), *b = val(g.b);
      bool diff = false;
      for (size_t w = 0; w < W; ++w) {
        row_[w] = gate_word(g.tt, a[w], b[w]);
        diff |= row_[w] != s_.row(u)[w];
      }
      if (!diff) continue;
      slot_[u] = static_cast<int64_t>(pool_.size());
      pool_.insert(pool_.end(), row_.begin(), row_.end());
      touched_.push_back(u);
    }
    size_t flips = 0;
    for (uint32_t v : touched_) {
      if (out_count_[v]) flips += out_count_[v] * hamming(val(v), s_.row(v), W, samples_);
      slot_[v] = -1;
    }
    return flips;
  }

 private:
  const Netlist& n_;
  const BitMatrix& s_;
  size_t samples_;
  std::vector<uint32_t> out_count_;
  std::vector<int64_t> slot_;  // row of a changed signal in pool_, -1 = unchanged
  std::vector<uint64_t> rep_, row_, pool_;
  std::vector<uint32_t> touched_;
};

}  // namespace prunesim::logic::detail
