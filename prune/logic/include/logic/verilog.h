// The network as a synthesizable SystemVerilog module (accepted by Verilator 5.006 and yosys
// 0.23): purely combinational, input `x` = the thermometer bits (bit i = signal i), output `y` =
// the output bits in class-major order with out_negate applied (bit i = output i), one `wire`
// per gate. The group-sum (popcount per class) and argmax stay outside the module, as in the
// evaluator, so RTL and evaluator are compared bit for bit.
#pragma once

#include <string>

#include "logic/netlist.h"

namespace prunesim::logic {

// The expression of a gate's function over operand names a and b ("a & ~b", "1'b0", ...).
std::string verilog_expr(TruthTable tt, const std::string& a, const std::string& b);
std::string to_verilog(const Netlist& n, const std::string& module);
// Atomic (temporary file renamed at the end). `module` must be a Verilog identifier.
void write_verilog(const Netlist& n, const std::string& path, const std::string& module);
// A module name from a file name: its stem with non-identifier characters replaced by '_'.
std::string module_name_for(const std::string& path);

}  // namespace prunesim::logic
