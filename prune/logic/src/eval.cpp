#include "logic/eval.h"

#include <algorithm>

#include "base/errors.h"

namespace prunesim::logic {

uint64_t gate_word(TruthTable tt, uint64_t a, uint64_t b) {
  // Sum of the minterms the truth table selects: bit (2a + b) of tt.
  uint64_t r = 0;
  if (tt & 1u) r |= ~a & ~b;
  if (tt & 2u) r |= ~a & b;
  if (tt & 4u) r |= a & ~b;
  if (tt & 8u) r |= a & b;
  return r;
}

BitMatrix simulate_all(const Netlist& n, const BitMatrix& inputs) {
  if (inputs.rows != n.inputs)
    throw InputError("logic network: " + std::to_string(inputs.rows) + " input rows for " +
                     std::to_string(n.inputs) + " inputs");
  BitMatrix s;
  s.rows = n.signals();
  s.words = inputs.words;
  s.data.resize(static_cast<size_t>(s.rows) * s.words);
  std::copy(inputs.data.begin(), inputs.data.end(), s.data.begin());
  for (size_t i = 0; i < n.gates.size(); ++i) {
    const Gate& g = n.gates[i];
    const uint64_t* a = s.row(g.a);
    const uint64_t* b = s.row(g.b);
    uint64_t* o = s.row(n.inputs + static_cast<uint32_t>(i));
    for (size_t w = 0; w < s.words; ++w) o[w] = gate_word(g.tt, a[w], b[w]);
  }
  return s;
}

BitMatrix simulate_outputs(const Netlist& n, const BitMatrix& inputs) {
  const BitMatrix all = simulate_all(n, inputs);
  BitMatrix out;
  out.rows = static_cast<uint32_t>(n.outputs.size());
  out.words = all.words;
  out.data.resize(static_cast<size_t>(out.rows) * out.words);
  for (uint32_t i = 0; i < out.rows; ++i) {
    const uint64_t* src = all.row(n.outputs[i]);
    const uint64_t neg = n.out_negate[i] ? ~0ull : 0ull;
    for (size_t w = 0; w < out.words; ++w) out.row(i)[w] = src[w] ^ neg;
  }
  return out;
}

}  // namespace prunesim::logic
