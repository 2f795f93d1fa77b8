// Simplification and the SAT sweep on random networks with planted redundancy: the function is
// checked on every input (exhaustive) and by a miter proof, the planted gates must go, and the
// miter itself must catch a one-gate change.
#include <gtest/gtest.h>

#include <set>

#include "logic/cut_rewrite.h"
#include "logic/sat_sweep.h"
#include "logic/simplify.h"
#include "nets.h"

using namespace prunesim::logic;
using namespace prunesim::logic::testing;

namespace {

bool same_structure(const Netlist& a, const Netlist& b) {
  if (a.gates.size() != b.gates.size() || a.outputs != b.outputs || a.out_negate != b.out_negate)
    return false;
  for (size_t i = 0; i < a.gates.size(); ++i)
    if (a.gates[i].a != b.gates[i].a || a.gates[i].b != b.gates[i].b ||
        a.gates[i].tt != b.gates[i].tt)
      return false;
  return true;
}

// What a complete sweep leaves: no gate equal to another signal, to its complement or to a
// constant on every input (`in` exhaustive). The one FALSE gate that constant outputs read is
// the constant itself.
bool all_distinct(const Netlist& n, const BitMatrix& in) {
  const BitMatrix s = simulate_all(n, in);
  std::set<std::vector<uint64_t>> seen;
  seen.insert(std::vector<uint64_t>(s.words, 0));  // constant (normalised)
  for (uint32_t i = 0; i < n.signals(); ++i) {
    if (i >= n.inputs && n.gates[i - n.inputs].tt == 0) continue;
    std::vector<uint64_t> r(s.row(i), s.row(i) + s.words);
    if (r[0] & 1u)
      for (auto& w : r) w = ~w;
    if (!seen.insert(r).second && i >= n.inputs) return false;
  }
  return true;
}

}  // namespace

TEST(TruthTables, NegateAndSwapMatchTheirDefinitions) {
  for (int tt = 0; tt < 16; ++tt)
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) {
        EXPECT_EQ(apply(tt_negate_a(tt), a, b), apply(tt, !a, b));
        EXPECT_EQ(apply(tt_negate_b(tt), a, b), apply(tt, a, !b));
        EXPECT_EQ(apply(tt_swap(tt), a, b), apply(tt, b, a));
      }
}

TEST(Simplify, PreservesTheFunctionOnEveryInput) {
  const BitMatrix in = exhaustive(10);
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const Netlist n = random_net(10, 200, 20, 4, seed);
    SimplifyStats st;
    const Netlist s = simplify(n, &st);
    validate(s, "simplified");
    EXPECT_TRUE(same_outputs(n, s, in, 1024)) << "seed " << seed;
    EXPECT_LE(s.gates.size(), n.gates.size());
    EXPECT_EQ(s.gates.size(), live_gates(s));  // nothing dead is left
  }
}

TEST(Simplify, IsIdempotent) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const Netlist s = simplify(random_net(12, 300, 30, 3, seed));
    EXPECT_TRUE(same_structure(s, simplify(s))) << "seed " << seed;
  }
}

TEST(Simplify, FoldsConstantsInvertersDuplicatesAndDeadGates) {
  Netlist n;
  n.inputs = 2;
  n.encoder.thresholds.assign(2, {0.5f});
  n.gates = {
      {0, 0, 0b0110, 0},  // 2: x0 ^ x0 = 0
      {0, 2, 0b1110, 0},  // 3: x0 | 0 = x0
      {1, 1, 0b0011, 0},  // 4: ~x1
      {3, 4, 0b1000, 0},  // 5: x0 & ~x1
      {0, 1, 0b0100, 0},  // 6: x0 & ~x1 again (structurally after folding)
      {5, 6, 0b0110, 0},  // 7: 5 ^ 6 = 0
      {0, 1, 0b1001, 0},  // 8: dead (no output reads it)
  };
  n.outputs = {5, 6, 7, 3};
  n.out_negate = {0, 1, 0, 0};
  n.classes = 2;
  SimplifyStats st;
  const Netlist s = simplify(n, &st);
  // Left: one x0&~x1 gate and the FALSE gate the constant output reads.
  ASSERT_EQ(s.gates.size(), 2u);
  EXPECT_TRUE(same_outputs(n, s, exhaustive(2), 4));
  EXPECT_EQ(s.outputs[0], s.outputs[1]);
  EXPECT_NE(s.out_negate[0], s.out_negate[1]);
  EXPECT_EQ(s.outputs[3], 0u);  // x0 itself
}

