// ABC as the referee (skipped when berkeley-abc is not on PATH; scripts/setup.sh installs it):
// our BLIF carries the function (cec tells a swept network from a one-bit change and an output
// polarity flip), and the sweep's AIG size is within 5 % of ABC fraig's on the same network.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "logic/abc.h"
#include "logic/blif.h"
#include "logic/sat_sweep.h"
#include "logic/simplify.h"
#include "nets.h"

namespace fs = std::filesystem;
using namespace prunesim::logic;
using namespace prunesim::logic::testing;

namespace {

class Abc : public ::testing::Test {
 protected:
  void SetUp() override {
    if (abc_binary().empty()) GTEST_SKIP() << "berkeley-abc not on PATH";
    dir_ =
        fs::temp_directory_path() /
        ("lgn_abc_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string blif(const Netlist& n, const std::string& name) {
    const std::string p = (dir_ / (name + ".blif")).string();
    write_blif(n, p);
    return p;
  }
  fs::path dir_;
};

}  // namespace

TEST_F(Abc, CecProvesTheSweepAndCatchesAOneBitChange) {
  const Planted p = plant(random_net(40, 1200, 60, 6, 21), 4, 22);
  const Netlist swept = sat_sweep(p.net, SweepOptions{});
  ASSERT_LT(swept.gates.size(), p.net.gates.size());
  const std::string a = blif(p.net, "planted"), b = blif(swept, "swept");
  std::string log;
  EXPECT_EQ(abc_cec(a, b, &log), std::optional<bool>(true)) << log;
  Netlist m = swept;
  m.gates.back().tt ^= 1u << 3;  // the last gate drives an output
  ASSERT_EQ(check_equivalent(swept, m).verdict, EquivResult::Different);
  EXPECT_EQ(abc_cec(b, blif(m, "changed")), std::optional<bool>(false));
}

TEST_F(Abc, OutputPolarityIsPartOfTheBlif) {
  const Netlist n = simplify(random_net(12, 200, 12, 3, 4));
  Netlist flipped = n;
  flipped.out_negate[5] ^= 1;
  // The same function with the complement as a gate: a NOT gate appended, the output reads it.
  Netlist explicit_not = flipped;
  explicit_not.gates.push_back(Gate{flipped.outputs[5], flipped.outputs[5], 0b0011, 0});
  explicit_not.outputs[5] = explicit_not.signals() - 1;
  explicit_not.out_negate[5] ^= 1;
  const std::string a = blif(n, "n"), b = blif(flipped, "flipped"), c = blif(explicit_not, "not");
  EXPECT_EQ(abc_cec(a, b), std::optional<bool>(false));
  EXPECT_EQ(abc_cec(b, c), std::optional<bool>(true));
}

TEST_F(Abc, SweepIsWithinFivePercentOfFraig) {
  // Common unit: two-input gates (abc.h). Ours: the swept gate count; ABC: strash, fraig, and
  // the fraiged AIG mapped back to two-input gates.
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const Planted p = plant(random_net(48, 1600, 80, 8, seed), 4, seed + 50);
    SweepStats st;
    const Netlist swept = sat_sweep(p.net, SweepOptions{}, &st);
    const std::string in = blif(p.net, "in");
    const auto fraig = abc_stats(in, "strash; fraig");
    const auto gates = abc_fraig_two_input_gates(in, (dir_ / "mapped.blif").string());
    ASSERT_TRUE(fraig && gates);
    std::cout << "seed " << seed << ": " << p.net.gates.size() << " gates -> " << swept.gates.size()
              << " (" << st.rewritten << " rewritten); ABC fraig: " << *gates
              << " two-input gates (" << fraig->ands << " AIG ANDs)\n";
    EXPECT_LE(double(swept.gates.size()), 1.05 * double(*gates)) << "seed " << seed;
    EXPECT_GT(*gates, 0);
  }
}
