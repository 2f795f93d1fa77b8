// A logic network priced as a combinational block: depth and switching activity from simulation,
// area as the sum of its cells' table areas, gate energy proportional to the measured toggles.
#include <gtest/gtest.h>

#include "logic/hw_report.h"
#include "sim/logic_power.h"
#include "sim/tech.h"

using namespace prunesim;
using namespace prunesim::logic;

namespace {

// x0 & x1 -> XOR with x2; outputs: the XOR and the AND (complemented).
Netlist small() {
  Netlist n;
  n.inputs = 3;
  n.encoder.thresholds.assign(3, {0.5f});
  n.gates = {{0, 1, 0b1000, 0}, {3, 2, 0b0110, 1}};
  n.outputs = {4, 3};
  n.out_negate = {0, 1};
  n.classes = 2;
  return n;
}

// Samples in this order: x = 000, 111, 000, 111 (every input toggles at every step).
BitMatrix alternating(uint32_t inputs, size_t samples) {
  BitMatrix m;
  m.rows = inputs;
  m.words = (samples + 63) / 64;
  m.data.assign(inputs * m.words, 0);
  for (size_t j = 1; j < samples; j += 2)
    for (uint32_t i = 0; i < inputs; ++i) m.row(i)[j / 64] |= 1ull << (j % 64);
  return m;
}

}  // namespace

TEST(LogicProfile, DepthCountsAndToggles) {
  const HwProfile p = hw_profile(small(), alternating(3, 100), 100);
  EXPECT_EQ(p.depth, 2u);
  EXPECT_EQ(p.gates, 2u);
  // The AND is read complemented only (output 1): built as a NAND, no inverter.
  EXPECT_EQ(p.by_tt[0b0111], 1u);
  EXPECT_EQ(p.by_tt[0b0110], 1u);
  EXPECT_EQ(p.inverters, 0u);
  EXPECT_EQ(p.live_inputs, 3u);
  // AND toggles at every step (0, 1, 0, ...); XOR of (AND, x2) is 0 on 000 and 0 on 111: never.
  EXPECT_DOUBLE_EQ(p.toggles_by_tt[0b0111], 1.0);
  EXPECT_DOUBLE_EQ(p.toggles_by_tt[0b0110], 0.0);
  EXPECT_DOUBLE_EQ(p.input_toggles, 3.0);
}

TEST(LogicProfile, AnOutputReadBothWaysNeedsOneInverter) {
  Netlist n = small();
  n.outputs = {4, 3, 3};
  n.out_negate = {0, 1, 0};
  n.classes = 3;
  const HwProfile p = hw_profile(n, alternating(3, 10), 10);
  EXPECT_EQ(p.inverters, 1u);
  EXPECT_EQ(p.by_tt[0b1000], 1u);  // the AND stays an AND
}

TEST(LogicPower, AreaIsTheCellsAndGateEnergyFollowsTheToggles) {
  const TechTable t = load_tech_table(tech_table_path("raman65"));
  HwProfile p = hw_profile(small(), alternating(3, 100), 100);
  const LogicCost c = price_logic(p, t, 2e6);
  const double cells = t.get("nand2_area", "um2") + t.get("xor2_area", "um2");
  ASSERT_EQ(c.parts[0].name, "gates");
  EXPECT_DOUBLE_EQ(c.parts[0].area_um2, cells);
  EXPECT_NEAR(c.parts[0].energy_pj, t.get("logic_toggle_energy_per_ge", "pJ"), 1e-15);
  p.toggles_by_tt[0b0111] *= 2;
  EXPECT_NEAR(price_logic(p, t, 2e6).parts[0].energy_pj, 2 * c.parts[0].energy_pj, 1e-15);
  // Leakage is paid per cycle: a slower clock costs more energy per inference.
  EXPECT_GT(price_logic(p, t, 1e6).energy_per_inference_pj,
            price_logic(p, t, 2e6).energy_per_inference_pj);
  EXPECT_NEAR(c.power_uw, c.energy_per_inference_pj * 1e-6 * 2e6, 1e-9);
}
