#include "logic/abc.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

#include "base/output.h"

namespace prunesim::logic {
namespace {

bool executable(const std::string& p) {
  return !p.empty() && std::system(("test -x '" + p + "'").c_str()) == 0;
}

std::string on_path(const std::string& prog) {
  const char* path = std::getenv("PATH");
  std::string s = path ? path : "";
  size_t a = 0;
  while (a <= s.size()) {
    size_t b = std::min(s.find(':', a), s.size());
    const std::string cand = s.substr(a, b - a) + "/" + prog;
    if (b > a && executable(cand)) return cand;
    a = b + 1;
  }
  return "";
}

// ABC's stdout and stderr, with its terminal colour codes removed.
std::optional<std::string> run_abc(const std::string& command) {
  const std::string bin = abc_binary();
  if (bin.empty()) return std::nullopt;
  // Through run_shell (base/output.h): an interrupted prunesim stops ABC too, and its captured
  // output is a tracked temporary file.
  TempFile log = make_temp((std::filesystem::temp_directory_path() / "prunesim_abc.log").string());
  const std::string cmd = "'" + bin + "' -c \"" + command + "\" > '" + log.path + "' 2>&1";
  run_shell(cmd);
  std::string out;
  {
    std::ifstream f(log.path, std::ios::binary);
    out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  discard_temp(log);
  return std::regex_replace(out, std::regex("\x1b\\[[0-9;]*m"), "");
}

}  // namespace

std::string abc_binary() {
  if (const char* e = std::getenv("PRUNESIM_ABC"); e && executable(e)) return e;
  for (const char* prog : {"berkeley-abc", "abc"}) {
    const std::string p = on_path(prog);
    if (!p.empty()) return p;
  }
  return "";
}

std::optional<AbcStats> abc_stats(const std::string& blif, const std::string& script) {
  const auto out = run_abc("read " + blif + "; " + script + "; print_stats");
  if (!out) return std::nullopt;
  // The last statistics line: an AIG ("and = N lev = L") or a mapped network ("nd = N ...").
  static const std::regex aig("and\\s*=\\s*(\\d+)\\s+lev\\s*=\\s*(\\d+)");
  static const std::regex mapped("nd\\s*=\\s*(\\d+).*aig\\s*=\\s*(\\d+)\\s+lev\\s*=\\s*(\\d+)");
  std::optional<AbcStats> r;
  std::istringstream lines(*out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, mapped))
      r = AbcStats{std::stol(m[2]), std::stol(m[3]), std::stol(m[1])};
    else if (std::regex_search(line, m, aig))
      r = AbcStats{std::stol(m[1]), std::stol(m[2]), 0};
  }
  return r;
}

std::optional<long> abc_fraig_two_input_gates(const std::string& blif,
                                              const std::string& mapped_blif) {
  std::remove(mapped_blif.c_str());
  if (!run_abc("read " + blif + "; strash; fraig; if -K 2; write_blif " + mapped_blif))
    return std::nullopt;
  std::ifstream f(mapped_blif);
  if (!f) return std::nullopt;
  // A node is ".names in1 .. ink out" (ABC writes no continuation lines for k <= 2).
  long gates = 0;
  for (std::string line; std::getline(f, line);) {
    if (line.rfind(".names", 0) != 0) continue;
    std::istringstream w(line);
    std::string tok;
    long k = -2;  // ".names" and the output
    while (w >> tok) ++k;
    if (k == 2) ++gates;
  }
  return gates;
}

std::optional<bool> abc_cec(const std::string& a, const std::string& b, std::string* log) {
  const auto out = run_abc("cec " + a + " " + b);
  if (!out) return std::nullopt;
  if (log) *log = *out;
  if (out->find("NOT EQUIVALENT") != std::string::npos) return false;
  if (out->find("are equivalent") != std::string::npos) return true;
  return std::nullopt;
}

}  // namespace prunesim::logic
