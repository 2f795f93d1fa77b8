// Technology tables and the RAMAN energy/area estimator: scaling rules on a hand-made table,
// validation errors, the bundled raman65 table, and the estimator's arithmetic (monotone in
// every count, leakage x time, area sums, power at a rate). The last test prints the estimate
// for synthetic ds_cae1-like counts beside the published RAMAN figures (docs/power-model.md).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "prune/errors.h"
#include "sim/raman_power.h"
#include "sim/tech.h"

using namespace prunesim;

namespace {

nlohmann::json small_table() {
  return nlohmann::json::parse(R"({
    "name": "t", "node_nm": 65, "voltage_v": 1.2,
    "scaling": {
      "energy": {"node_exp": 1, "voltage_exp": 2, "source": "s"},
      "area": {"node_exp": 2, "voltage_exp": 0, "source": "s"},
      "leakage": {"node_exp": 1, "voltage_exp": 3, "source": "s"}
    },
    "entries": {
      "e45": {"value": 1, "unit": "pJ", "node_nm": 45, "voltage_v": 0.9, "source": "x"},
      "efj": {"value": 500, "unit": "fJ/bit", "node_nm": 130, "voltage_v": 1.2, "source": "x"},
      "a45": {"value": 10, "unit": "um2", "node_nm": 45, "voltage_v": 0.9, "source": "x"},
      "amm": {"value": 0.5, "unit": "mm2", "source": "x"},
      "l40": {"value": 1, "unit": "nW", "node_nm": 40, "voltage_v": 0.6, "source": "x"},
      "cal": {"value": 2, "unit": "pJ", "node_nm": 45, "voltage_v": 0.9, "calibration": 1.5,
              "source": "x"},
      "fixed": {"value": 3, "unit": "pJ", "node_nm": 45, "voltage_v": 0.9, "scale": false,
                "source": "x"},
      "ratio": {"value": 0.4, "unit": "1", "node_nm": 45, "voltage_v": 0.9, "source": "x"}
    }
  })");
}

std::string raman65_path() {
  return tech_data_dir() + "/raman65.json";
}

// Throws and the message contains every fragment.
template <class F>
void expect_input_error(F f, std::initializer_list<std::string> fragments) {
  try {
    f();
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    std::string m = e.what();
    for (const auto& s : fragments) EXPECT_NE(m.find(s), std::string::npos) << m;
  }
}

// One ds_cae1-like inference on the default configuration (16 PEs, clusters of 4): numbers of
// the right order for the encoder (about 1e6 dense MACs, 60% skipped, ~6e4 cycles).
raman::RamanCounts synthetic_counts() {
  raman::RamanCounts c;
  raman::LayerCounts l;
  l.name = "enc";
  l.kind = "conv";
  l.mode = "broadcast";
  l.encoding = "balanced";
  l.cycles = 60000;
  l.macs_dense = 1200000;
  l.macs_executed = 480000;
  l.macs_skipped_zero = 300000;
  l.macs_skipped_pruned = 420000;
  l.acc_updates = 490000;
  l.broadcasts = 40000;
  l.act_reads = 60000;
  l.act_read_bytes = 60000;
  l.act_writes = 10000;
  l.act_write_bytes = 10000;
  l.weight_reads = 120000;
  l.weight_read_bits = 120000 * 32;
  l.decoder_steps = 480000;
  l.ppu_ops = 10000;
  l.zero_checks = 60000;
  l.pe_busy = 480000;
  l.pe_stalled = 200000;
  l.pe_gated = 16 * 60000 - 480000 - 200000;
  c.layers.push_back(l);
  c.dma_in_bytes = 9600;
  c.dma_out_bytes = 64;
  c.dma_in_cycles = 2400;
  c.dma_out_cycles = 16;
  c.total_cycles = l.cycles + c.dma_in_cycles + c.dma_out_cycles;
  return c;
}

}  // namespace

