// A discretised Boolean logic-gate network (prune/logic/): what `prunesim lgn train` produces
// after argmax discretisation, what the evaluator, the SAT sweep, the pruning passes and the
// Verilog writer consume. Torch-free and SystemC-free: training lives in prune/train/.
//
// Signals are numbered: 0 .. inputs-1 are the binarised inputs (thermometer bits, see Encoder),
// inputs + i is gate i. Gates are in topological order (a gate reads only smaller signal
// numbers), so one forward pass over `gates` evaluates the network. Layers are a reporting
// notion (`layer` of each gate); after SAT merging a gate may read any earlier signal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace prunesim::logic {

// A two-input gate's function as its 4-bit truth table: output for inputs (a, b) is
// bit (2a + b) of `tt`. The 16 values are the 16 Boolean functions of two inputs; the IDs of
// Petersen et al. (0 FALSE, 1 AND, 2 A&~B, 3 A, 4 ~A&B, 5 B, 6 XOR, 7 OR, 8 NOR, 9 XNOR, 10 ~B,
// 11 A|~B, 12 ~A, 13 ~A|B, 14 NAND, 15 TRUE) map to truth tables by petersen_to_tt().
using TruthTable = uint8_t;

inline bool apply(TruthTable tt, bool a, bool b) {
  return (tt >> ((a ? 2 : 0) | (b ? 1 : 0))) & 1u;
}
// Truth table of Petersen et al.'s gate ID (0..15), and back.
TruthTable petersen_to_tt(int id);
int tt_to_petersen(TruthTable tt);
// "AND", "XOR", "A&~B", ... for reports.
const char* tt_name(TruthTable tt);

struct Gate {
  uint32_t a = 0, b = 0;  // input signals (< inputs + own index)
  TruthTable tt = 0;
  uint32_t layer = 0;  // the trained layer it came from (0-based), for reports
};

// Binarisation of real-valued features: feature f gives thresholds[f].size() bits, bit k set
// when x[f] > thresholds[f][k] (a thermometer code). Signal numbers follow feature-major order.
struct Encoder {
  std::vector<std::vector<float>> thresholds;
  uint32_t bits() const;
};

struct Netlist {
  uint32_t inputs = 0;  // binarised input bits (== encoder.bits())
  Encoder encoder;
  std::vector<Gate> gates;
  // Output bits in class-major order: class c owns outputs[c*per_class .. (c+1)*per_class).
  // out_negate[i]: output i is the complement of its signal (what a SAT merge with a
  // complemented representative leaves on an output).
  std::vector<uint32_t> outputs;
  std::vector<uint8_t> out_negate;
  uint32_t classes = 0;
  // Group-sum output: class score = popcount(its group) / tau; argmax, lowest class on ties.
  float tau = 1.0f;
  std::string meta;  // free text: how it was trained (the writer stores it, the reader keeps it)

  uint32_t signals() const { return inputs + static_cast<uint32_t>(gates.size()); }
  uint32_t per_class() const {
    return classes ? static_cast<uint32_t>(outputs.size()) / classes : 0;
  }
};

// Throws InputError naming `where` when the structure is inconsistent (a gate reading a later
// signal, outputs not divisible by classes, encoder bits != inputs, ...).
void validate(const Netlist& n, const std::string& where);

}  // namespace prunesim::logic
