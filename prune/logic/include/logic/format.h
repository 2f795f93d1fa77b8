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

// The same on bytes in memory (read_lgn reads the file and parses it; the fuzz target calls
// these directly). `path` names the source in errors.
Netlist parse_lgn(const std::string& bytes, const std::string& path);
std::string serialize_lgn(const Netlist& n, const std::string& path);

}  // namespace prunesim::logic
