// Co-simulation of the rtl/raman/ blocks against their SystemC twins (sim/cosim): each block
// runs 100,000 cycles of seeded random stimulus in lockstep, RTL == twin every cycle; the
// deliberately broken variants (-DBREAK_CARRY, -DBREAK_DECODER_ORDER) must be caught at the
// cycle the test predicts from the stimulus, naming the block and signal. Directed tests pin
// the semantics the twins could share a mistake in (requant examples, max op, lane mode, the
// cycle of the combinational drain read). One bench per test: SystemC elaborates once per
// process (gtest_discover_tests runs each test alone). Cycle convention: cosim/lockstep.h.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "Vraman_act_mem.h"
#include "Vraman_decoder.h"
#include "Vraman_pe.h"
#include "Vraman_pe_array.h"
#include "Vraman_requant.h"
#include "cosim/benches.h"
#include "verilated_fst_sc.h"
#if PRUNESIM_BROKEN_RTL  // CMake option: the broken variants are Verilated only when it is on
#include "Vraman_decoder_broken.h"
#include "Vraman_requant_broken.h"
#endif

namespace prunesim::cosim {
namespace {

constexpr size_t kCycles = 100000;

template <class B>
Divergence run(B& bench) {
  const auto t0 = std::chrono::steady_clock::now();
  sc_core::sc_start();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
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
  b.on_settled = [&](uint64_t) { drained.insert(b.o_rtl.rd_acc.read()); };
  b.on_cycle = [&](uint64_t) { macs += b.o_rtl.mac_done.read(); };
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
  uint64_t idle = 0, idle_nonzero = 0;
  b.on_settled = [&](uint64_t) {
    if (b.o_rtl.out_valid.read()) {
      codes.insert(b.o_rtl.out_q.read());
    } else {
      ++idle;
      idle_nonzero += b.o_rtl.out_q.read() != 0;
    }
  };
  const Divergence d = run(b);
  EXPECT_FALSE(d.found) << d.message();
  EXPECT_EQ(b.cycles_run, kCycles);
  EXPECT_EQ(codes.size(), 256u);  // every int8 code produced
  EXPECT_GT(idle, kCycles / 20);
  EXPECT_EQ(idle_nonzero, 0u);  // out_q is 0 without in_valid (the RTL itself, not the twin)
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
  b.on_settled = [&](uint64_t) { drained.insert(b.o_rtl.rd_acc.read()); };
  b.on_cycle = [&](uint64_t) {
    macs += static_cast<uint64_t>(__builtin_popcount(b.o_rtl.mac_done.read()));
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

// The stimulus exercises what it should: every decoder format with multi-entry groups,
// requantizations with ties and invalid rows with illegal shifts, max operations on negative
// and zero activations, lane issues with zero lane bytes and garbage on the ignored
// activation input (checked on the stimulus; the RTL equals the twin every cycle above).
TEST(Cosim, StimulusCoversCornerCases) {
  const Stimulus d = decoder_stimulus(3, 20000);
  int loads[4] = {0, 0, 0, 0};
  for (size_t c = 0; c < d.cycles(); ++c)
    if (d.get(c, 1) && d.get(c, 0)) ++loads[d.get(c, 2)];
  for (int f = 0; f < 4; ++f) EXPECT_GT(loads[f], 500) << "format " << f;

  const Stimulus q = requant_stimulus(2, 20000);
  const size_t q_valid = q.field("in_valid"), q_acc = q.field("acc"), q_mult = q.field("mult"),
               q_shift = q.field("shift");
  int neg_ties = 0, bad_shift_idle = 0;
  for (size_t c = 0; c < q.cycles(); ++c) {
    const int sh = static_cast<int>(q.get(c, q_shift));
    if (!q.get(c, q_valid)) {
      bad_shift_idle += sh == 0 || sh == 63;
      continue;
    }
    const auto acc = static_cast<int32_t>(q.get(c, q_acc));
    const int64_t p = static_cast<int64_t>(acc) * static_cast<int64_t>(q.get(c, q_mult));
    if (p < 0 && (-p & ((int64_t{1} << sh) - 1)) == (int64_t{1} << (sh - 1))) ++neg_ties;
  }
  EXPECT_GT(neg_ties, 100);
  EXPECT_GT(bad_shift_idle, 100);

  // PE: operations that fire (reset high, gate, valid, no init) by kind.
  const Stimulus e = pe_stimulus(1, 20000);
  const size_t e_rst = e.field("rst_n"), e_gate = e.field("gate_en"), e_init = e.field("init"),
               e_valid = e.field("mac_valid"), e_max = e.field("op_max"), e_act = e.field("act"),
               e_wgt = e.field("wgt");
  int max_neg = 0, max_zero = 0, max_zero_wgt = 0, mac_skip = 0, mac_fire = 0;
  for (size_t c = 0; c < e.cycles(); ++c) {
    if (!e.get(c, e_rst) || !e.get(c, e_gate) || e.get(c, e_init) || !e.get(c, e_valid)) continue;
    const auto a = static_cast<int8_t>(e.get(c, e_act));
    const bool wz = e.get(c, e_wgt) == 0;
    if (e.get(c, e_max)) {
      max_neg += a < 0;
      max_zero += a == 0;
      max_zero_wgt += wz;
    } else if (a == 0 || wz) {
      ++mac_skip;
    } else {
      ++mac_fire;
    }
  }
  EXPECT_GT(max_neg, 1000);
  EXPECT_GT(max_zero, 300);
  EXPECT_GT(max_zero_wgt, 300);
  EXPECT_GT(mac_skip, 2000);
  EXPECT_GT(mac_fire, 5000);

  // PE array: lane issues (some valid lane with a zero byte, garbage on act), lane max.
  const Stimulus a = pe_array_stimulus(5, 20000);
  const size_t a_lane = a.field("lane"), a_la = a.field("lane_act"), a_act = a.field("act"),
               a_max = a.field("op_max"), a_valid = a.field("mac_valid");
  int lane_zero = 0, lane_garbage_act = 0, lane_max = 0, bc_garbage_lane = 0;
  for (size_t c = 0; c < a.cycles(); ++c) {
    const uint64_t valid = a.get(c, a_valid);
    if (!a.get(c, a_lane)) {
      bc_garbage_lane += (a.get(c, a_la, 0) | a.get(c, a_la, 1)) != 0;
      continue;
    }
    lane_garbage_act += a.get(c, a_act) != 0;
    lane_max += a.get(c, a_max) && valid != 0;
    for (int p = 0; p < 16; ++p) {
      if (((valid >> p) & 1u) && ((a.get(c, a_la, p / 8) >> (8 * (p % 8))) & 0xffu) == 0) {
        ++lane_zero;
        break;
      }
    }
  }
  EXPECT_GT(lane_zero, 1000);
  EXPECT_GT(lane_garbage_act, 1000);
  EXPECT_GT(lane_max, 1000);
  EXPECT_GT(bc_garbage_lane, 1000);
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
  Stimulus s = requant_stimulus(0, 0);  // the block's fields, no rows
  const size_t f_valid = s.field("in_valid"), f_acc = s.field("acc"), f_mult = s.field("mult"),
               f_shift = s.field("shift"), f_lo = s.field("act_min"), f_hi = s.field("act_max");
  // Row i carries case i, whose result is out_q in cycle i (combinational). A last row repeats
  // the last case without in_valid: out_q must drop to 0 in that very cycle.
  for (size_t c = 0; c < n + 1; ++c) {
    s.add_cycle();
    const Case& k = cases[c < n ? c : n - 1];
    s.set(c, f_valid, c < n);
    s.set(c, f_acc, static_cast<uint32_t>(k.acc));
    s.set(c, f_mult, k.mult);
    s.set(c, f_shift, k.shift);
    s.set(c, f_lo, 0x80);  // no clamp: [-128, 127]
    s.set(c, f_hi, 0x7f);
  }
  RequantBench<Vraman_requant> b("b", s);
  std::vector<int> got;
  std::vector<bool> valid;
  b.on_settled = [&](uint64_t) {
    got.push_back(static_cast<int8_t>(b.o_rtl.out_q.read() & 0xffu));
    valid.push_back(b.o_rtl.out_valid.read());
  };
  const Divergence d = run(b);
  EXPECT_FALSE(d.found) << d.message();
  ASSERT_EQ(got.size(), n + 1);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(valid[i]);
    EXPECT_EQ(got[i], cases[i].expect) << "acc " << cases[i].acc << " shift " << cases[i].shift;
  }
  EXPECT_FALSE(valid[n]);
  EXPECT_EQ(got[n], 0);
}

// The max operation and the combinational drain read of one PE, independent of the twin: a
// max-pool window from -128 (no zero skip, wgt ignored), then MACs on another slot, each read
// in the cycle of its rd_slot. rd_acc in cycle k shows the registers of cycle k: an operation
// in row k is visible from cycle k + 1 on; mac_done of row k is compared after edge k.
TEST(Cosim, PeRtlMaxAndCombinationalRead) {
  struct Row {
    int rst_n, gate, init, valid, op_max, slot, act, wgt, rd;
    int64_t rd_acc;  // expected rd_acc in this cycle (int32)
    int done;        // expected mac_done after this row's edge
  };
  // Biases: slot 0 -128, slot 1 -5, slot 2 100, slot 3 INT32_MAX, slots 4..7 0.
  const int32_t bias[8] = {-128, -5, 100, INT32_MAX, 0, 0, 0, 0};
  const Row rows[] = {
      {0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},            // reset
      {1, 1, 1, 1, 1, 0, 5, 5, 0, 0, 0},            // init (wins over the max): slot 0 = -128 after
      {1, 1, 0, 1, 1, 0, -5, 0, 0, -128, 1},        // max(-128, -5), wgt 0 ignored
      {1, 1, 0, 1, 1, 0, -100, 7, 0, -5, 1},        // max(-5, -100) keeps -5, still an operation
      {1, 1, 0, 1, 1, 0, 0, 3, 0, -5, 1},           // max(-5, 0) = 0: no zero skip
      {1, 1, 0, 1, 1, 2, 127, 0, 0, 0, 1},          // max(100, 127) on slot 2
      {1, 1, 0, 1, 0, 2, 3, 0, 2, 127, 0},          // MAC with wgt 0: skipped
      {1, 1, 0, 1, 0, 2, 3, -2, 2, 127, 1},         // MAC: 127 + 3 * -2
      {1, 1, 0, 0, 1, 2, 0, 0, 2, 121, 0},          // no operation
      {1, 1, 0, 1, 1, 3, -1, 0, 1, -5, 1},          // max(INT32_MAX, -1) on slot 3
      {1, 0, 0, 1, 1, 1, 127, 0, 3, INT32_MAX, 0},  // gated: no max on slot 1
      {1, 1, 0, 1, 1, 1, -128, 0, 1, -5, 1},        // max(-5, -128) keeps -5
      {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},            // slot 0 still 0
  };
  const size_t n = sizeof(rows) / sizeof(rows[0]);
  Stimulus s = pe_stimulus(0, 0);
  const size_t f_rst = s.field("rst_n"), f_gate = s.field("gate_en"), f_init = s.field("init"),
               f_bias = s.field("init_bias"), f_valid = s.field("mac_valid"),
               f_max = s.field("op_max"), f_slot = s.field("mac_slot"), f_act = s.field("act"),
               f_wgt = s.field("wgt"), f_rd = s.field("rd_slot");
  for (size_t c = 0; c < n; ++c) {
    const Row& r = rows[c];
    s.add_cycle();
    s.set(c, f_rst, r.rst_n);
    s.set(c, f_gate, r.gate);
    s.set(c, f_init, r.init);
    for (size_t w = 0; w < 4; ++w)
      s.set(c, f_bias,
            static_cast<uint32_t>(bias[2 * w]) |
                static_cast<uint64_t>(static_cast<uint32_t>(bias[2 * w + 1])) << 32,
            w);
    s.set(c, f_valid, r.valid);
    s.set(c, f_max, r.op_max);
    s.set(c, f_slot, r.slot);
    s.set(c, f_act, static_cast<uint8_t>(r.act));
    s.set(c, f_wgt, static_cast<uint8_t>(r.wgt));
    s.set(c, f_rd, r.rd);
  }
  PeBench<Vraman_pe> b("b", s);
  std::vector<int64_t> rd;
  std::vector<int> done;
  b.on_settled = [&](uint64_t) { rd.push_back(static_cast<int32_t>(b.o_rtl.rd_acc.read())); };
  b.on_cycle = [&](uint64_t) { done.push_back(b.o_rtl.mac_done.read()); };
  const Divergence d = run(b);
  EXPECT_FALSE(d.found) << d.message();
  ASSERT_EQ(rd.size(), n);
  ASSERT_EQ(done.size(), n);
  for (size_t c = 0; c < n; ++c) {
    EXPECT_EQ(rd[c], rows[c].rd_acc) << "cycle " << c;
    EXPECT_EQ(done[c], rows[c].done) << "cycle " << c;
  }
}

// Lane mode of the PE array, independent of the twin: a depthwise MAC with per-PE activations
// (zero bytes skip, the broadcast act is ignored), a broadcast MAC, a lane max with no zero
// skip, then every PE's two slots read through the combinational drain port.
TEST(Cosim, PeArrayRtlLaneMode) {
  Stimulus s = pe_array_stimulus(0, 0);
  const size_t f_rst = s.field("rst_n"), f_gate = s.field("gate_en"), f_init = s.field("init"),
               f_bias = s.field("init_bias"), f_act = s.field("act"), f_lane = s.field("lane"),
               f_la = s.field("lane_act"), f_max = s.field("op_max"),
               f_valid = s.field("mac_valid"), f_slot = s.field("mac_slot"), f_wgt = s.field("wgt"),
               f_rd_pe = s.field("rd_pe"), f_rd_slot = s.field("rd_slot");
  auto bytes = [](int (*f)(int)) {  // 16 bytes, byte p = f(p), as two 64-bit words
    uint64_t w[2] = {0, 0};
    for (int p = 0; p < 16; ++p)
      w[p / 8] |= static_cast<uint64_t>(static_cast<uint8_t>(f(p))) << (8 * (p % 8));
    return std::pair<uint64_t, uint64_t>(w[0], w[1]);
  };
  auto row = [&](int rst, int init, int lane, int op_max, int act, int (*la)(int), int (*wg)(int),
                 uint64_t slot_all, int rd_pe, int rd_slot) {
    const size_t c = s.cycles();
    s.add_cycle();
    s.set(c, f_rst, rst);
    s.set(c, f_gate, 0xffff);
    s.set(c, f_init, init);
    if (init) {  // slot 2 of every PE = -128 (max-pool init), every other slot 0
      for (int p = 0; p < 16; ++p) {
        const int bit = (p * 8 + 2) * 32;
        s.set(c, f_bias, s.get(c, f_bias, bit / 64) | uint64_t{0xffffff80} << (bit % 64), bit / 64);
      }
    }
    s.set(c, f_act, static_cast<uint8_t>(act));
    s.set(c, f_lane, lane);
    const auto l = bytes(la), w = bytes(wg);
    s.set(c, f_la, l.first, 0);
    s.set(c, f_la, l.second, 1);
    s.set(c, f_max, op_max);
    s.set(c, f_valid, 0xffff);
    uint64_t slots = 0;
    for (int p = 0; p < 16; ++p) slots |= slot_all << (3 * p);
    s.set(c, f_slot, slots);
    s.set(c, f_wgt, w.first, 0);
    s.set(c, f_wgt, w.second, 1);
    s.set(c, f_rd_pe, static_cast<uint64_t>(rd_pe));
    s.set(c, f_rd_slot, static_cast<uint64_t>(rd_slot));
  };
  auto zero = [](int) { return 0; };
  row(0, 0, 0, 0, 0, zero, zero, 0, 0, 0);  // reset
  row(1, 1, 0, 0, 0, zero, zero, 0, 0, 0);  // init
  // Depthwise: PE p < 8 gets act p + 1, PEs 8..15 a zero byte (skipped); act 0x55 ignored.
  row(
      1, 0, 1, 0, 0x55, [](int p) { return p < 8 ? p + 1 : 0; }, [](int) { return 2; }, 1, 0, 0);
  // Broadcast MAC: every PE's slot 1 += 3 * 1; the lane bytes are ignored.
  row(
      1, 0, 0, 0, 3, [](int p) { return p + 100; }, [](int) { return 1; }, 1, 5, 1);
  // Lane max on slot 2 (-128): odd PEs -7, even PEs 0 (no zero skip); wgt 0 ignored.
  row(
      1, 0, 1, 1, 0x55, [](int p) { return p % 2 ? -7 : 0; }, zero, 2, 5, 1);
  const size_t first_read = s.cycles();
  for (int sl = 1; sl <= 2; ++sl)
    for (int p = 0; p < 16; ++p) row(1, 0, 0, 0, 0, zero, zero, 0, p, sl);
  // mac_valid stays high on the read rows, but act 0 and wgt 0 skip every MAC.
  PeArrayBench<Vraman_pe_array> b("b", s);
  std::vector<int32_t> rd;
  std::vector<uint32_t> done;
  b.on_settled = [&](uint64_t) { rd.push_back(static_cast<int32_t>(b.o_rtl.rd_acc.read())); };
  b.on_cycle = [&](uint64_t) { done.push_back(b.o_rtl.mac_done.read()); };
  const Divergence d = run(b);
  EXPECT_FALSE(d.found) << d.message();
  ASSERT_EQ(rd.size(), s.cycles());
  EXPECT_EQ(done[2], 0x00ffu);  // zero lane bytes skip
  EXPECT_EQ(done[3], 0xffffu);
  EXPECT_EQ(done[4], 0xffffu);  // max: no zero skip
  EXPECT_EQ(done[5], 0u);
  EXPECT_EQ(rd[3], 12);  // PE 5 slot 1 in cycle 3: the depthwise MAC of edge 2, 2 * 6
  EXPECT_EQ(rd[4], 15);  // + the broadcast MAC of edge 3
  for (int p = 0; p < 16; ++p) {
    EXPECT_EQ(rd[first_read + p], (p < 8 ? 2 * (p + 1) : 0) + 3) << "PE " << p << " slot 1";
    EXPECT_EQ(rd[first_read + 16 + p], p % 2 ? -7 : 0) << "PE " << p << " slot 2";
  }
}

#if PRUNESIM_BROKEN_RTL
// -DBREAK_CARRY drops the -1 of negative products: the first valid, non-bypass row whose
// product is a negative tie (and whose result is not clamped away) diverges, and nothing before.
// The requantizer is combinational, so the divergence is in the cycle of that row itself
// (compared before its rising edge); invalid rows give 0 in both variants.
TEST(Cosim, BrokenRequantIsCaughtAtFirstNegativeTie) {
  const Stimulus s = requant_stimulus(2, kCycles);
  const size_t f_valid = s.field("in_valid"), f_bypass = s.field("bypass"), f_acc = s.field("acc"),
               f_mult = s.field("mult"), f_shift = s.field("shift"), f_lo = s.field("act_min"),
               f_hi = s.field("act_max");
  uint64_t predicted = 0;
  bool found = false;
  for (size_t c = 0; c < s.cycles() && !found; ++c) {
    if (!s.get(c, f_valid) || s.get(c, f_bypass)) continue;
    const auto acc = static_cast<int32_t>(s.get(c, f_acc));
    const auto m = static_cast<uint32_t>(s.get(c, f_mult));
    const auto sh = static_cast<uint32_t>(s.get(c, f_shift));
    const auto lo = static_cast<uint32_t>(s.get(c, f_lo)),
               hi = static_cast<uint32_t>(s.get(c, f_hi));
    const int8_t good =
        raman::RamanRequantTwin::compute(false, static_cast<uint32_t>(acc), m, sh, lo, hi);
    // The broken rounding: (p + 2^(sh-1)) >> sh for every sign.
    const int64_t p = static_cast<int64_t>(acc) * m;
    const int64_t r = (p + (int64_t{1} << (sh - 1))) >> sh;
    const int8_t bad = hls::clamp8(hls::sat8(r), static_cast<int8_t>(lo), static_cast<int8_t>(hi));
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
#endif  // PRUNESIM_BROKEN_RTL

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

// ---- The port lists against the RTL ----------------------------------------------------------

struct Port {
  std::string dir, name;  // dir: "input" or "output"
  int width;
  bool operator==(const Port& o) const {
    return dir == o.dir && name == o.name && width == o.width;
  }
};
std::ostream& operator<<(std::ostream& os, const Port& p) {
  return os << p.dir << " [" << p.width << "] " << p.name;
}

// A width expression of a port declaration: integers, parameters, + - * and parentheses.
class WidthExpr {
 public:
  WidthExpr(const std::string& s, const std::map<std::string, int64_t>& params)
      : s_(s), params_(params) {}
  int64_t value() {
    const int64_t v = sum();
    skip();
    if (i_ != s_.size()) throw std::invalid_argument("width expression '" + s_ + "'");
    return v;
  }

 private:
  const std::string s_;
  const std::map<std::string, int64_t>& params_;
  size_t i_ = 0;
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  int64_t sum() {
    int64_t v = product();
    for (skip(); i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-'); skip())
      v = s_[i_++] == '+' ? v + product() : v - product();
    return v;
  }
  int64_t product() {
    int64_t v = atom();
    for (skip(); i_ < s_.size() && s_[i_] == '*'; skip()) {
      ++i_;
      v *= atom();
    }
    return v;
  }
  int64_t atom() {
    skip();
    if (i_ < s_.size() && s_[i_] == '(') {
      ++i_;
      const int64_t v = sum();
      skip();
      ++i_;  // ')'
      return v;
    }
    const size_t b = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_'))
      ++i_;
    const std::string t = s_.substr(b, i_ - b);
    if (t.empty()) throw std::invalid_argument("width expression '" + s_ + "'");
    if (std::isdigit(static_cast<unsigned char>(t[0]))) return std::stoll(t);
    return params_.at(t);
  }
};

// The ports of rtl/raman/<module>.sv as its header declares them, with the default parameters.
std::vector<Port> sv_ports(const std::string& module) {
  std::ifstream f(std::string(PRUNESIM_SOURCE_DIR) + "/rtl/raman/" + module + ".sv");
  EXPECT_TRUE(f.good()) << module;
  const std::regex param(R"(parameter\s+int\s+(\w+)\s*=\s*(\d+))");
  const std::regex port(R"(^\s*(input|output)\s+logic\s*(\[([^\]]*):\s*0\s*\])?\s*(\w+))");
  std::map<std::string, int64_t> params;
  std::vector<Port> ports;
  bool in_header = false;
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("module " + module, 0) == 0) in_header = true;
    if (!in_header) continue;
    std::smatch m;
    if (std::regex_search(line, m, param)) params[m[1]] = std::stoll(m[2]);
    if (std::regex_search(line, m, port))
      ports.push_back(
          {m[1], m[4], m[2].matched ? static_cast<int>(WidthExpr(m[3], params).value() + 1) : 1});
    if (line.rfind(");", 0) == 0) break;
  }
  return ports;
}

#define PRUNESIM_PORT(dir, name, width) ports.push_back({port_dir_##dir, #name, width});
#define PRUNESIM_LIST(LIST)                                                                      \
  [] {                                                                                           \
    const std::string port_dir_clock = "input", port_dir_reset = "input", port_dir_in = "input", \
                      port_dir_out = "output", port_dir_comb = "output";                         \
    std::vector<Port> ports;                                                                     \
    LIST(PRUNESIM_PORT)                                                                          \
    return ports;                                                                                \
  }()

// Every block's list in rtl_ports.h is its module's port list: names, order, directions and
// widths (the benches, twins and core netlist are expanded from the lists).
TEST(Cosim, PortListsAreTheRtlModulesPorts) {
  const std::vector<std::pair<std::string, std::vector<Port>>> lists = {
      {"raman_pe", PRUNESIM_LIST(PRUNESIM_PE_PORTS)},
      {"raman_pe_array", PRUNESIM_LIST(PRUNESIM_PE_ARRAY_PORTS)},
      {"raman_decoder", PRUNESIM_LIST(PRUNESIM_DECODER_PORTS)},
      {"raman_requant", PRUNESIM_LIST(PRUNESIM_REQUANT_PORTS)},
      {"raman_act_mem", PRUNESIM_LIST(PRUNESIM_ACT_MEM_PORTS)}};
  for (const auto& [module, list] : lists) {
    const std::vector<Port> rtl = sv_ports(module);
    EXPECT_GT(rtl.size(), 5u) << module;
    EXPECT_EQ(list, rtl) << module;
  }
}
#undef PRUNESIM_LIST
#undef PRUNESIM_PORT

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
