#include "logic/hw_report.h"

#include <algorithm>

namespace prunesim::logic {
namespace {

// Transitions of one row between consecutive samples 0..samples-1.
size_t toggles(const uint64_t* r, size_t words, size_t samples) {
  size_t t = 0;
  for (size_t w = 0; w < words && w * 64 + 1 < samples; ++w) {
    // Bit j of d: sample (64w + j) differs from sample (64w + j + 1).
    const uint64_t next = (r[w] >> 1) | (w + 1 < words ? (r[w + 1] << 63) : 0);
    uint64_t d = r[w] ^ next;
    const size_t pairs = std::min<size_t>(64, samples - 1 - w * 64);
    if (pairs < 64) d &= (1ull << pairs) - 1;
    t += __builtin_popcountll(d);
  }
  return t;
}

// The cell a gate is built as: its own function, or the complement when only complemented
// outputs read it.
unsigned cell_tt(TruthTable tt, bool neg_read, bool pos_read) {
  return (neg_read && !pos_read ? tt ^ 15u : tt) & 15u;
}

}  // namespace

HwProfile hw_profile(const Netlist& n, const BitMatrix& inputs, size_t samples) {
  HwProfile p;
  p.inputs = n.inputs;
  p.gates = n.gates.size();
  p.outputs = n.outputs.size();
  p.classes = n.classes;
  p.per_class = n.per_class();
  std::vector<size_t> level(n.signals(), 0);
  std::vector<uint8_t> read(n.signals(), 0), pos(n.signals(), 0), neg(n.signals(), 0);
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    (n.out_negate[i] ? neg : pos)[n.outputs[i]] = 1;
    read[n.outputs[i]] = 1;
  }
  // A complemented output costs nothing when its driver is a gate no output reads uncomplemented:
  // that gate is built as the complementary cell (NAND for AND, ...), its gate readers absorb the
  // change in their tables. Otherwise one inverter per signal serves all its complemented outputs.
  for (size_t i = 0; i < n.gates.size(); ++i) {
    const Gate& g = n.gates[i];
    const uint32_t s = n.inputs + static_cast<uint32_t>(i);
    level[s] = 1 + std::max(level[g.a], level[g.b]);
    read[g.a] = read[g.b] = 1;
    ++p.by_tt[cell_tt(g.tt, neg[s], pos[s])];
  }
  for (uint32_t s = 0; s < n.signals(); ++s)
    if (neg[s] && (s < n.inputs || pos[s])) ++p.inverters;
  for (uint32_t o : n.outputs) p.depth = std::max(p.depth, level[o]);
  p.live_inputs = static_cast<size_t>(std::count(read.begin(), read.begin() + n.inputs, 1));
  if (samples < 2) return p;
  p.samples = samples;
  const BitMatrix s = simulate_all(n, inputs);
  const double per = 1.0 / double(samples - 1);
  for (uint32_t i = 0; i < n.inputs; ++i)
    p.input_toggles += toggles(s.row(i), s.words, samples) * per;
  for (size_t i = 0; i < n.gates.size(); ++i)
    p.toggles_by_tt[cell_tt(n.gates[i].tt, neg[n.inputs + i], pos[n.inputs + i])] +=
        toggles(s.row(n.inputs + static_cast<uint32_t>(i)), s.words, samples) * per;
  for (uint32_t o : n.outputs) p.output_toggles += toggles(s.row(o), s.words, samples) * per;
  return p;
}

}  // namespace prunesim::logic
