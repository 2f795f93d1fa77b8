// Co-simulation of the rtl/raman/ blocks against their SystemC twins (sim/cosim): each block
// runs 100,000 cycles of seeded random stimulus in lockstep, RTL == twin every cycle; the
// deliberately broken variants (-DBREAK_CARRY, -DBREAK_DECODER_ORDER) must be caught at the
// cycle the test predicts from the stimulus, naming the block and signal. One bench per test:
// SystemC elaborates once per process (gtest_discover_tests runs each test alone).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "Vraman_act_mem.h"
#include "Vraman_decoder.h"
#include "Vraman_decoder_broken.h"
#include "Vraman_pe.h"
#include "Vraman_pe_array.h"
#include "Vraman_requant.h"
#include "Vraman_requant_broken.h"
#include "cosim/benches.h"
#include "verilated_fst_sc.h"

namespace prunesim::cosim {
namespace {

constexpr size_t kCycles = 100000;

template <class B>
Divergence run(B& bench, double* seconds = nullptr) {
  const auto t0 = std::chrono::steady_clock::now();
  sc_core::sc_start();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (seconds) *seconds = s;
  std::printf("[ cosim    ] %s: %llu cycles in %.2f s (%.0f cycles/s)\n",
              bench.check.block().c_str(), static_cast<unsigned long long>(bench.cycles_run), s,
              bench.cycles_run / s);
  return bench.check.divergence();
}

TEST(Cosim, PeRtlMatchesTwin) {
  const Stimulus s = pe_stimulus(1, kCycles);
  PeBench<Vraman_pe> b("b", s);
  // Agreement only means something if the outputs move: count MACs and distinct drain values.
  uint64_t macs = 0;
  std::set<uint32_t> drained;
  b.on_cycle = [&](uint64_t) {
    macs += b.o_rtl.mac_done.read();
    drained.insert(b.o_rtl.rd_acc.read());
  };
  const Divergence d = run(b);
  EXPECT_FALSE(d.found) << d.message();
  EXPECT_EQ(b.cycles_run, kCycles);
  EXPECT_GT(macs, kCycles / 3);
  EXPECT_GT(drained.size(), kCycles / 4);
}

TEST(Cosim, RequantRtlMatchesTwin) {
  const Stimulus s = requant_stimulus(2, kCycles);
  RequantBench<Vraman_requant> b("b", s);
  std::set<uint32_t> codes;
  b.on_cycle = [&](uint64_t) {
    if (b.o_rtl.out_valid.read()) codes.insert(b.o_rtl.out_q.read());
  };
  const Divergence d = run(b);
  EXPECT_FALSE(d.found) << d.message();
  EXPECT_EQ(b.cycles_run, kCycles);
  EXPECT_EQ(codes.size(), 256u);  // every int8 code produced
}

TEST(Cosim, DecoderRtlMatchesTwin) {
  const Stimulus s = decoder_stimulus(3, kCycles);
  DecoderBench<Vraman_decoder> b("b", s);
  uint64_t entries = 0, groups = 0;
  b.on_cycle = [&](uint64_t) {
    entries += static_cast<uint64_t>(__builtin_popcount(b.o_rtl.valid.read()));
    groups += b.o_rtl.last.read();
  };
  const Divergence d = run(b);
  EXPECT_FALSE(d.found) << d.message();
  EXPECT_EQ(b.cycles_run, kCycles);
  EXPECT_GT(entries, kCycles);  // several PEs busy per cycle on average
  EXPECT_GT(groups, kCycles / 10);
}

TEST(Cosim, PeArrayRtlMatchesTwin) {
  const Stimulus s = pe_array_stimulus(5, kCycles);
  PeArrayBench<Vraman_pe_array> b("b", s);
  uint64_t macs = 0;
  std::set<uint32_t> drained;
  b.on_cycle = [&](uint64_t) {
    macs += static_cast<uint64_t>(__builtin_popcount(b.o_rtl.mac_done.read()));
    drained.insert(b.o_rtl.rd_acc.read());
  };
  const Divergence d = run(b);
  EXPECT_FALSE(d.found) << d.message();
  EXPECT_EQ(b.cycles_run, kCycles);
  EXPECT_GT(macs, 3 * kCycles);  // several of the 16 PEs fire per cycle
  EXPECT_GT(drained.size(), kCycles / 4);
}

TEST(Cosim, ActMemRtlMatchesTwin) {
  const Stimulus s = act_mem_stimulus(6, kCycles);
  ActMemBench<Vraman_act_mem> b("b", s);
  uint64_t nonzero_reads = 0, overlaps = 0, conflicts = 0;
  b.on_cycle = [&](uint64_t) {
    nonzero_reads += b.o_rtl.rd_data.read().or_reduce();
    overlaps += b.o_rtl.overlap_err.read();
    conflicts += b.o_rtl.port_conflict.read();
  };
  const Divergence d = run(b);
  EXPECT_FALSE(d.found) << d.message();
  EXPECT_EQ(b.cycles_run, kCycles);
  EXPECT_GT(nonzero_reads, kCycles / 2);  // reads return written data
  EXPECT_GT(overlaps, 1000u);             // the guard fires and is cleared by reset
  EXPECT_LT(overlaps, kCycles - 1000);
  EXPECT_GT(conflicts, 1000u);
  EXPECT_LT(conflicts, kCycles - 1000);
}

// Simulation speed of each language alone (the same model on both sides of the bench, so the
// checker compares it with itself): the figures the bench asks for, printed per run.
TEST(Cosim, SpeedPeArrayRtlOnly) {
  const Stimulus s = pe_array_stimulus(5, kCycles);
  PeArrayBench<Vraman_pe_array, Vraman_pe_array> b("b", s);
  EXPECT_FALSE(run(b).found);
}

TEST(Cosim, SpeedPeArrayTwinOnly) {
  const Stimulus s = pe_array_stimulus(5, kCycles);
  PeArrayBench<raman::RamanPeArrayTwin, raman::RamanPeArrayTwin> b("b", s);
  EXPECT_FALSE(run(b).found);
}

// The stimulus exercises what it should: every decoder format with multi-entry groups, MACs
// that fire and are skipped, requantizations with ties (checked on the twin, which the RTL
// equals every cycle in the tests above).
TEST(Cosim, StimulusCoversCornerCases) {
  const Stimulus d = decoder_stimulus(3, 20000);
  int loads[4] = {0, 0, 0, 0};
  for (size_t c = 0; c < d.cycles(); ++c)
    if (d.get(c, 1) && d.get(c, 0)) ++loads[d.get(c, 2)];
  for (int f = 0; f < 4; ++f) EXPECT_GT(loads[f], 500) << "format " << f;
  const Stimulus q = requant_stimulus(2, 20000);
  int neg_ties = 0;
  for (size_t c = 0; c < q.cycles(); ++c) {
    const auto acc = static_cast<int32_t>(q.get(c, 3));
    const int64_t p = static_cast<int64_t>(acc) * static_cast<int64_t>(q.get(c, 4));
    const int sh = static_cast<int>(q.get(c, 5));
    if (p < 0 && (-p & ((int64_t{1} << sh) - 1)) == (int64_t{1} << (sh - 1))) ++neg_ties;
  }
  EXPECT_GT(neg_ties, 100);
}

// The worked examples of docs/quantization.md §6 through the RTL, independent of the twin.
TEST(Cosim, RequantRtlReproducesDocExamples) {
  struct Case {
    int32_t acc;
    uint32_t mult, shift;
    int expect;
  };
  const Case cases[] = {
      {12645, 1759218622, 40, 20},    {-12645, 1759218622, 40, -20}, {80000, 1759218622, 40, 127},
      {-80000, 1759218622, 40, -128}, {6, 1u << 30, 32, 2},          {-6, 1u << 30, 32, -2},
      {10, 1u << 30, 32, 3},          {-10, 1u << 30, 32, -3},       {2, 1u << 30, 32, 1},
      {-1, 1u << 30, 32, 0},          {255, 1u << 30, 31, 127},      {-257, 1u << 30, 31, -128},
      {-255, 1u << 30, 31, -128}};
  const size_t n = sizeof(cases) / sizeof(cases[0]);
  Stimulus s("raman_requant", {{"rst_n", 1},
                               {"in_valid", 1},
                               {"bypass", 1},
                               {"acc", 32},
                               {"mult", 31},
                               {"shift", 6},
                               {"act_min", 8},
                               {"act_max", 8}});
  // Row 0 holds reset; row i + 1 carries case i, whose result the edge of row i + 1 registers.
  for (size_t c = 0; c < n + 1; ++c) {
    s.add_cycle();
    const Case& k = cases[c == 0 ? 0 : c - 1];
    s.set(c, 0, c > 0);
    s.set(c, 1, 1);
    s.set(c, 3, static_cast<uint32_t>(k.acc));
    s.set(c, 4, k.mult);
    s.set(c, 5, k.shift);
    s.set(c, 6, 0x80);  // no clamp: [-128, 127]
    s.set(c, 7, 0x7f);
  }
  RequantBench<Vraman_requant> b("b", s);
  std::vector<int> got;
  b.on_cycle = [&](uint64_t c) {
    if (c >= 1) got.push_back(static_cast<int8_t>(b.o_rtl.out_q.read() & 0xffu));
  };
  const Divergence d = run(b);
  EXPECT_FALSE(d.found) << d.message();
  ASSERT_EQ(got.size(), n);
  for (size_t i = 0; i < n; ++i)
    EXPECT_EQ(got[i], cases[i].expect) << "acc " << cases[i].acc << " shift " << cases[i].shift;
}

// -DBREAK_CARRY drops the -1 of negative products: the first valid, non-bypass row whose
// product is a negative tie (and whose result is not clamped away) diverges, and nothing before.
TEST(Cosim, BrokenRequantIsCaughtAtFirstNegativeTie) {
  const Stimulus s = requant_stimulus(2, kCycles);
  uint64_t predicted = 0;
  bool found = false;
  for (size_t c = 0; c < s.cycles() && !found; ++c) {
    if (!s.get(c, 0) || !s.get(c, 1) || s.get(c, 2)) continue;
    const auto acc = static_cast<int32_t>(s.get(c, 3));
    const auto m = static_cast<uint32_t>(s.get(c, 4)), sh = static_cast<uint32_t>(s.get(c, 5));
    const int8_t good = raman::RamanRequantTwin::compute(false, static_cast<uint32_t>(acc), m, sh,
                                                         static_cast<uint32_t>(s.get(c, 6)),
                                                         static_cast<uint32_t>(s.get(c, 7)));
    // The broken rounding: (p + 2^(sh-1)) >> sh for every sign.
    const int64_t p = static_cast<int64_t>(acc) * m;
    const int64_t r = (p + (int64_t{1} << (sh - 1))) >> sh;
    const int8_t bad = hls::clamp8(hls::sat8(r), static_cast<int8_t>(s.get(c, 6)),
                                   static_cast<int8_t>(s.get(c, 7)));
    if (good != bad) {
      predicted = c;
      found = true;
    }
  }
  ASSERT_TRUE(found) << "stimulus has no negative tie";
  RequantBench<Vraman_requant_broken> b("b", s);
  const Divergence d = run(b);
  ASSERT_TRUE(d.found);
  std::printf("[ cosim    ] %s\n", d.message().c_str());
  EXPECT_EQ(d.block, "raman_requant");
  EXPECT_EQ(d.signal, "out_q");
  EXPECT_EQ(d.cycle, predicted);
  EXPECT_LT(d.cycle, 2000u);               // the tie-heavy stimulus reaches one early
  EXPECT_EQ(b.cycles_run, predicted + 1);  // stopped at the first divergence
}

// -DBREAK_DECODER_ORDER yields mask-format slots highest first: the first load of a dense,
// bitmap or pattern group in which some PE has two or more slots diverges on that load's edge.
TEST(Cosim, BrokenDecoderIsCaughtAtFirstMultiSlotGroup) {
  const Stimulus s = decoder_stimulus(3, kCycles);
  uint64_t predicted = 0;
  bool found = false;
  for (size_t c = 0; c < s.cycles() && !found; ++c) {
    if (!s.get(c, 0) || !s.get(c, 1)) continue;
    const uint32_t fmt = static_cast<uint32_t>(s.get(c, 2));
    const uint32_t bits = static_cast<uint32_t>(s.get(c, 3));
    if (fmt == 2) continue;
    for (int p = 0; p < 4 && !found; ++p) {
      const uint32_t m = fmt == 3 ? (bits & 0xffu) : (bits >> (8 * p)) & 0xffu;
      if (__builtin_popcount(m) >= 2) {
        predicted = c;
        found = true;
      }
    }
  }
  ASSERT_TRUE(found);
  DecoderBench<Vraman_decoder_broken> b("b", s);
  const Divergence d = run(b);
  ASSERT_TRUE(d.found);
  std::printf("[ cosim    ] %s\n", d.message().c_str());
  EXPECT_EQ(d.block, "raman_decoder");
  EXPECT_EQ(d.signal, "slot");
  EXPECT_EQ(d.cycle, predicted);
  EXPECT_LT(d.cycle, 100u);
}

// Mixed mode degenerate case: the twin on both sides must agree with itself (the harness adds
// no divergence of its own), and the stimulus survives its text form.
TEST(Cosim, TwinAgainstTwinAndTextRoundTrip) {
  const Stimulus s = decoder_stimulus(7, 2000);
  std::stringstream text;
  s.write(text);
  const Stimulus back = Stimulus::read(text, "round-trip");
  EXPECT_TRUE(back == s);
  DecoderBench<raman::RamanDecoderTwin> b("b", back);
  const Divergence d = run(b);
  EXPECT_FALSE(d.found) << d.message();
  EXPECT_EQ(b.cycles_run, 2000u);
}

TEST(Cosim, StimulusTextErrorsNameTheLine) {
  std::stringstream bad("# prunesim stimulus v1 raman_pe\nfields a:1 b:8\n1 zz\n");
  try {
    Stimulus::read(bad, "x.stim");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("x.stim: line 3: field 'b'"), std::string::npos)
        << e.what();
  }
}

// FST of the RTL's internals (Verilator) and VCD of the bench's ports, both implementations.
TEST(Cosim, TracesAreWritten) {
  Verilated::traceEverOn(true);
  const Stimulus s = pe_stimulus(4, 500);
  PeBench<Vraman_pe> b("b", s);
  const std::string base = ::testing::TempDir() + "cosim_pe_trace";
  ASSERT_TRUE(b.trace_vcd(base));
  sc_core::sc_start(sc_core::SC_ZERO_TIME);
  VerilatedFstSc fst;
  b.rtl.trace(&fst, 99);
  fst.open((base + ".fst").c_str());
  const Divergence d = run(b);
  fst.close();
  EXPECT_FALSE(d.found) << d.message();
  std::ifstream f1(base + ".fst", std::ios::binary | std::ios::ate);
  std::ifstream f2(base + ".vcd", std::ios::binary | std::ios::ate);
  EXPECT_GT(static_cast<long>(f1.tellg()), 1000);
  EXPECT_GT(static_cast<long>(f2.tellg()), 1000);
}

}  // namespace
}  // namespace prunesim::cosim
