#include "logic/blif.h"

#include <cstdio>
#include <sstream>

#include "base/errors.h"

namespace prunesim::logic {
namespace {

std::string name(const Netlist& n, uint32_t s) {
  return s < n.inputs ? "x" + std::to_string(s) : "g" + std::to_string(s - n.inputs);
}

}  // namespace

std::string to_blif(const Netlist& n, const std::string& model) {
  std::ostringstream o;
  o << "# prunesim logic network: " << n.inputs << " inputs, " << n.gates.size() << " gates, "
    << n.outputs.size() << " outputs (" << n.classes << " classes)\n";
  o << ".model " << model << "\n.inputs";
  for (uint32_t i = 0; i < n.inputs; ++i) o << " x" << i;
  o << "\n.outputs";
  for (size_t i = 0; i < n.outputs.size(); ++i) o << " o" << i;
  o << "\n";
  for (size_t i = 0; i < n.gates.size(); ++i) {
    const Gate& g = n.gates[i];
    // The on-set of the truth table, one cube per row. ABC wants a constant without fanins
    // (no cube: 0, the empty cube: 1).
    if (g.tt == 0 || g.tt == 15) {
      o << ".names g" << i << "\n" << (g.tt ? "1\n" : "");
      continue;
    }
    o << ".names " << name(n, g.a) << " " << name(n, g.b) << " g" << i << "\n";
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b)
        if (apply(g.tt, a, b)) o << a << b << " 1\n";
  }
  for (size_t i = 0; i < n.outputs.size(); ++i)
    o << ".names " << name(n, n.outputs[i]) << " o" << i << "\n"
      << (n.out_negate[i] ? "0 1\n" : "1 1\n");
  o << ".end\n";
  return o.str();
}

void write_blif(const Netlist& n, const std::string& path, const std::string& model) {
  write_file_atomic(path, to_blif(n, model));
}

}  // namespace prunesim::logic