TEST(TechTable, ScalingFormulas) {
  TechTable t = parse_tech_table(small_table(), "mem.json");
  EXPECT_NEAR(t.get("e45"), (65.0 / 45) * std::pow(1.2 / 0.9, 2), 1e-12);
  EXPECT_EQ(t.entry("e45").canonical_unit, "pJ");
  EXPECT_NEAR(t.get("efj", "pJ/bit"), 0.5 * (65.0 / 130), 1e-12);
  EXPECT_NEAR(t.get("a45", "um2"), 10 * std::pow(65.0 / 45, 2), 1e-9);
  EXPECT_NEAR(t.get("amm", "um2"), 0.5e6, 1e-6);  // no node/voltage: the table's own, factor 1
  EXPECT_NEAR(t.get("l40", "uW"), 1e-3 * (65.0 / 40) * std::pow(1.2 / 0.6, 3), 1e-12);
  EXPECT_NEAR(t.get("cal"), 2 * 1.5 * (65.0 / 45) * std::pow(1.2 / 0.9, 2), 1e-12);
  EXPECT_NEAR(t.get("fixed"), 3, 1e-12);
  EXPECT_NEAR(t.get("ratio"), 0.4, 1e-12);  // dimensionless numbers never scale
  auto js = t.to_json();
  EXPECT_EQ(js["entries"]["e45"]["scaled_unit"], "pJ");
  EXPECT_NEAR(js["entries"]["e45"]["scaled_value"].get<double>(), t.get("e45"), 1e-12);
  ASSERT_EQ(t.calibrated().size(), 1u);
  EXPECT_EQ(t.calibrated()[0], "cal");
}

TEST(TechTable, ScalingExponentsComeFromTheFile) {
  auto j = small_table();
  j["scaling"]["energy"]["node_exp"] = 2;
  j["scaling"]["energy"]["voltage_exp"] = 1;
  TechTable t = parse_tech_table(j, "mem.json");
  EXPECT_NEAR(t.get("e45"), std::pow(65.0 / 45, 2) * (1.2 / 0.9), 1e-12);
}

TEST(TechTable, EntryWithoutSourceIsRejected) {
  auto j = small_table();
  j["entries"]["e45"].erase("source");
  expect_input_error([&] { parse_tech_table(j, "bad.json"); },
                     {"bad.json", "entry 'e45'", "source"});
  j["entries"]["e45"]["source"] = "  ";
  expect_input_error([&] { parse_tech_table(j, "bad.json"); }, {"entry 'e45'", "source"});
}

TEST(TechTable, UnknownUnitIsRejected) {
  auto j = small_table();
  j["entries"]["a45"]["unit"] = "furlong";
  expect_input_error([&] { parse_tech_table(j, "bad.json"); },
                     {"bad.json", "entry 'a45'", "unknown unit 'furlong'"});
}

TEST(TechTable, MalformedEntriesAreRejected) {
  auto j = small_table();
  j["entries"]["e45"]["valu"] = 3;
  expect_input_error([&] { parse_tech_table(j, "bad.json"); }, {"entry 'e45'", "'valu'"});
  j = small_table();
  j["entries"]["e45"]["value"] = "3";
  expect_input_error([&] { parse_tech_table(j, "bad.json"); }, {"entry 'e45'", "number"});
  j = small_table();
  j["entries"]["e45"]["calibration"] = 0;
  expect_input_error([&] { parse_tech_table(j, "bad.json"); }, {"entry 'e45'", "calibration"});
  j = small_table();
  j["entries"]["e45"]["value"] = -1;
  expect_input_error([&] { parse_tech_table(j, "bad.json"); }, {"entry 'e45'", ">= 0"});
  j = small_table();
  j["colour"] = "red";
  expect_input_error([&] { parse_tech_table(j, "bad.json"); }, {"key 'colour'", "unknown"});
  j = small_table();
  j["scaling"].erase("leakage");
  expect_input_error([&] { parse_tech_table(j, "bad.json"); }, {"entry 'l40'", "scaling"});
}

