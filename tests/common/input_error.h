// The message of the InputError that f throws, or "" when it throws none: the bad-input tests
// check the message names the file and place.
#pragma once

#include <functional>
#include <string>

#include "prune/errors.h"

namespace prunesim::test {

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace prunesim::test
