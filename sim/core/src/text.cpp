#include "sim/text.h"

#include <stdexcept>

#include "prune/errors.h"

namespace prunesim {

std::vector<double> parse_number_list(const std::string& s, const std::string& flag, char sep) {
  std::vector<double> v;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t c = s.find(sep, pos);
    const std::string tok = s.substr(pos, c == std::string::npos ? std::string::npos : c - pos);
    try {
      size_t used = 0;
      v.push_back(std::stod(tok, &used));
      if (used != tok.size()) throw std::invalid_argument(tok);
    } catch (const std::exception&) {
      throw InputError(flag + ": '" + tok + "' is not a number");
    }
    if (c == std::string::npos) break;
    pos = c + 1;
  }
  return v;
}

std::string with_commas(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v), r;
  for (size_t k = 0; k < s.size(); ++k) {
    if (k && (s.size() - k) % 3 == 0) r += ',';
    r += s[k];
  }
  return v < 0 ? "-" + r : r;
}

}  // namespace prunesim