TEST(TechTable, MissingFileAndMissingEntry) {
  expect_input_error([] { load_tech_table("/nonexistent/x.json"); }, {"/nonexistent/x.json"});
  TechTable t = parse_tech_table(small_table(), "mem.json");
  expect_input_error([&] { t.get("nope"); }, {"mem.json", "entry 'nope'"});
  expect_input_error([&] { t.get("e45", "um2"); }, {"entry 'e45'", "um2"});
}

// One resolver for every architecture's `tech` parameter: a name is a table in the data folder,
// anything with a '/' or ending in .json is a path.
TEST(TechTable, TechParameterResolvesNamesAndPaths) {
  EXPECT_EQ(tech_table_path("raman65"), tech_data_dir() + "/raman65.json");
  EXPECT_EQ(tech_table_path("k26.json"), "k26.json");
  EXPECT_EQ(tech_table_path("../my/k26"), "../my/k26");
  const ParamSpec p = tech_param("k26", "table", "src");
  EXPECT_EQ(p.type, ParamSpec::Type::Text);
  EXPECT_EQ(p.def, "k26");
  EXPECT_GT(p.min, p.max);  // text: no range
  ParamValues v({p});
  EXPECT_EQ(load_tech_param(v).name, load_tech_table(tech_data_dir() + "/k26.json").name);
}

TEST(TechTable, NotJson) {
  std::string p = ::testing::TempDir() + "/bad_table.json";
  std::ofstream(p) << "{ \"name\": ";
  expect_input_error([&] { load_tech_table(p); }, {p, "JSON"});
  std::remove(p.c_str());
}

TEST(TechTable, Raman65LoadsAndEverythingHasASource) {
  TechTable t = load_tech_table(raman65_path());
  EXPECT_EQ(t.node_nm, 65);
  EXPECT_EQ(t.voltage_v, 1.2);
  EXPECT_GT(t.entries.size(), 30u);
  for (const auto& [k, e] : t.entries) {
    EXPECT_FALSE(e.source.empty()) << k;
    EXPECT_GT(e.source.size(), 20u) << k << ": a citation or a reasoned assumption";
    EXPECT_TRUE(std::isfinite(t.get(k))) << k;
  }
  EXPECT_TRUE(t.calibrated().empty()) << "docs/power-model.md says nothing is calibrated";
  // The estimator finds every entry it needs, in the unit it expects.
  EXPECT_NO_THROW(raman_unit_costs(raman::RamanConfig{}, t));
}

TEST(RamanPower, SramInterpolation) {
  TechTable t = load_tech_table(raman65_path());
  double s = t.scale_factor(t.entry("sram_read_8KB_64b"));
  EXPECT_NEAR(sram_read_pj(t, 8192, 64), 10 * s, 1e-9);
  EXPECT_NEAR(sram_read_pj(t, 32768, 64), 20 * s, 1e-9);
  EXPECT_NEAR(sram_read_pj(t, 16384, 64), std::sqrt(10.0 * 20.0) * s, 1e-9);  // log-log
  EXPECT_LT(sram_read_pj(t, 4096, 64), sram_read_pj(t, 8192, 64));
  EXPECT_LT(sram_read_pj(t, 16384, 8), sram_read_pj(t, 16384, 32));
  double f = t.get("sram_width_fixed_fraction");
  EXPECT_NEAR(sram_read_pj(t, 8192, 0), 10 * s * f, 1e-9);
}

