// Architecture configuration: the text before the first NUL byte is the --config JSON file, each
// line after it one --set KEY=VALUE, resolved against a parameter list with one parameter of
// every type (the architectures' lists are made of these; each type's checks are what is
// fuzzed).
#include <sstream>
#include <vector>

#include "base/params.h"
#include "fuzz_common.h"

namespace {
const std::vector<prunesim::ParamSpec>& specs() {
  using namespace prunesim;
  static const std::vector<ParamSpec> s = [] {
    std::vector<ParamSpec> v = {int_param("pe_count", 16, 1, 1024, "1", "processing elements"),
                                real_param("clock_hz", 100e6, 1e3, 5e9, "Hz", "clock"),
                                bool_param("gating", true, "clock gating"),
                                text_param("tech", "raman65", "", "technology table"),
                                int_list_param("tile", {4, 4}, 1, 64, "1", "tile"),
                                choice_param("mode", "cycle", {"cycle", "analytical"}, "model"),
                                real_param("timeout_s", 1.0, 0, 1e9, "s", "limit"),
                                int_param("lanes", 8, 1, 16, "1", "lanes")};
    v[6].inf_ok = true;
    v[7].choices = {"4", "8", "16"};
    return v;
  }();
  return s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace prunesim;
  const std::string in = fuzz::bytes(data, size);
  const size_t nul = in.find('\0');
  const std::string json = in.substr(0, nul);
  std::vector<std::string> sets;
  if (nul != std::string::npos) {
    std::istringstream s(in.substr(nul + 1));
    for (std::string line; std::getline(s, line);) sets.push_back(line);
  }
  return fuzz::run([&] {
    const ParamValues v =
        resolve_params_text("fuzzarch", specs(), json, json.empty() ? "" : "fuzz.json", sets);
    (void)v.json().dump();
  });
}
