// The network as the combinational block it is: gate counts by function, logic depth, and the
// switching activity measured by simulation — the counts a technology table prices
// (sim/power/logic_power.h). Torch-free and SystemC-free like the rest of prune/logic.
#pragma once

#include <array>

#include "logic/eval.h"
#include "logic/netlist.h"

namespace prunesim::logic {

struct HwProfile {
  size_t inputs = 0, live_inputs = 0;  // thermometer bits, and those some gate or output reads
  size_t gates = 0, outputs = 0, classes = 0, per_class = 0;
  size_t depth = 0;  // levels of gates on the longest input-to-output path
  // Inverters for complemented outputs (out_negate): one per input bit, or per gate that is also
  // read uncomplemented by an output; a gate read complemented only is built complemented.
  size_t inverters = 0;
  std::array<size_t, 16> by_tt{};  // gates per cell function (complemented as above)
  // Mean output transitions per inference, per truth table, when the samples are applied one
  // after another in data order (consecutive-sample toggles); and over all outputs.
  std::array<double, 16> toggles_by_tt{};
  double output_toggles = 0;
  double input_toggles = 0;
  size_t samples = 0;  // activity measured on (0: none, activities left 0)
};

// `inputs` (rows == n.inputs) holds `samples` valid samples in the order they are applied.
HwProfile hw_profile(const Netlist& n, const BitMatrix& inputs, size_t samples);

}  // namespace prunesim::logic
