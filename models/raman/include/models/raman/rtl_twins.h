// SystemC twins of the RTL blocks in rtl/raman/: one SC_MODULE per block with the port list the
// Verilated --sc model of that block has (same names; 1 bit -> bool, 2..32 bits -> uint32_t,
// wider -> sc_bv<N>), computing with the hls/ arithmetic. The co-simulation (sim/cosim/) binds
// either implementation to the same signals and compares their outputs every cycle; the port
// contracts are in docs/raman.md "RTL blocks and ports". Twins use the RTL's default parameters.
#pragma once

#include <cstdint>
#include <systemc>
#include <utility>
#include <vector>

#include "hls/arith.h"

namespace prunesim::raman {

// Every RTL block has active-low asynchronous reset and registered outputs: the twins run one
// method on the rising clock edge and on the falling reset edge.
#define PRUNESIM_TWIN_CLOCKED(method) \
  SC_METHOD(method);                  \
  sensitive << clk.pos() << rst_n.neg();

// The state and edge behaviour of one PE, shared by the PE and PE-array twins.
struct PeState {
  static constexpr int kSlots = 8;
  static constexpr int kAccBits = 32;
  int32_t acc[kSlots] = {};

  void reset() {
    for (int32_t& a : acc) a = 0;
  }
  // One rising edge. `bias(s)` gives init_bias slot s. Returns the registered outputs: rd_acc
  // (read before the update: the drain port shows the value the edge found) and mac_done.
  template <class Bias>
  std::pair<uint32_t, bool> edge(bool gate_en, bool init, const Bias& bias, bool mac_valid,
                                 uint32_t mac_slot, uint32_t act, uint32_t wgt, uint32_t rd_slot) {
    const uint32_t rd = rd_slot < kSlots ? static_cast<uint32_t>(acc[rd_slot]) : 0u;
    const auto a = static_cast<int8_t>(act & 0xffu);
    const auto w = static_cast<int8_t>(wgt & 0xffu);
    // Zero skip: a zero operand leaves the accumulator alone; init wins over a MAC.
    const bool fire = gate_en && mac_valid && !init && a != 0 && w != 0;
    if (gate_en && init) {
      for (int s = 0; s < kSlots; ++s) acc[s] = static_cast<int32_t>(bias(s));
    } else if (fire) {
      const uint32_t s = mac_slot & (kSlots - 1);
      acc[s] = hls::mac(acc[s], a, w);
    }
    return {rd, fire};
  }
};

// rtl/raman/raman_pe.sv with ACC_SLOTS = 8, ACC_BITS = 32, SLOT_BITS = 3.
SC_MODULE(RamanPeTwin) {
  static constexpr int kSlots = PeState::kSlots;
  static constexpr int kAccBits = PeState::kAccBits;
  sc_core::sc_in<bool> clk, rst_n, gate_en, init, mac_valid;
  sc_core::sc_in<sc_dt::sc_bv<kSlots * kAccBits>> init_bias;
  sc_core::sc_in<uint32_t> mac_slot, act, wgt, rd_slot;
  sc_core::sc_out<uint32_t> rd_acc;
  sc_core::sc_out<bool> mac_done;

  SC_CTOR(RamanPeTwin) {
    PRUNESIM_TWIN_CLOCKED(tick);
  }

 private:
  PeState pe_;

  void tick() {
    if (!rst_n.read()) {
      pe_.reset();
      rd_acc.write(0);
      mac_done.write(false);
      return;
    }
    const sc_dt::sc_bv<kSlots* kAccBits> b = init_bias.read();
    const auto r = pe_.edge(
        gate_en.read(), init.read(),
        [&b](int s) { return b.range(s * kAccBits + kAccBits - 1, s * kAccBits).to_uint(); },
        mac_valid.read(), mac_slot.read(), act.read(), wgt.read(), rd_slot.read());
    rd_acc.write(r.first);
    mac_done.write(r.second);
  }
};

// rtl/raman/raman_pe_array.sv with P = 16, PE_BITS = 4 and the PE defaults.
SC_MODULE(RamanPeArrayTwin) {
  static constexpr int kPes = 16, kSlots = PeState::kSlots, kAccBits = PeState::kAccBits;
  sc_core::sc_in<bool> clk, rst_n, init;
  sc_core::sc_in<uint32_t> gate_en, act, mac_valid, rd_pe, rd_slot;
  sc_core::sc_in<sc_dt::sc_bv<kPes * kSlots * kAccBits>> init_bias;
  sc_core::sc_in<uint64_t> mac_slot;
  sc_core::sc_in<sc_dt::sc_bv<kPes * 8>> wgt;
  sc_core::sc_out<uint32_t> rd_acc, mac_done;

  SC_CTOR(RamanPeArrayTwin) {
    PRUNESIM_TWIN_CLOCKED(tick);
  }

 private:
  PeState pe_[kPes];

  void tick() {
    if (!rst_n.read()) {
      for (PeState& p : pe_) p.reset();
      rd_acc.write(0);
      mac_done.write(0);
      return;
    }
    const sc_dt::sc_bv<kPes* kSlots* kAccBits> b = init_bias.read();
    const sc_dt::sc_bv<kPes* 8> w = wgt.read();
    const uint64_t slots = mac_slot.read();
    const uint32_t gate = gate_en.read(), valid = mac_valid.read(), sel = rd_pe.read() & 15u;
    uint32_t done = 0, rd = 0;
    for (int p = 0; p < kPes; ++p) {
      const int base = p * kSlots * kAccBits;
      const auto r = pe_[p].edge(
          (gate >> p) & 1u, init.read(),
          [&b, base](int s) {
            return b.range(base + s * kAccBits + kAccBits - 1, base + s * kAccBits).to_uint();
          },
          (valid >> p) & 1u, static_cast<uint32_t>(slots >> (3 * p)) & 7u, act.read(),
          w.range(p * 8 + 7, p * 8).to_uint(), rd_slot.read());
      if (r.second) done |= 1u << p;
      if (static_cast<uint32_t>(p) == sel) rd = r.first;
    }
    rd_acc.write(rd);
    mac_done.write(done);
  }
};

// rtl/raman/raman_requant.sv: hls::requantize_clamp, or clamp8(sat8(acc)) with bypass.
// shift must be in [1, 62] (hls::kMinShift..kMaxShift) on valid cycles: layer programs never
// hold other values, and hls::round_shift is undefined outside that range.
SC_MODULE(RamanRequantTwin) {
  sc_core::sc_in<bool> clk, rst_n, in_valid, bypass;
  sc_core::sc_in<uint32_t> acc, mult, shift, act_min, act_max;
  sc_core::sc_out<bool> out_valid;
  sc_core::sc_out<uint32_t> out_q;

  SC_CTOR(RamanRequantTwin) {
    PRUNESIM_TWIN_CLOCKED(tick);
  }

  // The registered result for one set of inputs (also used by tests to predict outputs).
  static int8_t compute(bool bypass, uint32_t acc, uint32_t mult, uint32_t shift, uint32_t lo,
                        uint32_t hi) {
    const auto a = static_cast<int32_t>(acc);
    const auto l = static_cast<int8_t>(lo & 0xffu), h = static_cast<int8_t>(hi & 0xffu);
    if (bypass) return hls::clamp8(hls::sat8(a), l, h);
    hls::Requant r;
    r.multiplier = static_cast<int32_t>(mult & 0x7fffffffu);
    r.shift = static_cast<int32_t>(shift & 63u);
    return hls::requantize_clamp(a, r, l, h);
  }

 private:
  void tick() {
    if (!rst_n.read()) {
      out_valid.write(false);
      out_q.write(0);
      return;
    }
    out_valid.write(in_valid.read());
    if (in_valid.read()) {
      const int8_t q = compute(bypass.read(), acc.read(), mult.read(), shift.read(), act_min.read(),
                               act_max.read());
      out_q.write(static_cast<uint8_t>(q));
    }
  }
};

// rtl/raman/raman_decoder.sv with CL = 4, SLOTS = 8, SLOT_BITS = 3, CNT_BITS = 4.
SC_MODULE(RamanDecoderTwin) {
  static constexpr int kCl = 4, kSlots = 8, kSlotBits = 3, kCntBits = 4;
  enum Fmt : uint32_t { kDense = 0, kBitmap = 1, kCsr = 2, kPattern = 3 };
  sc_core::sc_in<bool> clk, rst_n, load;
  sc_core::sc_in<uint32_t> fmt, bits, cnt;
  sc_core::sc_in<sc_dt::sc_bv<kCl * kSlots * kSlotBits>> idx;
  sc_core::sc_in<sc_dt::sc_bv<kCl * kSlots * 8>> vals;
  sc_core::sc_out<uint32_t> valid, slot, wgt;
  sc_core::sc_out<bool> last;

  SC_CTOR(RamanDecoderTwin) {
    PRUNESIM_TWIN_CLOCKED(tick);
  }

 private:
  // The group in flight: storage-order slot indices (csr) and weights, and per PE the slots
  // still to yield (mask formats), entries left (csr) and the read pointer.
  uint32_t fmt_ = kDense;
  uint8_t idx_[kCl][kSlots] = {};
  uint8_t vals_[kCl][kSlots] = {};
  uint32_t rem_[kCl] = {}, left_[kCl] = {}, ptr_[kCl] = {};

  void tick() {
    if (!rst_n.read()) {
      fmt_ = kDense;
      for (int p = 0; p < kCl; ++p) {
        rem_[p] = left_[p] = ptr_[p] = 0;
        for (int k = 0; k < kSlots; ++k) idx_[p][k] = vals_[p][k] = 0;
      }
      valid.write(0);
      slot.write(0);
      wgt.write(0);
      last.write(false);
      return;
    }
    if (load.read()) {
      fmt_ = fmt.read() & 3u;
      const sc_dt::sc_bv<kCl* kSlots* kSlotBits> ix = idx.read();
      const sc_dt::sc_bv<kCl* kSlots* 8> vv = vals.read();
      const uint32_t b = bits.read(), c = cnt.read();
      for (int p = 0; p < kCl; ++p) {
        for (int k = 0; k < kSlots; ++k) {
          const int i = p * kSlots + k;
          idx_[p][k] = static_cast<uint8_t>(
              ix.range(i * kSlotBits + kSlotBits - 1, i * kSlotBits).to_uint());
          vals_[p][k] = static_cast<uint8_t>(vv.range(i * 8 + 7, i * 8).to_uint());
        }
        ptr_[p] = 0;
        left_[p] = fmt_ == kCsr ? (c >> (p * kCntBits)) & 0xfu : 0u;
        const uint32_t own = (b >> (p * kSlots)) & 0xffu, shared = b & 0xffu;
        rem_[p] = fmt_ == kCsr ? 0u : fmt_ == kPattern ? shared : own;
      }
    }
    uint32_t v = 0, sl = 0, wg = 0;
    bool more = false;
    for (int p = 0; p < kCl; ++p) {
      bool emit = false;
      uint32_t s = 0;
      if (fmt_ == kCsr) {
        if (left_[p] != 0) {
          emit = true;
          s = idx_[p][ptr_[p] & (kSlots - 1)];
          --left_[p];
        }
      } else if (rem_[p] != 0) {
        emit = true;
        while (!((rem_[p] >> s) & 1u)) ++s;  // storage order: lowest slot first
        rem_[p] &= ~(1u << s);
      }
      if (emit) {
        v |= 1u << p;
        sl |= s << (p * kSlotBits);
        wg |= static_cast<uint32_t>(vals_[p][ptr_[p] & (kSlots - 1)]) << (p * 8);
        ++ptr_[p];
      }
      more = more || rem_[p] != 0 || left_[p] != 0;
    }
    valid.write(v);
    slot.write(sl);
    wgt.write(wg);
    last.write(v != 0 && !more);
  }
};

// rtl/raman/raman_act_mem.sv with BYTES = 16384, ADDR_BITS = 14, LANES = 16, WR_LANES = 4. The
// bytes are not reset (an SRAM); a write on a clock edge happens even while reset is low.
SC_MODULE(RamanActMemTwin) {
  static constexpr int kBytes = 16384, kLanes = 16, kWrLanes = 4;
  sc_core::sc_in<bool> clk, rst_n, rd_en, rd_word, wr_en, guard_en;
  sc_core::sc_in<uint32_t> rd_addr, wr_addr, wr_be, wr_data, ia_low, ia_high;
  sc_core::sc_out<sc_dt::sc_bv<kLanes * 8>> rd_data;
  sc_core::sc_out<bool> overlap_err, port_conflict;

  SC_CTOR(RamanActMemTwin) : mem_(kBytes, 0) {
    PRUNESIM_TWIN_CLOCKED(tick);
  }

 private:
  std::vector<uint8_t> mem_;
  bool overlap_ = false, conflict_ = false;

  void tick() {
    const bool edge = clk.posedge();
    // Read before write: a read in the cycle of a write returns the old bytes.
    sc_dt::sc_bv<kLanes * 8> rd;
    const uint32_t ra = rd_addr.read();
    for (int i = 0; i < kLanes; ++i) {
      const uint32_t a = ra + static_cast<uint32_t>(i);
      rd.range(i * 8 + 7, i * 8) =
          (i == 0 || rd_word.read()) && a < static_cast<uint32_t>(kBytes) ? mem_[a] : 0u;
    }
    bool hit = false;
    const uint32_t wa = wr_addr.read(), be = wr_be.read(), wd = wr_data.read();
    for (int i = 0; i < kWrLanes; ++i) {
      const uint32_t a = wa + static_cast<uint32_t>(i);
      if (!((be >> i) & 1u)) continue;
      if (a >= ia_low.read() && a < ia_high.read()) hit = true;
      if (edge && wr_en.read() && a < static_cast<uint32_t>(kBytes))
        mem_[a] = static_cast<uint8_t>(wd >> (8 * i));
    }
    if (!rst_n.read()) {
      overlap_ = conflict_ = false;
      rd_data.write(sc_dt::sc_bv<kLanes * 8>());
    } else {
      if (rd_en.read()) rd_data.write(rd);
      overlap_ = overlap_ || (wr_en.read() && guard_en.read() && hit);
      conflict_ = conflict_ || (wr_en.read() && rd_en.read());
    }
    overlap_err.write(overlap_);
    port_conflict.write(conflict_);
  }
};

#undef PRUNESIM_TWIN_CLOCKED

}  // namespace prunesim::raman
