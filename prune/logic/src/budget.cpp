#include "logic/budget.h"

#include <algorithm>

#include "base/errors.h"

namespace prunesim::logic {

size_t popcount_row(const uint64_t* r, size_t words, size_t samples) {
  size_t c = 0;
  const size_t full = samples / 64;
  for (size_t w = 0; w < full && w < words; ++w) c += __builtin_popcountll(r[w]);
  if (samples % 64 && full < words)
    c += __builtin_popcountll(r[full] & ((1ull << (samples % 64)) - 1));
  return c;
}

size_t hamming(const uint64_t* a, const uint64_t* b, size_t words, size_t samples) {
  size_t c = 0;
  const size_t full = samples / 64;
  for (size_t w = 0; w < full && w < words; ++w) c += __builtin_popcountll(a[w] ^ b[w]);
  if (samples % 64 && full < words)
    c += __builtin_popcountll((a[full] ^ b[full]) & ((1ull << (samples % 64)) - 1));
  return c;
}

Netlist apply_merges(const Netlist& n, const std::vector<Merge>& ranked, size_t k) {
  std::vector<Lit> sub = identity_subst(n);
  for (size_t i = 0; i < k && i < ranked.size(); ++i) sub[ranked[i].sig] = ranked[i].target;
  return rebuild(n, sub);
}

BudgetResult apply_to_budget(const Netlist& n, const std::vector<Merge>& ranked, long budget,
                             const std::string& where) {
  if (budget <= 0) throw InputError(where + ": --gates " + std::to_string(budget) + " must be > 0");
  if (static_cast<size_t>(budget) > n.gates.size())
    throw InputError(where + ": --gates " + std::to_string(budget) + " is above the network's " +
                     std::to_string(n.gates.size()) + " gates");
  const auto fits = [&](size_t k, Netlist* out) {
    Netlist r = apply_merges(n, ranked, k);
    const bool ok = r.gates.size() <= static_cast<size_t>(budget);
    if (out) *out = std::move(r);
    return ok;
  };
  BudgetResult res;
  if (!fits(ranked.size(), &res.net))
    throw InputError(where + ": --gates " + std::to_string(budget) +
                     " is below what the outputs need: this pass reaches no fewer than " +
                     std::to_string(res.net.gates.size()) + " gates");
  // The gate count falls with the prefix length almost always (a merge can revive a dead target's
  // cone): binary search for the shortest fitting prefix, then step on until it really fits.
  size_t lo = 0, hi = ranked.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (fits(mid, nullptr))
      hi = mid;
    else
      lo = mid + 1;
  }
  while (!fits(lo, &res.net)) ++lo;
  res.merges = lo;
  return res;
}

BudgetResult prune_in_rounds(const Netlist& n,
                             const std::function<std::vector<Merge>(const Netlist&)>& rank,
                             long budget, int rounds, const std::string& where) {
  if (rounds < 1) throw InputError(where + ": --rounds must be >= 1");
  // The first round checks the budget against the whole network (the same errors as one shot).
  if (budget <= 0 || static_cast<size_t>(budget) > n.gates.size())
    return apply_to_budget(n, rank(n), budget, where);
  BudgetResult res{n, 0};
  for (int r = 0; r < rounds; ++r) {
    const long now = static_cast<long>(res.net.gates.size());
    if (now <= budget) break;
    const long step = r + 1 == rounds ? budget : now - (now - budget) / (rounds - r);
    BudgetResult b = apply_to_budget(res.net, rank(res.net), std::max(step, budget), where);
    res.net = std::move(b.net);
    res.merges += b.merges;
  }
  return res;
}

}  // namespace prunesim::logic
