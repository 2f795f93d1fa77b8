// The .lgn file of a discretised logic network (docs/logic-networks.md, "The .lgn format"):
// versioned, little-endian, CRC-32 checked, like .pwt. Writing goes to a temporary file renamed
// at the end, so a failed or interrupted write leaves nothing.
#pragma once

#include <string>

#include "logic/netlist.h"

namespace prunesim::logic {

// InputError "<path>: <place>: ..." for a missing, truncated, corrupt (CRC) or inconsistent file.
Netlist read_lgn(const std::string& path);
void write_lgn(const Netlist& n, const std::string& path);

}  // namespace prunesim::logic
