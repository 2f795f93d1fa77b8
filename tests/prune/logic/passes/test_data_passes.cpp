// The data-driven passes: the similarity ranking finds the nearest earlier signal (either
// polarity) or constant, the greedy ranking scores by output change, and the budget applies the
// shortest prefix that fits or refuses an impossible budget.
#include <gtest/gtest.h>

#include <map>

#include "base/errors.h"
#include "logic/greedy.h"
#include "logic/sat_sweep.h"
#include "logic/similarity.h"
#include "logic/simplify.h"
#include "nets.h"

using namespace prunesim;
using namespace prunesim::logic;
using namespace prunesim::logic::testing;

namespace {

// Gate 4 = x0 & x1 | (x2 & x3 & ... on one pattern): x0&x1 except where x2..x5 are all 1 and
// x0&x1 = 0, i.e. 3 of 64 patterns; gate 5 = ~x4 (an inverter of an input, kept as a gate).
Netlist near_duplicate() {
  Netlist n;
  n.inputs = 6;
  n.encoder.thresholds.assign(6, {0.5f});
  n.gates = {
      {0, 1, 0b1000, 0},   // 6: x0 & x1
      {2, 3, 0b1000, 0},   // 7: x2 & x3
      {4, 5, 0b1000, 0},   // 8: x4 & x5
      {7, 8, 0b1000, 0},   // 9: x2 & x3 & x4 & x5
      {6, 9, 0b1110, 0},   // 10: (x0 & x1) | 9  -- near 6
      {10, 4, 0b0110, 0},  // 11
  };
  n.outputs = {11, 10};
  n.out_negate = {0, 0};
  n.classes = 2;
  return n;
}

}  // namespace

// The output bits (sample x output) that merge m alone changes, by rebuilding the network.
size_t flips_by_rebuild(const Netlist& n, const BitMatrix& in, size_t samples, const Merge& m) {
  const BitMatrix base = simulate_outputs(n, in);
  std::vector<Lit> sub = identity_subst(n);
  sub[m.sig] = m.target;
  const BitMatrix o = simulate_outputs(rebuild(n, sub), in);
  size_t flips = 0;
  for (uint32_t k = 0; k < o.rows; ++k) flips += hamming(o.row(k), base.row(k), o.words, samples);
  return flips;
}

TEST(Similarity, RanksTheNearestEarlierSignalFirst) {
  const Netlist n = near_duplicate();
  const BitMatrix in = exhaustive(6);
  SimilarityOptions ham;
  ham.score = SimilarityScore::hamming;
  const std::vector<Merge> r = similarity_ranking(n, in, 64, ham);
  ASSERT_EQ(r.size(), n.gates.size());
  EXPECT_EQ(r[0].sig, 10u);
  EXPECT_EQ(r[0].target, lit_of(6));
  EXPECT_DOUBLE_EQ(r[0].score, 3.0 / 64.0);
  for (size_t i = 1; i < r.size(); ++i) EXPECT_LE(r[i - 1].score, r[i].score);
  for (const Merge& m : r) EXPECT_LT(m.target.sig, static_cast<int64_t>(m.sig));
}

TEST(Similarity, OutputScoreCountsTheOutputBitsAndPicksTheCandidateThatChangesFewest) {
  const Netlist n = near_duplicate();
  const BitMatrix in = exhaustive(6);
  const std::vector<Merge> r = similarity_ranking(n, in, 64);  // outputs is the default
  ASSERT_EQ(r.size(), n.gates.size());
  for (const Merge& m : r)
    EXPECT_EQ(static_cast<size_t>(m.score), flips_by_rebuild(n, in, 64, m)) << "gate " << m.sig;
  for (size_t i = 1; i < r.size(); ++i) EXPECT_LE(r[i - 1].score, r[i].score);
  // On a larger network: the Hamming-nearest candidate is among those the output score weighs,
  // so the merge it picks never changes more output bits than the Hamming choice.
  const Netlist big = simplify(random_net(16, 600, 40, 4, 7));
  const BitMatrix bin = random_inputs(big, 8, 8);
  SimilarityOptions ham;
  ham.score = SimilarityScore::hamming;
  std::map<uint32_t, Merge> by_ham;
  for (const Merge& m : similarity_ranking(big, bin, 512, ham)) by_ham[m.sig] = m;
  size_t strictly_better = 0;
  for (const Merge& m : similarity_ranking(big, bin, 512)) {
    const size_t out = flips_by_rebuild(big, bin, 512, m);
    const size_t ham_out = flips_by_rebuild(big, bin, 512, by_ham.at(m.sig));
    EXPECT_EQ(static_cast<size_t>(m.score), out) << "gate " << m.sig;
    EXPECT_LE(out, ham_out) << "gate " << m.sig;
    strictly_better += out < ham_out;
  }
  EXPECT_GT(strictly_better, 0u) << "the output score never chose differently from Hamming";
}

