// Data-driven pruning to a gate budget: a pass (similarity.h, greedy.h) ranks merges — signal s
// replaced by an earlier signal, its complement or a constant — best first; the budget applies
// the shortest prefix of that ranking whose rebuilt network (simplify.h: dead gates go) has at
// most `budget` gates.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "logic/eval.h"
#include "logic/simplify.h"

namespace prunesim::logic {

struct Merge {
  uint32_t sig = 0;  // the gate's signal
  Lit target;        // what replaces it (an earlier signal, complemented or not, or a constant)
  double score = 0;  // the pass's cost of the merge (lower first)
};

struct BudgetResult {
  Netlist net;
  size_t merges = 0;  // prefix length applied
};

// InputError "<where>: ..." when the budget is impossible: 0, above the network's gate count, or
// below what the ranking reaches with every merge applied (what the outputs need).
BudgetResult apply_to_budget(const Netlist& n, const std::vector<Merge>& ranked, long budget,
                             const std::string& where);
// The same in `rounds` steps: rank the current network, prune it to an intermediate budget (the
// excess over `budget` shrinks evenly), rank again, ... so later merges are scored on the network
// the earlier ones left. rounds == 1 is apply_to_budget(n, rank(n), ...).
BudgetResult prune_in_rounds(const Netlist& n,
                             const std::function<std::vector<Merge>(const Netlist&)>& rank,
                             long budget, int rounds, const std::string& where);
// Rebuild with the first k merges applied.
Netlist apply_merges(const Netlist& n, const std::vector<Merge>& ranked, size_t k);

// Helpers shared by the passes: bit counts over the first `samples` samples of rows.
size_t popcount_row(const uint64_t* r, size_t words, size_t samples);
size_t hamming(const uint64_t* a, const uint64_t* b, size_t words, size_t samples);

}  // namespace prunesim::logic
