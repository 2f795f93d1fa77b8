// The network as BLIF (Berkeley Logic Interchange Format), the netlist ABC reads: inputs x<i>
// (the thermometer bits), gates g<i> as one .names cover each, outputs o<i> (one per output bit,
// out_negate as an inverting cover). What the ABC referee (abc.h) and external tools consume.
#pragma once

#include <string>

#include "logic/netlist.h"

namespace prunesim::logic {

std::string to_blif(const Netlist& n, const std::string& model = "lgn");
// Atomic: a temporary file renamed at the end.
void write_blif(const Netlist& n, const std::string& path, const std::string& model = "lgn");

}  // namespace prunesim::logic
