#include "logic/netlist.h"

#include <algorithm>

#include "base/errors.h"

namespace prunesim::logic {
namespace {
// Petersen et al.'s gate IDs 0..15 as truth tables, bit (2a + b) = output for inputs (a, b).
constexpr TruthTable kPetersen[16] = {
    0b0000,  // 0  FALSE
    0b1000,  // 1  A AND B
    0b0100,  // 2  A AND NOT B
    0b1100,  // 3  A
    0b0010,  // 4  NOT A AND B
    0b1010,  // 5  B
    0b0110,  // 6  XOR
    0b1110,  // 7  OR
    0b0001,  // 8  NOR
    0b1001,  // 9  XNOR
    0b0101,  // 10 NOT B
    0b1101,  // 11 A OR NOT B
    0b0011,  // 12 NOT A
    0b1011,  // 13 NOT A OR B
    0b0111,  // 14 NAND
    0b1111,  // 15 TRUE
};
constexpr const char* kNames[16] = {"FALSE", "AND",  "A&~B", "A",    "~A&B", "B",
                                    "XOR",   "OR",   "NOR",  "XNOR", "~B",   "A|~B",
                                    "~A",    "~A|B", "NAND", "TRUE"};
}  // namespace

TruthTable petersen_to_tt(int id) {
  if (id < 0 || id > 15) throw InputError("gate id " + std::to_string(id) + " is not in 0..15");
  return kPetersen[id];
}
int tt_to_petersen(TruthTable tt) {
  for (int i = 0; i < 16; ++i)
    if (kPetersen[i] == (tt & 15)) return i;
  return 0;  // unreachable: the 16 tables are all there
}
const char* tt_name(TruthTable tt) {
  return kNames[tt_to_petersen(tt)];
}

uint32_t Encoder::bits() const {
  uint32_t n = 0;
  for (const auto& t : thresholds) n += static_cast<uint32_t>(t.size());
  return n;
}

void validate(const Netlist& n, const std::string& where) {
  if (n.encoder.bits() != n.inputs)
    throw InputError(where + ": encoder: it gives " + std::to_string(n.encoder.bits()) +
                     " bits but the network has " + std::to_string(n.inputs) + " inputs");
  for (size_t i = 0; i < n.gates.size(); ++i) {
    const Gate& g = n.gates[i];
    const uint64_t self = n.inputs + i;
    if (g.a >= self || g.b >= self)
      throw InputError(where + ": gate " + std::to_string(i) + ": reads signal " +
                       std::to_string(std::max(g.a, g.b)) + ", not an earlier one");
    if (g.tt > 15)
      throw InputError(where + ": gate " + std::to_string(i) + ": truth table " +
                       std::to_string(g.tt) + ", not 0..15");
  }
  if (n.classes == 0 || n.outputs.empty() || n.outputs.size() % n.classes != 0)
    throw InputError(where + ": outputs: " + std::to_string(n.outputs.size()) +
                     " outputs do not split into " + std::to_string(n.classes) + " classes");
  if (n.out_negate.size() != n.outputs.size())
    throw InputError(where + ": outputs: " + std::to_string(n.out_negate.size()) +
                     " output polarities for " + std::to_string(n.outputs.size()) + " outputs");
  for (size_t i = 0; i < n.outputs.size(); ++i)
    if (n.outputs[i] >= n.signals())
      throw InputError(where + ": output " + std::to_string(i) + ": signal " +
                       std::to_string(n.outputs[i]) + " does not exist");
  if (!(n.tau > 0)) throw InputError(where + ": header: group-sum temperature tau must be > 0");
}

}  // namespace prunesim::logic
