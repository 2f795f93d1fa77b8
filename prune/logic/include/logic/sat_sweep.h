// SAT sweeping (fraiging) of a logic network: simulation on random and data input patterns
// proposes candidate classes of equal, complemented and constant signals; CaDiCaL proves or
// refutes each candidate incrementally (one solver, cones encoded on demand, one assumption per
// query, a conflict budget per call); a refutation's counter-example joins the patterns and splits
// the class. Proven merges are applied by rebuild() (simplify.h): consumers rewired, complements
// absorbed into their truth tables or out_negate, constants propagated, dead gates removed.
// The function never changes: every merge is proven, a budget-exhausted candidate is kept.
#pragma once

#include <cstdint>

#include "logic/eval.h"
#include "logic/netlist.h"

namespace prunesim::logic {

struct SweepOptions {
  size_t random_words = 64;   // 64 random patterns per word
  int conflict_limit = 1000;  // per SAT call; exhausted → the candidate is kept (unknown)
  uint64_t seed = 1;
  const BitMatrix* data = nullptr;  // encoded input bits of real samples (rows == inputs), if any
  int max_rounds = 4;               // sweep again while a round still removes gates
  bool rewrite = true;              // two-input cut rewriting after each merge (cut_rewrite.h)
};

struct SweepStats {
  size_t gates_before = 0, gates_after = 0;
  size_t sat_calls = 0, proven = 0, refuted = 0, unknown = 0;
  size_t proven_const = 0;  // of `proven`: signals proven constant
  size_t patterns = 0;      // simulation patterns (random + data + counter-examples), last round
  size_t rounds = 0;
  size_t rewritten = 0;  // gates re-expressed over a smaller cut (cut_rewrite.h)
  double seconds = 0;
};

Netlist sat_sweep(const Netlist& n, const SweepOptions& opt, SweepStats* stats = nullptr);

// Miter check of two networks with the same inputs and outputs: `equivalent` when UNSAT (every
// output bit equal on every input); otherwise a counter-example input and the first output found
// to differ; `unknown` when the conflict budget (< 0: none) ran out.
struct EquivResult {
  enum Verdict { Equivalent, Different, Unknown } verdict = Unknown;
  std::vector<uint8_t> counterexample;  // one value per input bit when Different
  size_t output = 0;
};
EquivResult check_equivalent(const Netlist& a, const Netlist& b, int64_t conflict_limit = -1);

// `words` words of uniformly random input bits for n (64 samples per word).
BitMatrix random_inputs(const Netlist& n, size_t words, uint64_t seed);

}  // namespace prunesim::logic