TEST(RamanPower, EnergyRisesWithEveryActionCount) {
  TechTable t = load_tech_table(raman65_path());
  const raman::RamanCounts base = synthetic_counts();
  const double e0 = estimate_raman(base, t, 20).dynamic_j;
  int64_t raman::LayerCounts::*fields[] = {
      &raman::LayerCounts::macs_executed,    &raman::LayerCounts::acc_updates,
      &raman::LayerCounts::broadcasts,       &raman::LayerCounts::act_reads,
      &raman::LayerCounts::act_read_bytes,   &raman::LayerCounts::act_writes,
      &raman::LayerCounts::act_write_bytes,  &raman::LayerCounts::weight_reads,
      &raman::LayerCounts::weight_read_bits, &raman::LayerCounts::decoder_steps,
      &raman::LayerCounts::lfsr_steps,       &raman::LayerCounts::ppu_ops,
      &raman::LayerCounts::zero_checks,      &raman::LayerCounts::cycles,
      &raman::LayerCounts::pe_busy,          &raman::LayerCounts::pe_stalled,
      &raman::LayerCounts::pe_gated};
  int i = 0;
  for (auto f : fields) {
    raman::RamanCounts c = base;
    c.layers[0].*f += 1000;
    EXPECT_GT(estimate_raman(c, t, 20).dynamic_j, e0) << "field #" << i;
    ++i;
  }
  raman::RamanCounts c = base;
  c.dma_in_bytes += 1000;
  EXPECT_GT(estimate_raman(c, t, 20).dynamic_j, e0);
  // Clock gating pays: the same PE-cycles busy cost more than gated.
  c = base;
  c.layers[0].pe_gated -= 100000;
  c.layers[0].pe_stalled += 100000;
  EXPECT_GT(estimate_raman(c, t, 20).dynamic_j, e0);
}

TEST(RamanPower, LeakageTimesTime) {
  TechTable t = load_tech_table(raman65_path());
  raman::RamanCounts c = synthetic_counts();
  auto a = estimate_raman(c, t, 10);
  EXPECT_GT(a.leakage_w, 0);
  EXPECT_NEAR(a.leakage_j, a.leakage_w * a.latency_s, 1e-18);
  EXPECT_NEAR(a.latency_s, c.total_cycles / c.config.clock_hz, 1e-15);
  c.total_cycles *= 2;
  auto b = estimate_raman(c, t, 10);
  EXPECT_NEAR(b.leakage_j, 2 * a.leakage_j, 1e-15);
  EXPECT_NEAR(b.dynamic_j, a.dynamic_j, 1e-18);
  EXPECT_NEAR(b.leakage_w, a.leakage_w, 1e-15);
  // Each layer pays leakage over its own cycles.
  EXPECT_NEAR(a.layer_energy_j[0] - b.layer_energy_j[0], 0, 1e-18);
  EXPECT_GT(a.layer_energy_j[0], a.leakage_w * c.layers[0].cycles / c.config.clock_hz);
}

TEST(RamanPower, AreaSumsAndScalesWithMemory) {
  TechTable t = load_tech_table(raman65_path());
  raman::RamanCounts c = synthetic_counts();
  auto a = estimate_raman(c, t, 20);
  double sum = 0;
  for (const auto& x : a.components) {
    EXPECT_GE(x.area_mm2, 0) << x.name;
    sum += x.area_mm2;
  }
  EXPECT_NEAR(a.area_mm2, sum, 1e-12);
  auto u = raman_unit_costs(c.config, t);
  EXPECT_NEAR(a.component("pe_array")->area_mm2, 16 * u.pe_area_um2 * 1e-6, 1e-12);
  c.config.act_mem_bytes *= 2;
  auto b = estimate_raman(c, t, 20);
  EXPECT_NEAR(b.component("act_mem")->area_mm2, 2 * a.component("act_mem")->area_mm2, 1e-12);
  EXPECT_NEAR(b.component("act_mem")->leakage_w, 2 * a.component("act_mem")->leakage_w, 1e-15);
  EXPECT_NEAR(b.component("weight_mem")->area_mm2, a.component("weight_mem")->area_mm2, 1e-15);
  c.config.pe_count = 32;
  auto d = estimate_raman(c, t, 20);
  EXPECT_NEAR(d.component("pe_array")->area_mm2, 2 * a.component("pe_array")->area_mm2, 1e-12);
}