TEST(Rebuild, AppliesASubstitutionAndRejectsALaterTarget) {
  const Netlist n = random_net(6, 40, 8, 2, 7);
  std::vector<Lit> sub = identity_subst(n);
  sub[n.inputs + 10] = lit_const(true);
  const Netlist r = rebuild(n, sub);
  // Reference: the same network with gate 10 replaced by a TRUE gate.
  Netlist m = n;
  m.gates[10].tt = 15;
  EXPECT_TRUE(same_outputs(m, r, exhaustive(6), 64));
  sub[n.inputs + 10] = lit_of(n.inputs + 11);
  EXPECT_THROW(rebuild(n, sub), std::logic_error);
}

TEST(SatSweep, RemovesPlantedRedundancyAndKeepsTheFunction) {
  const BitMatrix in = exhaustive(10);
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const Netlist base = random_net(10, 300, 24, 4, seed);
    const Planted p = plant(base, 5, seed + 100);
    ASSERT_GT(p.planted, 100u);
    SweepOptions o;
    SweepStats st;
    const Netlist swept = sat_sweep(p.net, o, &st);
    validate(swept, "swept");
    EXPECT_TRUE(same_outputs(p.net, swept, in, 1024)) << "seed " << seed;
    EXPECT_TRUE(all_distinct(swept, in)) << "seed " << seed;
    EXPECT_GE(p.net.gates.size() - swept.gates.size(), p.planted) << "seed " << seed;
    EXPECT_EQ(check_equivalent(p.net, swept).verdict, EquivResult::Equivalent) << "seed " << seed;
    EXPECT_GT(st.proven, 0u);
    EXPECT_EQ(st.sat_calls, st.proven + st.refuted + st.unknown);
  }
}

TEST(SatSweep, ProvesWithoutExhaustiveSimulationOnAWideNetwork) {
  // 64 inputs: simulation alone cannot cover the input space, the proofs must carry it.
  const Netlist base = random_net(64, 2000, 100, 10, 3);
  const Planted p = plant(base, 4, 5);
  SweepStats st;
  const Netlist swept = sat_sweep(p.net, SweepOptions{}, &st);
  EXPECT_GE(p.net.gates.size() - swept.gates.size(), p.planted);
  EXPECT_EQ(check_equivalent(p.net, swept).verdict, EquivResult::Equivalent);
  EXPECT_TRUE(same_outputs(p.net, swept, random_inputs(p.net, 32, 9), 32 * 64));
}

TEST(Miter, FindsAOneGateChangeAndItsCounterexampleIsReal) {
  const Netlist n = simplify(random_net(16, 400, 30, 3, 11));
  Netlist m = n;
  // Flip one row of the last gate's table: the gate feeds an output (simplify keeps live gates).
  m.gates.back().tt ^= 1u << 3;
  const EquivResult r = check_equivalent(n, m);
  ASSERT_EQ(r.verdict, EquivResult::Different);
  BitMatrix in;
  in.rows = n.inputs;
  in.words = 1;
  in.data.resize(n.inputs);
  for (uint32_t i = 0; i < n.inputs; ++i) in.data[i] = r.counterexample[i] ? 1u : 0u;
  const BitMatrix a = simulate_outputs(n, in), b = simulate_outputs(m, in);
  EXPECT_NE(a.row(static_cast<uint32_t>(r.output))[0] & 1u,
            b.row(static_cast<uint32_t>(r.output))[0] & 1u);
}

TEST(CutRewrite, ReexpressesAGateOverASmallerCutAndKeepsEveryFunction) {
  Netlist n;
  n.inputs = 3;
  n.encoder.thresholds.assign(3, {0.5f});
  n.gates = {
      {0, 1, 0b1000, 0},  // 3: x0 & x1
      {3, 0, 0b0110, 0},  // 4: (x0 & x1) ^ x0 = x0 & ~x1, a function of the cut {x0, x1}
      {4, 2, 0b1110, 0},  // 5: 4 | x2
  };
  n.outputs = {5, 4};
  n.out_negate = {0, 1};
  n.classes = 1;
  size_t rw = 0;
  const Netlist r = cut_rewrite(simplify(n), &rw);
  EXPECT_EQ(rw, 1u);
  EXPECT_EQ(r.gates.size(), 2u);  // gate 3 is gone
  EXPECT_TRUE(same_outputs(n, r, exhaustive(3), 8));
  const BitMatrix in = exhaustive(10);
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const Netlist s = simplify(random_net(10, 400, 20, 4, seed));
    const Netlist c = cut_rewrite(s);
    EXPECT_LE(c.gates.size(), s.gates.size());
    EXPECT_TRUE(same_outputs(s, c, in, 1024)) << "seed " << seed;
  }
}
