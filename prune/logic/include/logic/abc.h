// ABC (berkeley-abc, Debian) as the independent referee of the SAT sweep: `cec` proves two BLIF
// netlists equivalent, `strash; fraig` is the standard SAT-sweeping reduction whose AND-node count
// is the baseline our pass is compared with. ABC counts AND nodes of an and-inverter graph, so the
// common unit is ABC's own `strash` count of each netlist (an XOR gate is three AND nodes, every
// other two-input function one).
#pragma once

#include <optional>
#include <string>

namespace prunesim::logic {

// The ABC binary: $PRUNESIM_ABC, else berkeley-abc or abc on PATH; empty if none.
std::string abc_binary();

struct AbcStats {
  long ands = 0, levels = 0;  // of the AIG after the script (print_stats "and =", "lev =")
  long luts = 0;              // after a mapping command (print_stats "nd ="), else 0
};
// Runs `read <blif>; <script>; print_stats` and parses the last statistics line; nullopt when ABC
// is missing or printed no statistics.
std::optional<AbcStats> abc_stats(const std::string& blif, const std::string& script);
// The two-input gates of ABC's `strash; fraig; if -K 2` of `blif` (the mapped result goes to
// `mapped_blif`); nullopt when ABC is missing or wrote nothing.
std::optional<long> abc_fraig_two_input_gates(const std::string& blif,
                                              const std::string& mapped_blif);
// `cec a b`: true when ABC reports the networks equivalent; nullopt when ABC is missing or gave
// no verdict. `log` receives ABC's output.
std::optional<bool> abc_cec(const std::string& a, const std::string& b, std::string* log = nullptr);

}  // namespace prunesim::logic