TEST(Greedy, ScoresByTheOutputBitsAReplacementChanges) {
  const Netlist n = near_duplicate();
  const BitMatrix in = exhaustive(6);
  const std::vector<Merge> r = greedy_ranking(n, in, 64);
  ASSERT_EQ(r.size(), n.gates.size());
  // Reference: apply each merge alone and count the output bits that change.
  const BitMatrix base = simulate_outputs(n, in);
  for (const Merge& m : r) {
    std::vector<Lit> sub = identity_subst(n);
    sub[m.sig] = m.target;
    const BitMatrix o = simulate_outputs(rebuild(n, sub), in);
    size_t flips = 0;
    for (uint32_t k = 0; k < o.rows; ++k) flips += hamming(o.row(k), base.row(k), 1, 64);
    EXPECT_EQ(static_cast<size_t>(m.score), flips) << "gate " << m.sig;
  }
}

TEST(Budget, AppliesTheShortestFittingPrefixAndRefusesImpossibleBudgets) {
  const Netlist n = simplify(random_net(16, 600, 40, 4, 3));
  const BitMatrix in = random_inputs(n, 8, 4);
  const std::vector<Merge> r = similarity_ranking(n, in, 512);
  const long half = static_cast<long>(n.gates.size() / 2);
  const BudgetResult b = apply_to_budget(n, r, half, "net");
  EXPECT_LE(b.net.gates.size(), static_cast<size_t>(half));
  ASSERT_GT(b.merges, 0u);
  EXPECT_GT(apply_merges(n, r, b.merges - 1).gates.size(), static_cast<size_t>(half));
  validate(b.net, "pruned");
  EXPECT_THROW(apply_to_budget(n, r, 0, "net"), InputError);
  EXPECT_THROW(apply_to_budget(n, r, -5, "net"), InputError);
  EXPECT_THROW(apply_to_budget(n, r, static_cast<long>(n.gates.size()) + 1, "net"), InputError);
  // A ranking that covers only some gates cannot go below what the rest need.
  const std::vector<Merge> few(r.begin(), r.begin() + 10);
  const size_t floor = apply_merges(n, few, few.size()).gates.size();
  ASSERT_GT(floor, 1u);
  EXPECT_NO_THROW(apply_to_budget(n, few, static_cast<long>(floor), "net"));
  try {
    apply_to_budget(n, few, static_cast<long>(floor) - 1, "net");
    ADD_FAILURE() << "a budget below the floor was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("below what the outputs need"), std::string::npos);
  }
  EXPECT_NO_THROW(apply_to_budget(n, r, static_cast<long>(n.gates.size()), "net"));
}

TEST(Budget, RoundsReRankTheShrinkingNetworkAndMeetTheBudget) {
  const Netlist n = simplify(random_net(16, 600, 40, 4, 5));
  const BitMatrix in = random_inputs(n, 8, 6);
  int calls = 0;
  const auto rank = [&](const Netlist& net) {
    ++calls;
    return similarity_ranking(net, in, 512);
  };
  const long budget = static_cast<long>(n.gates.size() / 3);
  const BudgetResult one = prune_in_rounds(n, rank, budget, 1, "net");
  EXPECT_EQ(calls, 1);
  const BudgetResult direct = apply_to_budget(n, similarity_ranking(n, in, 512), budget, "net");
  EXPECT_EQ(one.net.gates.size(), direct.net.gates.size());
  calls = 0;
  const BudgetResult four = prune_in_rounds(n, rank, budget, 4, "net");
  EXPECT_EQ(calls, 4);
  EXPECT_LE(four.net.gates.size(), static_cast<size_t>(budget));
  validate(four.net, "pruned");
  EXPECT_THROW(prune_in_rounds(n, rank, 0, 4, "net"), InputError);
  EXPECT_THROW(prune_in_rounds(n, rank, budget, 0, "net"), InputError);
}
