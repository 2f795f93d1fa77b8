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

// ---- Classification (the fast path: `lgn eval`, the trainer's discrete accuracy) --------------

// Thermometer bits of `samples` rows of `features` floats (row-major x[s * features + f]):
// rows == e.bits(), bit k of feature f set when x > thresholds[f][k]. InputError when
// `features` differs from the encoder's.
BitMatrix encode(const Encoder& e, const float* x, size_t samples, size_t features);

// The group-sum counts of every sample: counts[s * classes + c] = number of class c's outputs
// that are 1 (out_negate applied). Evaluates the network in blocks of words that stay in cache,
// with a slot per live signal only, dead gates skipped and AVX2 when the CPU has it.
std::vector<uint32_t> class_counts(const Netlist& n, const BitMatrix& inputs, size_t samples);
// The predicted class of every sample: argmax of the counts, the lowest class on ties.
std::vector<int32_t> classify(const Netlist& n, const BitMatrix& inputs, size_t samples);
// Fraction of samples whose predicted class equals labels[s] (0 for no samples).
double accuracy(const Netlist& n, const BitMatrix& inputs, const int64_t* labels, size_t samples);
// Whether class_counts runs its AVX2 kernel (the CPU has AVX2 and it is allowed), for reports.
bool eval_uses_avx2();
// false: the portable kernel even on an AVX2 CPU (the tests check both give the same bits).
void eval_allow_avx2(bool allow);

}  // namespace prunesim::logic
