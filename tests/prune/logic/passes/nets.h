// Netlists for the pass tests: random networks, the same networks with planted redundancy
// (functional duplicates that structural hashing cannot see, complemented copies, constants),
// and exhaustive input patterns.
#pragma once

#include <random>

#include "logic/eval.h"
#include "logic/netlist.h"

namespace prunesim::logic::testing {

// A layered network like a trained one: `gates` split into `layers` layers, each gate reading two
// signals of the layer before (the inputs for the first), outputs from the last layer.
inline Netlist random_net(uint32_t inputs, size_t gates, size_t outputs, uint32_t classes,
                          uint64_t seed, size_t layers = 4) {
  std::mt19937_64 rng(seed);
  Netlist n;
  n.inputs = inputs;
  n.encoder.thresholds.assign(inputs, {0.5f});
  // The ten functions that depend on both inputs, as in a trained network's live gates.
  static constexpr TruthTable kBoth[10] = {1, 2, 4, 6, 7, 8, 9, 11, 13, 14};
  uint32_t lo = 0, width = inputs;
  const size_t per = gates / layers;
  for (size_t l = 0; l < layers; ++l) {
    const size_t count = l + 1 == layers ? gates - per * (layers - 1) : per;
    const uint32_t first = n.signals();
    for (size_t i = 0; i < count; ++i) {
      const uint32_t a = lo + static_cast<uint32_t>(rng() % width);
      const uint32_t b = lo + static_cast<uint32_t>(rng() % width);
      n.gates.push_back(Gate{a, b, kBoth[rng() % 10], static_cast<uint32_t>(l)});
    }
    lo = first;
    width = static_cast<uint32_t>(count);
  }
  for (size_t o = 0; o < outputs; ++o) {
    n.outputs.push_back(lo + static_cast<uint32_t>(rng() % width));
    n.out_negate.push_back(rng() % 2);
  }
  n.classes = classes;
  return n;
}

struct Planted {
  Netlist net;
  size_t planted = 0;  // gates added, each equivalent to an existing signal or a constant
};

// After every `every`-th gate g = f(a, b) adds its Shannon expansion d = (a & f(1,b)) | (~a &
// f(0,b)) (three gates, d == g) and c = t1 & t0 (== 0) with e = c | d (== g); later readers of g
// read d,
// ~(~d) via a complemented copy, or e at random. The function is unchanged.
inline Planted plant(const Netlist& base, size_t every, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Planted p;
  Netlist& n = p.net;
  n = base;
  n.gates.clear();
  std::vector<uint32_t> map(base.signals());
  std::vector<uint8_t> inv(base.signals(), 0);  // map[s] holds the complement of s
  for (uint32_t i = 0; i < base.inputs; ++i) map[i] = i;
  auto emit = [&](uint32_t a, uint32_t b, TruthTable tt) {
    n.gates.push_back(Gate{a, b, tt, 0});
    return n.signals() - 1;
  };
  // A gate input through the map: an inverted replacement is absorbed into the truth table.
  for (size_t i = 0; i < base.gates.size(); ++i) {
    Gate g = base.gates[i];
    TruthTable tt = g.tt;
    if (inv[g.a]) tt = static_cast<TruthTable>(((tt >> 2) & 3u) | ((tt & 3u) << 2));
    if (inv[g.b]) tt = static_cast<TruthTable>(((tt >> 1) & 5u) | ((tt & 5u) << 1));
    const uint32_t a = map[g.a], b = map[g.b];
    const uint32_t s = base.inputs + static_cast<uint32_t>(i);
    map[s] = emit(a, b, tt);
    if (i % every != every - 1 || a == b) continue;
    const TruthTable t1 = tt & 0b1100, t0 = tt & 0b0011;  // a & f(1,b), ~a & f(0,b)
    const uint32_t x1 = emit(a, b, t1), x0 = emit(a, b, t0);
    const uint32_t d = emit(x1, x0, 0b1110);  // OR
    const uint32_t c = emit(x1, x0, 0b1000);  // AND, constant 0
    const uint32_t e = emit(c, d, 0b1110);
    const uint32_t nd = emit(d, d, 0b0011);  // NOT d
    p.planted += 6;
    switch (rng() % 3) {
      case 0:
        map[s] = d;
        break;
      case 1:
        map[s] = e;
        break;
      default:
        map[s] = nd, inv[s] = 1;
        break;
    }
  }
  for (size_t o = 0; o < n.outputs.size(); ++o) {
    const uint32_t s = base.outputs[o];
    n.outputs[o] = map[s];
    n.out_negate[o] = base.out_negate[o] ^ inv[s];
  }
  return p;
}

// All 2^inputs input patterns (inputs <= 20).
inline BitMatrix exhaustive(uint32_t inputs) {
  BitMatrix m;
  m.rows = inputs;
  const size_t samples = size_t{1} << inputs;
  m.words = (samples + 63) / 64;
  m.data.assign(static_cast<size_t>(inputs) * m.words, 0);
  for (size_t j = 0; j < samples; ++j)
    for (uint32_t i = 0; i < inputs; ++i)
      if ((j >> i) & 1u) m.row(i)[j / 64] |= 1ull << (j % 64);
  return m;
}

// Output rows equal on the first `samples` patterns.
inline bool same_outputs(const Netlist& a, const Netlist& b, const BitMatrix& in, size_t samples) {
  const BitMatrix x = simulate_outputs(a, in), y = simulate_outputs(b, in);
  if (x.rows != y.rows) return false;
  for (uint32_t r = 0; r < x.rows; ++r)
    for (size_t j = 0; j < samples; ++j)
      if (((x.row(r)[j / 64] ^ y.row(r)[j / 64]) >> (j % 64)) & 1u) return false;
  return true;
}

}  // namespace prunesim::logic::testing