TEST(RamanPower, PowerAtRate) {
  TechTable t = load_tech_table(raman65_path());
  raman::RamanCounts c = synthetic_counts();
  for (double rate : {1.0, 20.0, 30.0}) {
    auto a = estimate_raman(c, t, rate);
    EXPECT_NEAR(a.power_w, a.dynamic_j * rate + a.leakage_w, 1e-15);
    EXPECT_EQ(a.rate_hz, rate);
  }
  // Faster than the core: the power is at the highest rate it reaches, back to back.
  auto f = estimate_raman(c, t, 1000);
  EXPECT_EQ(f.rate_asked_hz, 1000);
  EXPECT_NEAR(f.rate_hz, 1.0 / f.latency_s, 1e-9);
  EXPECT_LT(f.rate_hz, 1000);
  EXPECT_NEAR(f.power_w, f.dynamic_j / f.latency_s + f.leakage_w, 1e-15);
  expect_input_error([&] { estimate_raman(c, t, 0); }, {"--rate"});
}

TEST(RamanPower, CountsAreDividedByInferences) {
  TechTable t = load_tech_table(raman65_path());
  raman::RamanCounts one = synthetic_counts();
  raman::RamanCounts two = one;
  two.inferences = 2;
  auto& l = two.layers[0];
  for (auto f : {&raman::LayerCounts::cycles, &raman::LayerCounts::macs_executed,
                 &raman::LayerCounts::acc_updates, &raman::LayerCounts::broadcasts,
                 &raman::LayerCounts::act_reads, &raman::LayerCounts::act_read_bytes,
                 &raman::LayerCounts::act_writes, &raman::LayerCounts::act_write_bytes,
                 &raman::LayerCounts::weight_reads, &raman::LayerCounts::weight_read_bits,
                 &raman::LayerCounts::decoder_steps, &raman::LayerCounts::ppu_ops,
                 &raman::LayerCounts::zero_checks, &raman::LayerCounts::pe_busy,
                 &raman::LayerCounts::pe_stalled, &raman::LayerCounts::pe_gated})
    l.*f *= 2;
  for (auto f : {&raman::RamanCounts::dma_in_bytes, &raman::RamanCounts::dma_out_bytes,
                 &raman::RamanCounts::dma_in_cycles, &raman::RamanCounts::dma_out_cycles,
                 &raman::RamanCounts::total_cycles})
    two.*f *= 2;
  auto a = estimate_raman(one, t, 20), b = estimate_raman(two, t, 20);
  EXPECT_NEAR(a.latency_s, b.latency_s, 1e-15);
  EXPECT_NEAR(a.energy_j, b.energy_j, 1e-15);
  EXPECT_NEAR(a.layer_energy_j[0], b.layer_energy_j[0], 1e-15);
}

