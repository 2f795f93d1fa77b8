// Shared by the libFuzzer targets (scripts/fuzz.sh): each hands the fuzzer's bytes to one of the
// project's own readers. An InputError is the documented answer to bad input and counts as
// success; anything else that escapes (std::out_of_range, nlohmann::json::type_error, a crash, a
// sanitizer report) is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/errors.h"

namespace prunesim::fuzz {

inline std::string bytes(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

template <typename F>
int run(F f) {
  try {
    f();
  } catch (const InputError&) {
  }
  return 0;
}

}  // namespace prunesim::fuzz

#define PRUNESIM_FUZZ_TARGET(BODY)                                          \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    const std::string input = ::prunesim::fuzz::bytes(data, size);          \
    return ::prunesim::fuzz::run([&] { BODY; });                            \
  }
