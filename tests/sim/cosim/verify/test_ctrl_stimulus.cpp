// The controller block alone (rtl/raman/raman_ctrl.sv against RamanCtrlTwin) in the block
// lockstep bench with seeded random stimulus in the one stimulus format (cosim/stimulus.h), like
// every other block: a real program is written through the program port, then the inputs from
// the other blocks (activation bytes, decoder outputs, accumulator, requantized code) are random
// — zero activations weighted in — with start pulses and occasional resets, for 100,000 cycles.
// Every controller output is compared every cycle.
#include <gtest/gtest.h>

#include <random>

#include "Vraman_ctrl.h"
#include "common/raman_cases.h"
#include "cosim/lockstep.h"
#include "models/raman/core_net.h"
#include "models/raman/ctrl_twin.h"
#include "models/raman/rtl_image.h"

namespace prunesim::cosim {
namespace {

constexpr size_t kCycles = 100000;

struct CtrlBench : Bench {
  raman::CoreSignals a{"rtl_"}, b{"twin_"};
  Vraman_ctrl rtl{"rtl"};
  raman::RamanCtrlTwin twin{"twin"};

  CtrlBench(sc_core::sc_module_name n, const Stimulus& s) : Bench(n, s, "raman_ctrl") {
    a.clk = &clk;
    b.clk = &clk;
    raman::bind_ctrl(rtl, a);
    raman::bind_ctrl(twin, b);
    for (raman::CoreSignals* c : {&a, &b}) {
      player.drive("rst_n", c->rst_n);
      player.drive("pl_en", c->pl_en);
      player.drive("pl_sel", c->pl_sel);
      player.drive("pl_addr", c->pl_addr);
      player.drive("pl_data", c->pl_data);
      player.drive("start", c->start);
      player.drive("am_rd_data", c->am_rd_data);
      player.drive("pa_rd_acc", c->pa_rd_acc);
      player.drive("pa_mac_done", c->pa_mac_done);
      player.drive("dec_valid", c->dec_valid);
      player.drive("dec_slot", c->dec_slot);
      player.drive("dec_wgt", c->dec_wgt);
      player.drive("dec_last", c->dec_last);
      player.drive("rq_out_valid", c->rq_out_valid);
      player.drive("rq_out_q", c->rq_out_q);
    }
    // Outputs that pass inputs through are combinational: compare all of them just before the
    // rising edge, when row k's inputs and the registers of cycle k have settled.
#define PRUNESIM_W(name, width) check.watch(#name, a.name, b.name, Lockstep::kCombinational);
    PRUNESIM_CTRL_OUTPUTS(PRUNESIM_W)
#undef PRUNESIM_W
  }
};

// A real program (so the walk is over meaningful tables), random inputs from the datapath.
Stimulus ctrl_stimulus(const raman::RtlImage& img, uint32_t seed, size_t cycles) {
  Stimulus s("raman_ctrl", {{"rst_n", 1},
                            {"pl_en", 1},
                            {"pl_sel", 3},
                            {"pl_addr", 18},
                            {"pl_data", 32},
                            {"start", 1},
                            {"am_rd_data", 128},
                            {"pa_rd_acc", 32},
                            {"pa_mac_done", 16},
                            {"dec_valid", 16},
                            {"dec_slot", 48},
                            {"dec_wgt", 128},
                            {"dec_last", 4},
                            {"rq_out_valid", 1},
                            {"rq_out_q", 8}});
  std::mt19937_64 rng(seed);
  auto f = [&](const char* n) { return s.field(n); };
  size_t c = 0;
  auto row = [&](bool rst_n) {
    s.add_cycle();
    s.set(c, f("rst_n"), rst_n);
    return c++;
  };
  row(false);
  row(false);
  for (int t = 0; t < raman::kHin; ++t)
    for (size_t w = 0; w < img.tables[static_cast<size_t>(t)].size(); ++w) {
      const size_t k = row(true);
      s.set(k, f("pl_en"), 1);
      s.set(k, f("pl_sel"), static_cast<uint64_t>(t));
      s.set(k, f("pl_addr"), w);
      s.set(k, f("pl_data"), img.tables[static_cast<size_t>(t)][w]);
    }
  for (int64_t w = 0; w < (img.in_bytes() + 3) / 4; ++w) {
    const size_t k = row(true);
    s.set(k, f("pl_en"), 1);
    s.set(k, f("pl_sel"), raman::kHin);
    s.set(k, f("pl_addr"), static_cast<uint64_t>(w));
    s.set(k, f("pl_data"), rng() & 0xffffffffu);
  }
  while (c < cycles) {
    // A rare reset mid-run (the tables keep their contents), start offered often (it only acts
    // in IDLE).
    const size_t k = row(rng() % 20000 != 0);
    s.set(k, f("start"), rng() % 8 == 0);
    // Byte 0 is the broadcast activation: zero half the time (zero skipping).
    for (size_t w = 0; w < 2; ++w) s.set(k, f("am_rd_data"), rng(), w);
    if (rng() % 2) s.set(k, f("am_rd_data"), s.get(k, f("am_rd_data")) & ~uint64_t{0xff});
    s.set(k, f("pa_rd_acc"), rng());
    s.set(k, f("pa_mac_done"), rng());
    s.set(k, f("dec_valid"), rng());
    s.set(k, f("dec_slot"), rng());
    for (size_t w = 0; w < 2; ++w) s.set(k, f("dec_wgt"), rng(), w);
    s.set(k, f("dec_last"), rng());
    s.set(k, f("rq_out_valid"), rng() % 2);
    s.set(k, f("rq_out_q"), rng());
  }
  return s;
}

struct Prog {
  const char* model;
  const char* scheme;
  double sparsity;
  const char* encoding;
  const char* variant;
};

// Test listings show the case, not the struct's bytes.
void PrintTo(const Prog& p, std::ostream* os) {
  *os << p.model << " " << p.scheme << " " << p.sparsity << " " << p.encoding << "/" << p.variant;
}

class CtrlStimulus : public ::testing::TestWithParam<Prog> {};

TEST_P(CtrlStimulus, RtlMatchesTwinOnRandomDatapathInputs) {
  const Prog p = GetParam();
  const SimInput in = test::zoo_case(p.model, p.scheme, p.sparsity, p.encoding, p.variant);
  const raman::RamanProgram prog = raman::compile(
      in.model, in.summary, in.masks, raman::RamanConfig::from(in.params), in.tables_path);
  const raman::RtlImage img = raman::build_rtl_image(prog);
  const Stimulus s = ctrl_stimulus(img, 17, kCycles);
  CtrlBench bench("ctrl", s);
  // Agreement means something only if the controller works: count busy cycles, act-memory
  // reads, decoder loads and drains.
  uint64_t busy = 0, reads = 0, loads = 0, drains = 0;
  bench.on_settled = [&](uint64_t) {
    busy += bench.b.busy.read();
    reads += bench.b.am_rd_en.read();
    loads += bench.b.dec_load.read();
    drains += bench.b.rq_in_valid.read();
  };
  sc_core::sc_start();
  const Divergence d = bench.check.divergence();
  EXPECT_FALSE(d.found) << d.message();
  EXPECT_EQ(bench.cycles_run, kCycles);
  EXPECT_GT(busy, kCycles / 3);
  EXPECT_GT(reads, 1000u);
  EXPECT_GT(drains, 100u);
  EXPECT_GT(loads, 100u);
}

INSTANTIATE_TEST_SUITE_P(
    Programs, CtrlStimulus,
    ::testing::Values(Prog{"ds_cae1/encoder.onnx", "balanced", 0.5, "balanced", "lfsr"},
                      Prog{"fmnist_dscnn/fmnist_dscnn.onnx", "magnitude", 0.6, "csr", "pattern"}),
    [](const ::testing::TestParamInfo<Prog>& i) {
      return test::zoo_short_name(i.param.model) + "_" + i.param.encoding;
    });

}  // namespace
}  // namespace prunesim::cosim
