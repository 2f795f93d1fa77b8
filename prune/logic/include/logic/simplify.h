// Structural simplification of a logic network and the one rewrite primitive every pass uses:
// rebuild the netlist with some signals replaced by an earlier signal, its complement or a
// constant. The rebuild propagates constants, absorbs inverters and buffers into the consumers'
// truth tables, hashes identical gates, drops dead gates and renumbers in topological order, so
// the SAT sweep, the similarity and the greedy pass only decide *what* to merge.
#pragma once

#include <cstdint>
#include <vector>

#include "logic/netlist.h"

namespace prunesim::logic {

// A signal or its complement, or a constant: sig < 0 is the constant `neg` (false = 0, true = 1).
struct Lit {
  int64_t sig = 0;
  bool neg = false;
  bool is_const() const { return sig < 0; }
  bool operator==(const Lit& o) const { return sig == o.sig && neg == o.neg; }
};
inline Lit lit_const(bool v) {
  return Lit{-1, v};
}
inline Lit lit_of(uint32_t s, bool neg = false) {
  return Lit{static_cast<int64_t>(s), neg};
}
inline Lit lit_not(Lit l) {
  return Lit{l.sig, !l.neg};
}

// Truth-table algebra (bit 2a + b is the output for (a, b)).
TruthTable tt_negate_a(TruthTable tt);  // f(!a, b)
TruthTable tt_negate_b(TruthTable tt);  // f(a, !b)
TruthTable tt_swap(TruthTable tt);      // f(b, a)
bool tt_depends_a(TruthTable tt);
bool tt_depends_b(TruthTable tt);

struct SimplifyStats {
  size_t gates_before = 0, gates_after = 0;
  size_t constants = 0;  // gates that turned out constant
  size_t unary = 0;      // gates left as a buffer or an inverter of one input (absorbed)
  size_t hashed = 0;     // gates identical to an earlier one
  size_t dead = 0;       // gates outside every output's cone
};

// `subst` has one entry per signal (or is empty: no substitution): signal s is replaced by
// subst[s], which must be s itself (kept), an earlier signal or its complement, or a constant.
// The result computes the same outputs as `n` with the substitutions applied.
Netlist rebuild(const Netlist& n, const std::vector<Lit>& subst, SimplifyStats* stats = nullptr);
// rebuild() without substitutions: the same function, fewer or equal gates; idempotent.
Netlist simplify(const Netlist& n, SimplifyStats* stats = nullptr);
// The identity substitution for n (every signal kept), to edit before rebuild().
std::vector<Lit> identity_subst(const Netlist& n);
// Gates in the cone of some output (the ones rebuild() keeps).
size_t live_gates(const Netlist& n);

}  // namespace prunesim::logic
