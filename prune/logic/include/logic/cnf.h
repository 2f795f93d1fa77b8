// Tseitin encoding of a logic network into a CaDiCaL solver, lazily: a signal's cone is encoded
// the first time a query needs it, so an incremental SAT sweep pays only for the cones it asks
// about. Shared by the SAT sweep and the miter (equivalence) check.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "logic/netlist.h"
#include "logic/simplify.h"

namespace CaDiCaL {
class Solver;
}

namespace prunesim::logic {

// One solver and its variable numbering (CaDiCaL variables are 1, 2, ...).
class SatContext {
 public:
  SatContext();
  ~SatContext();
  CaDiCaL::Solver& solver() { return *solver_; }
  int fresh() { return next_++; }
  int true_lit();  // a variable fixed to true by a unit clause
  void clause(std::initializer_list<int> lits);
  // o <-> f(a, b) for truth table tt (one clause per row of the table).
  void gate(int o, int a, int b, TruthTable tt);
  void xor_def(int o, int a, int b) { gate(o, a, b, 0b0110); }

 private:
  std::unique_ptr<CaDiCaL::Solver> solver_;
  int next_ = 1, true_ = 0;
};

// Encodes the signals of one netlist. `repr` (optional, one entry per signal, may grow as a
// sweep proves merges) redirects a gate's inputs to their representatives, so the clauses of
// later gates are written over the merged structure. `inputs` gives the input variables (shared
// by the two sides of a miter); empty: fresh ones.
class CnfEncoder {
 public:
  CnfEncoder(SatContext& ctx, const Netlist& n, std::vector<int> inputs = {},
             const std::vector<Lit>* repr = nullptr);
  int var(uint32_t sig);  // the signal's variable, its cone encoded on first use
  int lit(Lit l);         // ±var, or the true literal for a constant
  int input_var(uint32_t i) const { return vars_[i]; }
  size_t encoded() const { return encoded_; }

 private:
  int input_lit(uint32_t sig);
  SatContext& ctx_;
  const Netlist& n_;
  const std::vector<Lit>* repr_;
  std::vector<int> vars_;  // 0 = not encoded yet
  size_t encoded_ = 0;
};

}  // namespace prunesim::logic
