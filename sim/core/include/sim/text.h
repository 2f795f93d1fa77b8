// The numbers of the command line and of the human tables: lists of numbers as flags give them,
// and integers with thousands separators. Shared by the CLI and the sweep engine (sim/dse).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace prunesim {

// "0.1,0.5" → {0.1, 0.5} (items split at `sep`); InputError "<flag>: 'x' is not a number".
std::vector<double> parse_number_list(const std::string& s, const std::string& flag,
                                      char sep = ',');
// 1234567 → "1,234,567"
std::string with_commas(int64_t v);

}  // namespace prunesim