TEST(RamanPower, LayersAndComponentsAddUp) {
  TechTable t = load_tech_table(raman65_path());
  raman::RamanCounts c = synthetic_counts();
  raman::LayerCounts pool;
  pool.name = "pool";
  pool.kind = "maxpool";
  pool.mode = "none";
  pool.cycles = 3000;
  pool.act_reads = 3000;
  pool.act_read_bytes = 3000;
  pool.ppu_ops = 1500;
  pool.pe_gated = 16 * 3000;
  c.layers.push_back(pool);
  c.total_cycles += pool.cycles;
  auto a = estimate_raman(c, t, 20);
  ASSERT_EQ(a.layer_energy_j.size(), 2u);
  double layers = a.layer_energy_j[0] + a.layer_energy_j[1];
  // Outside the layers: the DMA transfers (their memory accesses, DMA logic, controller clock)
  // and leakage during them.
  double dma_cycles = c.dma_in_cycles + c.dma_out_cycles;
  EXPECT_LT(layers, a.energy_j);
  EXPECT_GT(layers + a.leakage_w * dma_cycles / c.config.clock_hz, 0.9 * a.energy_j);
  double comp = 0;
  for (const auto& x : a.components) {
    EXPECT_NEAR(x.energy_j, x.dynamic_j + x.leakage_j, 1e-18);
    comp += x.energy_j;
  }
  EXPECT_NEAR(comp, a.energy_j, 1e-15);
  auto j = a.to_json();
  for (const char* k : {"energy_j", "power_w", "area_mm2", "leakage_power_w", "latency_s",
                        "dynamic_energy_j", "rate_hz", "components", "layers"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["components"][0]["name"], "pe_array");
  EXPECT_TRUE(j["components"][0].contains("area_mm2"));
}

TEST(RamanPower, SparsityLowersEnergy) {
  TechTable t = load_tech_table(raman65_path());
  raman::RamanCounts dense = synthetic_counts();
  raman::RamanCounts sparse = dense;
  auto& l = sparse.layers[0];
  // Half the MACs and weight traffic, 40% fewer cycles; gated PE-cycles take up the slack.
  l.macs_executed /= 2;
  l.acc_updates /= 2;
  l.decoder_steps /= 2;
  l.weight_reads /= 2;
  l.weight_read_bits /= 2;
  l.pe_busy /= 2;
  l.cycles = l.cycles * 6 / 10;
  l.pe_stalled = l.pe_stalled * 6 / 10;
  l.pe_gated = 16 * l.cycles - l.pe_busy - l.pe_stalled;
  sparse.total_cycles = l.cycles + sparse.dma_in_cycles + sparse.dma_out_cycles;
  EXPECT_LT(estimate_raman(sparse, t, 20).energy_j, estimate_raman(dense, t, 20).energy_j);
}

// Not a check of correctness: prints the numbers docs/power-model.md discusses, and fails only
// if the estimate is absurd (more than 20x off the published figures either way).
TEST(RamanPower, PlausibilityAgainstPublishedRaman) {
  TechTable t = load_tech_table(raman65_path());
  raman::RamanCounts c = synthetic_counts();
  auto a = estimate_raman(c, t, 20);
  auto u = raman_unit_costs(c.config, t);
  const double channels = 96, pub_uw = 15.1, pub_mm2 = 0.0187;
  double uw_ch = a.power_w * 1e6 / channels, mm2_ch = a.area_mm2 / channels;
  std::printf(
      "unit costs at 65 nm / 1.2 V: mac %.3f pJ, acc update %.3f pJ, 16KB 8-bit read "
      "%.2f pJ, 16KB 32-bit read %.2f pJ, PE ungated clock %.3f pJ/cycle, gated %.4f "
      "pJ/cycle, ppu op %.2f pJ\n",
      u.mac_pj, u.acc_update_pj, u.act_read_access_pj + 8 * u.act_read_bit_pj,
      u.act_read_access_pj + 32 * u.act_read_bit_pj, u.pe_ungated_cycle_pj, u.pe_gated_cycle_pj,
      u.ppu_op_pj);
  std::printf(
      "leakage: logic %.2f nW/um2, SRAM %.2f pW/bit; PE area %.0f um2, 16 KB SRAM "
      "%.4f mm2\n",
      u.logic_leak_uw_per_um2 * 1e3, u.sram_leak_uw_per_bit * 1e6, u.pe_area_um2,
      u.act_mem_area_um2 * 1e-6);
  for (const auto& x : a.components)
    std::printf("  %-14s area %.4f mm2  dynamic %.3f uJ  leakage %.2f uW\n", x.name.c_str(),
                x.area_mm2, x.dynamic_j * 1e6, x.leakage_w * 1e6);
  std::printf(
      "synthetic ds_cae1: latency %.0f cycles (%.1f ms), dynamic %.3f uJ, leakage "
      "%.3f uW, power at 20/s %.1f uW = %.2f uW/ch (published 15.1, ratio %.2f); area "
      "%.3f mm2 = %.5f mm2/ch (published 0.0187, ratio %.2f)\n",
      a.latency_cycles, a.latency_s * 1e3, a.dynamic_j * 1e6, a.leakage_w * 1e6, a.power_w * 1e6,
      uw_ch, uw_ch / pub_uw, a.area_mm2, mm2_ch, mm2_ch / pub_mm2);
  EXPECT_GT(uw_ch / pub_uw, 0.05);
  EXPECT_LT(uw_ch / pub_uw, 20);
  EXPECT_GT(mm2_ch / pub_mm2, 0.05);
  EXPECT_LT(mm2_ch / pub_mm2, 20);
}
