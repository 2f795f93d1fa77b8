// Exact bit-parallel evaluation of a discretised logic network: 64 samples per 64-bit word, one
// word-wide Boolean operation per gate. What `lgn eval`, the SAT sweep's simulation and the
// pruning passes all run (one definition of the network's function).
#pragma once

#include <cstdint>
#include <vector>

#include "logic/netlist.h"

namespace prunesim::logic {

// Bit-packed values of a set of signals over `words` × 64 samples: row s (signal s) is
// data[s * words .. (s + 1) * words), sample j is bit (j % 64) of word j / 64.
struct BitMatrix {
  uint32_t rows = 0;
  size_t words = 0;
  std::vector<uint64_t> data;
  uint64_t* row(uint32_t s) { return data.data() + static_cast<size_t>(s) * words; }
  const uint64_t* row(uint32_t s) const { return data.data() + static_cast<size_t>(s) * words; }
};

// One word of a gate's output from words of its inputs (the 16 functions as word operations).
uint64_t gate_word(TruthTable tt, uint64_t a, uint64_t b);

// Every signal (inputs then gates) over the samples of `inputs` (rows == n.inputs).
BitMatrix simulate_all(const Netlist& n, const BitMatrix& inputs);
// The output bits only (rows == n.outputs.size(), out_negate applied).
BitMatrix simulate_outputs(const Netlist& n, const BitMatrix& inputs);

}  // namespace prunesim::logic
