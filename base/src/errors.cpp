#include "base/errors.h"

namespace prunesim {

void fail(const std::string& file, const std::string& place, const std::string& what) {
  std::string m = file;
  if (!place.empty()) m += ": " + place;
  m += ": " + what;
  throw InputError(m);
}

void unsupported(const std::string& file, const std::string& place, const std::string& what) {
  std::string m = file;
  if (!place.empty()) m += ": " + place;
  m += ": " + what;
  throw UnsupportedError(m);
}

}  // namespace prunesim
